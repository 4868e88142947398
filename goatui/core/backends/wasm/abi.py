"""GoatFlow's WASM plugin ABI, as GoatFlow's runtime defines it (no wasmtime here).

Every pointer and length is an i32; a *packed* value is an i64 `(ptr << 32) | len`.
A plugin exports `memory`, `gk_register() -> i64`, `gk_call(fn_ptr, fn_len, args_ptr,
args_len) -> i64`, `gk_malloc(size) -> ptr` and optionally `gk_free(ptr)`; the host
provides `gk.host_call(fn_ptr, fn_len, args_ptr, args_len) -> i64` and
`gk.log(level, msg_ptr, msg_len)`. A packed 0 (or a zero length) is an empty answer.
"""

from __future__ import annotations

from dataclasses import dataclass

#: GoatFlow's default memory limit: 256 pages of 64 KiB (16 MiB).
PAGE_BYTES = 65_536
DEFAULT_MEMORY_PAGES = 256
DEFAULT_MEMORY_MB = DEFAULT_MEMORY_PAGES * PAGE_BYTES // (1024 * 1024)

HOST_MODULE = "gk"
HOST_CALL = "host_call"
LOG = "log"

REGISTER = "gk_register"
CALL = "gk_call"
MALLOC = "gk_malloc"
FREE = "gk_free"
MEMORY = "memory"
REACTOR_INIT = "_initialize"
COMMAND_START = "_start"

_I32 = "i32"
_I64 = "i64"


@dataclass(frozen=True)
class FunctionShape:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


#: The exports a plugin must have, and their signatures.
REQUIRED_EXPORTS: dict[str, FunctionShape] = {
    REGISTER: FunctionShape((), (_I64,)),
    CALL: FunctionShape((_I32, _I32, _I32, _I32), (_I64,)),
    MALLOC: FunctionShape((_I32,), (_I32,)),
}
OPTIONAL_EXPORTS: dict[str, FunctionShape] = {FREE: FunctionShape((_I32,), ())}
#: What the host provides in module `gk`.
HOST_IMPORTS: dict[str, FunctionShape] = {
    HOST_CALL: FunctionShape((_I32, _I32, _I32, _I32), (_I64,)),
    LOG: FunctionShape((_I32, _I32, _I32), ()),
}

#: gk.log levels as GoatFlow reads them; anything else is info.
LOG_LEVELS = {0: "debug", 1: "info", 2: "warn", 3: "error"}


def log_level(level: int) -> str:
    return LOG_LEVELS.get(level, "info")


def pack(ptr: int, length: int) -> int:
    """A packed i64 as the plugin returns it (as a signed wasm i64)."""
    value = ((ptr & 0xFFFFFFFF) << 32) | (length & 0xFFFFFFFF)
    return value - (1 << 64) if value >= 1 << 63 else value


def unpack(packed: int) -> tuple[int, int]:
    """(ptr, len) of a packed i64; wasm hands it over signed."""
    value = packed & 0xFFFFFFFFFFFFFFFF
    return value >> 32, value & 0xFFFFFFFF


def export_problems(functions: dict[str, FunctionShape], has_memory: bool) -> list[str]:
    """Why a module cannot be a GoatFlow plugin, one reason each; empty when it can."""
    problems: list[str] = []
    for name, shape in REQUIRED_EXPORTS.items():
        found = functions.get(name)
        if found is None:
            problems.append(f"it has no {name} export")
        elif found != shape:
            problems.append(f"{name} is {found}, not {shape}")
    free = functions.get(FREE)
    if free is not None and free != OPTIONAL_EXPORTS[FREE]:
        problems.append(f"{FREE} is {free}, not {OPTIONAL_EXPORTS[FREE]}")
    if not has_memory:
        problems.append(f"it exports no {MEMORY}")
    return problems
