"""One WASM plugin: a compiled module and its live instance, spoken to through the ABI.

Loading follows wazero, which GoatFlow uses: instantiate with WASI preview 1 (no args,
no environment, no files), run `_initialize` if the module exports it, else `_start`
(a `proc_exit(0)` there is a normal end: TinyGo's runtime exits that way), then
`gk_register` for the manifest. Every step runs under the call deadline, with the
memory limit (GoatFlow's 256 pages by default) set on the store.

A call that traps or runs past its deadline leaves the instance in an unknown state
(a lock held, a heap half updated), so the next call starts a fresh instance of the
same compiled module first; the plugin loses its in-memory state, never its answers.

Not thread-safe: the runner gives each plugin one thread.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import wasmtime

from goatui.core.backends.wasm import abi, fastabi
from goatui.core.backends.wasm.engine import WasmEngine
from goatui.core.backends.wasm.hostcalls import CallScope, HostCalls, HostServices, LogLine
from goatui.core.backends.wasm.output import OutputPipes
from goatui.core.calls.results import format_size
from goatui.core.errors import GoatError, RemoteError, ResultTooLarge, TimedOut, UsageError

MiB = 1024 * 1024
DEFAULT_MAX_RESULT_BYTES = 64 * MiB
#: Output lines kept while a module starts (they are logged once it has its name).
HELD_OUTPUT_LINES = 1000
#: The longest gk.log message kept; a longer one is cut (and said so).
MAX_LOG_BYTES = 16 * 1024
_WASI = "wasi_snapshot_preview1"


class NotAPlugin(UsageError):
    """The file is not a GoatFlow WASM plugin (nothing of it was called)."""


class PluginTrapped(RemoteError):
    """The plugin trapped (unreachable, out-of-bounds...) or exited with an error."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="TRAP")


class PluginOutOfMemory(RemoteError):
    """gk_malloc returned 0: the plugin is at its memory limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="RESOURCE_EXHAUSTED")


@dataclass(frozen=True)
class Served:
    """A call's answer and what the plugin did while serving it."""

    data: bytes
    duration_ms: float
    scope: CallScope


class PluginInstance:
    """A plugin file, compiled once, instantiated as often as a fault requires."""

    def __init__(
        self,
        path: Path,
        engine: WasmEngine,
        services: HostServices,
        *,
        memory_mb: int = abi.DEFAULT_MEMORY_MB,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        output_dir: Path | None = None,
    ) -> None:
        self.path = path
        self.wasm = engine
        self.memory_bytes = memory_mb * MiB
        self.max_result_bytes = max_result_bytes
        self.host = HostCalls(services, path.stem.removesuffix(".wasm"))
        self.manifest: dict[str, Any] = {}
        #: How many instances were started (a fault makes the next call start one).
        self.instantiations = 0
        self._output_dir = output_dir
        # Output read while the module starts waits for the name gk_register gives it.
        self._output_lock = threading.Lock()
        self._held: list[LogLine] | None = None
        self._pipes: OutputPipes | None = None
        self._module: wasmtime.Module | None = None
        self._linker: wasmtime.Linker | None = None
        self._store: wasmtime.Store | None = None
        self._memory: fastabi.Memory | None = None
        self._exports: dict[str, fastabi.Export] = {}
        self._scope = CallScope("", 0.0, 0.0)
        self._needs_instance = True
        self._fast_log: object | None = None

    @property
    def name(self) -> str:
        """The name gk_register gave, else the file's."""
        return self.host.plugin

    # -- loading -------------------------------------------------------------------------

    def load(self, timeout: float) -> None:
        """Compile (or fetch from the cache) and start the plugin. Raises GoatError."""
        deadline = time.monotonic() + timeout
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise UsageError(
                f"cannot read {self.path}: {exc.strerror or exc}", "check the --wasm path"
            ) from None
        try:
            module = wasmtime.Module(self.wasm.engine, data)
        except wasmtime.WasmtimeError as exc:
            raise NotAPlugin(
                f"{self.path.name} is not a WebAssembly module: {_first_line(exc)}"
            ) from None
        _check_shape(module, self.path.name)
        self._module = module
        self._linker = self._make_linker()
        self._instantiate(deadline, timeout)

    def _make_linker(self) -> wasmtime.Linker:
        linker = wasmtime.Linker(self.wasm.engine)
        linker.define_wasi()
        i32, i64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()
        linker.define_func(
            abi.HOST_MODULE,
            abi.HOST_CALL,
            wasmtime.FuncType([i32, i32, i32, i32], [i64]),
            self._host_call,
            access_caller=True,
        )
        # gk.log is the hot path of a chatty plugin: through the C API when possible.
        self._fast_log = fastabi.define_log(
            linker, self._caller_memory, self._log_message, MAX_LOG_BYTES
        )
        if self._fast_log is None:
            linker.define_func(
                abi.HOST_MODULE,
                abi.LOG,
                wasmtime.FuncType([i32, i32, i32], []),
                self._log,
                access_caller=True,
            )
        return linker

    @property
    def fast_log(self) -> bool:
        """Whether gk.log goes through wasmtime's C API (see fastabi)."""
        return self._fast_log is not None

    @property
    def fast_calls(self) -> bool:
        """Whether calls and memory go through wasmtime's C API (see fastabi)."""
        return isinstance(self._exports.get(abi.CALL), fastabi.RawExport)

    def _wasi(self) -> wasmtime.WasiConfig:
        wasi = wasmtime.WasiConfig()
        if self._output_dir is not None and self._pipes is None:
            try:
                self._pipes = OutputPipes(self._output_dir, _safe(self.path.stem), self._output)
            except OSError:
                # The private dir is gone (goatui is closing): the output goes nowhere,
                # as wazero's default has it.
                self._output_dir = None
        if self._pipes is not None:
            wasi.stdout_file = str(self._pipes.paths["stdout"])
            wasi.stderr_file = str(self._pipes.paths["stderr"])
        return wasi

    def _instantiate(self, deadline: float, timeout: float) -> None:
        assert self._module is not None and self._linker is not None
        self._close_store()
        store = wasmtime.Store(self.wasm.engine)
        store.set_limits(memory_size=self.memory_bytes)
        store.set_wasi(self._wasi())
        self._store = store
        self._needs_instance = True
        with self._output_lock:
            self._held = []
        try:
            self._start_instance(store, deadline, timeout)
        finally:
            with self._output_lock:
                held, self._held = self._held or [], None
            for line in held:
                self.host.services.log(replace(line, plugin=self.host.plugin))

    def _start_instance(self, store: wasmtime.Store, deadline: float, timeout: float) -> None:
        assert self._module is not None and self._linker is not None
        scope = CallScope("", deadline, timeout)
        with self._running(scope, "starting the module"):
            try:
                instance = self._linker.instantiate(store, self._module)
            except wasmtime.WasmtimeError as exc:
                if isinstance(exc, wasmtime.Trap):
                    raise
                hint = "raise wasm_memory_mb" if "exceeds memory limits" in str(exc) else ""
                raise NotAPlugin(
                    f"{self.path.name} cannot start: {_first_line(exc)}", hint
                ) from None
            exports = instance.exports(store)
            memory = exports[abi.MEMORY]
            assert isinstance(memory, wasmtime.Memory)
            self._memory = fastabi.memory_of(store, memory, fixed=self.wasm.fixed_memory)
            # Their signatures were checked against the ABI when the module loaded.
            shapes = {**abi.REQUIRED_EXPORTS, **abi.OPTIONAL_EXPORTS}
            self._exports = {
                name: fastabi.bind_export(
                    store, func, len(shape.params), shape.results[0] if shape.results else None
                )
                for name, shape in shapes.items()
                if isinstance(func := exports.get(name), wasmtime.Func)
            }
            init = exports.get(abi.REACTOR_INIT) or exports.get(abi.COMMAND_START)
            if isinstance(init, wasmtime.Func):
                try:
                    init(store)
                except wasmtime.ExitTrap as exc:
                    if exc.code != 0:
                        raise PluginTrapped(
                            f"the module exited with code {exc.code} while starting"
                        ) from None
            packed = self._exports[abi.REGISTER]()
            document = self._read_packed(packed, "gk_register")
        self.manifest = _parse_manifest(document, self.path.name)
        name = self.manifest.get("name")
        if isinstance(name, str) and name.strip():
            self.host.plugin = name
        i18n = self.manifest.get("i18n")
        self.host.i18n = i18n if isinstance(i18n, dict) else {}
        self.instantiations += 1
        self._needs_instance = False

    # -- calling -------------------------------------------------------------------------

    def call(self, function: str, args: bytes, timeout: float, deadline: float) -> Served:
        """Call a handler: the plugin's answer, raw. Raises GoatError."""
        if self._module is None:
            raise UsageError(f"{self.path.name} is not loaded")
        if self._needs_instance:
            self._instantiate(deadline, timeout)
        store = self._store
        assert store is not None
        scope = CallScope(function, deadline, timeout)
        started = time.perf_counter()
        with self._running(scope, f"calling {function}"):
            malloc_free = self._exports.get(abi.FREE)
            name_ptr, name_len = self._write(function.encode(), "the function name")
            args_ptr, args_len = self._write(args, "the args") if args else (0, 0)
            packed = self._exports[abi.CALL](name_ptr, name_len, args_ptr, args_len)
            data = self._read_packed(packed, function)
            if malloc_free is not None:
                for ptr in (name_ptr, args_ptr, abi.unpack(packed)[0]):
                    if ptr:
                        malloc_free(ptr)
        return Served(data, (time.perf_counter() - started) * 1000, scope)

    def _write(self, data: bytes, what: str) -> tuple[int, int]:
        """Copy data into the plugin's memory with its gk_malloc."""
        assert self._memory is not None
        ptr = self._exports[abi.MALLOC](len(data)) & 0xFFFFFFFF
        if ptr == 0:
            raise PluginOutOfMemory(
                f"the plugin could not allocate {len(data):,} bytes for {what} "
                f"(gk_malloc returned 0; memory limit {self.memory_bytes // MiB} MiB)"
            )
        if not self._memory.write(ptr, data):
            raise PluginTrapped(f"gk_malloc returned {ptr:#x}, outside the plugin's memory")
        return ptr, len(data)

    def _read_packed(self, packed: int, what: str) -> bytes:
        assert self._memory is not None
        ptr, length = abi.unpack(packed)
        if ptr == 0 or length == 0:
            return b""
        if length > self.max_result_bytes:
            raise ResultTooLarge(
                f"{what}: the result ({format_size(length)}) is larger than the "
                f"{format_size(self.max_result_bytes)} limit",
                code="RESOURCE_EXHAUSTED",
                hint="raise it with --max-message-mb",
            )
        data = self._memory.read(ptr, length)
        if data is None:
            raise PluginTrapped(
                f"{what} returned {length:,} bytes at {ptr:#x}, outside the plugin's memory"
            )
        return data

    @contextlib.contextmanager
    def _running(self, scope: CallScope, what: str) -> Iterator[None]:
        """Run wasm under the scope's deadline; turn every wasm fault into a GoatError."""
        store = self._store
        assert store is not None
        ticker = self.wasm.ticker
        ticker.set_deadline(store, scope.remaining())
        self._scope = scope
        ticker.enter()
        try:
            yield
        except GoatError:
            self._needs_instance = True
            raise
        except wasmtime.ExitTrap as exc:
            self._needs_instance = True
            raise PluginTrapped(f"the plugin exited with code {exc.code} while {what}") from None
        except wasmtime.Trap as exc:
            self._needs_instance = True
            if exc.trap_code == wasmtime.TrapCode.INTERRUPT:
                raise TimedOut(f"{what}: timed out after {scope.timeout:g}s") from None
            raise PluginTrapped(f"trap while {what}: {trap_message(exc)}") from None
        except wasmtime.WasmtimeError as exc:
            self._needs_instance = True
            raise PluginTrapped(f"error while {what}: {_first_line(exc)}") from None
        finally:
            ticker.leave()
            self._scope = CallScope("", 0.0, 0.0)

    # -- the host side of the ABI -------------------------------------------------------

    def _host_call(
        self, caller: wasmtime.Caller, fn_ptr: int, fn_len: int, a_ptr: int, a_len: int
    ) -> int:
        scope = self._scope
        # wasm's i32 pointers and lengths are unsigned; the public API hands them signed.
        fn_ptr, fn_len, a_ptr, a_len = (v & 0xFFFFFFFF for v in (fn_ptr, fn_len, a_ptr, a_len))
        memory = self._memory or self._temporary_memory(caller.get(abi.MEMORY))
        fn_raw = memory.read(fn_ptr, fn_len) if memory is not None else None
        args = memory.read(a_ptr, a_len) if memory is not None and a_len else b""
        if memory is None or fn_raw is None or args is None:
            self.host.log(
                scope, "error", "host_call failed: its arguments are outside the plugin's memory"
            )
            return 0
        fn = fn_raw.decode("utf-8", "replace")
        answer = self.host.call(fn, args, scope)
        if answer is None:
            return 0
        malloc = self._exports.get(abi.MALLOC)
        if malloc is None:  # during instantiation: the caller's own
            found = caller.get(abi.MALLOC)
            assert isinstance(found, wasmtime.Func)
            malloc = functools.partial(found, caller)
        # An empty answer still gets a pointer: a packed 0 would mean the call failed.
        try:
            ptr = malloc(max(len(answer), 1)) & 0xFFFFFFFF
        except wasmtime.WasmtimeError as exc:
            # Its own gk_malloc trapped (or its deadline passed in it). Raising would go
            # through wasmtime's one exception slot shared by every thread: answer 0, and
            # start the next call on a fresh instance. A deadline ends the call anyway.
            self._needs_instance = True
            cause = trap_message(exc) if isinstance(exc, wasmtime.Trap) else _first_line(exc)
            why = f"the plugin's gk_malloc failed: {cause}"
            self.host.log(scope, "error", f"host_call {fn} failed: {why}")
            return 0
        if ptr == 0 or not memory.write(ptr, answer):
            why = f"the plugin could not allocate {len(answer):,} bytes for the answer"
            self.host.log(scope, "error", f"host_call {fn} failed: {why}")
            return 0
        return abi.pack(ptr, len(answer))

    def _log(self, caller: wasmtime.Caller, level: int, ptr: int, length: int) -> None:
        """gk.log the public way (when fastabi cannot be used)."""
        ptr, length = ptr & 0xFFFFFFFF, length & 0xFFFFFFFF  # unsigned, as fastabi reads them
        memory = self._memory or self._temporary_memory(caller.get(abi.MEMORY))
        raw = memory.read(ptr, min(length, MAX_LOG_BYTES)) if memory is not None else None
        self._log_message(level, raw, length)

    def _caller_memory(self, caller: Any) -> fastabi.Memory | None:
        """The memory of the instance calling gk.log (caller: wasmtime's raw pointer)."""
        return self._memory or self._temporary_memory(fastabi.caller_memory(caller))

    def _temporary_memory(self, memory: object) -> fastabi.Memory | None:
        """The calling instance's memory while it starts (a start section): its exports,
        and so self._memory, are not known yet."""
        if not isinstance(memory, wasmtime.Memory) or self._store is None:
            return None
        return fastabi.memory_of(self._store, memory, fixed=False)

    def _log_message(self, level: int, raw: bytes | None, length: int) -> None:
        """One gk.log: raw is the message's first MAX_LOG_BYTES, None when outside memory."""
        scope = self._scope
        if raw is None:
            self.host.log(scope, "warn", "gk.log with a message outside the plugin's memory")
            return
        message = raw.decode("utf-8", errors="replace")
        if length > len(raw):
            message += f" … ({length - len(raw):,} more bytes cut)"
        self.host.log(scope, abi.log_level(level), message)

    def _output(self, stream: str, line: str) -> None:
        said = LogLine(self.host.plugin, stream, line, self._scope.log_fields, time.time())
        with self._output_lock:
            if self._held is not None:
                if len(self._held) < HELD_OUTPUT_LINES:  # bounded: a flood waits for nobody
                    self._held.append(said)
                return
        self.host.services.log(said)

    # -- the end -------------------------------------------------------------------------

    def _close_store(self) -> None:
        if self._store is not None:
            if self._memory is not None:
                self._memory.release()
            self._memory = None
            self._exports = {}
            self._store.close()
            self._store = None

    def close(self) -> None:
        self._close_store()
        if self._pipes is not None:
            self._pipes.close()
            self._pipes = None


# -- checks and messages ---------------------------------------------------------------


def _shape(ty: wasmtime.FuncType) -> abi.FunctionShape:
    return abi.FunctionShape(tuple(str(t) for t in ty.params), tuple(str(t) for t in ty.results))


def _check_shape(module: wasmtime.Module, file: str) -> None:
    """Refuse, with every reason at once, a module that cannot be a GoatFlow plugin."""
    functions: dict[str, abi.FunctionShape] = {}
    has_memory = False
    for export in module.exports:
        if isinstance(export.type, wasmtime.FuncType):
            functions[export.name] = _shape(export.type)
        elif export.name == abi.MEMORY and isinstance(export.type, wasmtime.MemoryType):
            has_memory = True
    problems = abi.export_problems(functions, has_memory)
    for item in module.imports:
        if item.module == _WASI:
            continue
        expected = abi.HOST_IMPORTS.get(item.name or "") if item.module == abi.HOST_MODULE else None
        if expected is None:
            problems.append(
                f"it imports {item.module}.{item.name}, which GoatFlow does not provide"
            )
        elif not isinstance(item.type, wasmtime.FuncType) or _shape(item.type) != expected:
            problems.append(f"it imports {item.module}.{item.name} with the wrong signature")
    if problems:
        raise NotAPlugin(f"{file} is not a GoatFlow plugin: {'; '.join(problems)}")


def _parse_manifest(document: bytes, file: str) -> dict[str, Any]:
    try:
        value = json.loads(document) if document else None
    except (ValueError, RecursionError) as exc:
        raise NotAPlugin(f"{file}: gk_register did not return JSON: {exc}") from None
    if not isinstance(value, dict):
        what = "nothing" if value is None and not document else "JSON that is not an object"
        raise NotAPlugin(f"{file}: gk_register returned {what}, not a JSON manifest")
    return value


def trap_message(trap: wasmtime.Trap) -> str:
    """One line from wasmtime's report: the causes, innermost last, and where."""
    text = trap.message
    _, _, causes = text.partition("Caused by:")
    reasons = [line.strip() for line in causes.strip().splitlines() if line.strip()]
    # Numbered causes ("0: memory fault at...", "1: wasm trap: ...") read best reversed.
    reasons = [reason.split(": ", 1)[1] if reason[:1].isdigit() else reason for reason in reasons]
    message = "; ".join(reversed(reasons)) or _first_line(trap)
    names = [frame.func_name for frame in trap.frames if frame.func_name]
    return f"{message} (in {names[0]})" if names else message


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:40] or "plugin"
