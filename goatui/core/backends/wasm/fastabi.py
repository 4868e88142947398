"""The ABI's hot paths through wasmtime's C API: calls into the plugin, its memory, gk.log.

The wasmtime package's public API costs several times what the work does: each
`Func.__call__` looks the function's type up and converts every argument and result
through `Val` objects; each `Memory.read`/`write` asks for the memory's address and size
again; each host function call builds a `Caller` and a `Val` per argument. A plugin
call (gk_malloc twice, gk_call, gk_free three times, two writes and a read) took ~120 µs
that way, a gk.log ~3.5 µs. Here:
- `RawExport` calls an export with `wasmtime_func_call_unchecked`, the raw i32/i64 in one
  reused buffer. Unchecked means the caller vouches for the signature: the exports used
  are checked against the ABI when the module loads (`instance._check_shape`).
- `LinearMemory` reads and writes the plugin's memory in place, through a memoryview of
  it, asking wasmtime for its size again only when an access goes past the size known
  (memory only grows). The engine is set so memories never move (`memory_may_move`,
  see engine.py); where it cannot be, the size is asked at every access, since a memory
  moves only when it grows.
- `define_log` defines gk.log as an unchecked host function taking the raw arguments.

This module is the one place goatui uses the package's private parts (`_ffi`, the
`_func` and `_memory` handles, `Store._context`, the exception slot of `_func`);
wasmtime is pinned to one major version and tests/test_private_internals.py fails
loudly the day they change. When they are missing, `available()` is False and the
instance uses the public API.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from typing import Any

import wasmtime

from goatui.core.backends.wasm import abi

#: (level, the message's first bytes or None when it is outside memory, its full length)
LogSink = Callable[[int, bytes | None, int], None]
_MASK = 0xFFFFFFFF

try:
    from wasmtime import _ffi as ffi
    from wasmtime import _func as public_func

    _call_unchecked = ffi.wasmtime_func_call_unchecked
    _memory_data = ffi.wasmtime_memory_data
    _memory_size = ffi.wasmtime_memory_data_size
    _define_unchecked = ffi.wasmtime_linker_define_func_unchecked
    _callback_type = ffi.wasmtime_func_unchecked_callback_t
    _RAW = ffi.wasmtime_val_raw_t
    _TRAP = ffi.wasm_trap_t
    _ERROR = ffi.wasmtime_error_t
    _raise_host_exception = public_func.maybe_raise_last_exn
    _AVAILABLE = ctypes.sizeof(_RAW) == 16
except (ImportError, AttributeError):  # pragma: no cover - the canary test says which
    _AVAILABLE = False

# gk.log's arguments as raw words: (env, caller, args_and_results, count) -> trap.
_LOG_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t
)
# Three wasmtime_val_raw_t (16 bytes each) seen as i32s: the arguments at 0, 4 and 8.
_ARGS3 = ctypes.c_int32 * 12


def available() -> bool:
    """Whether this wasmtime package has the C API parts used here."""
    return _AVAILABLE


def store_context(store: wasmtime.Store) -> Any:
    return store._context()


#: An export bound to its store: i32/i64 arguments in, its result out (None for none),
#: as the public `Func.__call__` has them (signed).
Export = Callable[..., Any]


def bind_export(
    store: wasmtime.Store, func: wasmtime.Func, params: int, result: str | None
) -> Export:
    """The export as a plain callable: through the C API when available, else public.
    `result` is "i32", "i64" or None; the caller has checked the export's signature."""
    if _AVAILABLE:
        return RawExport(store, func, params, result)
    return functools.partial(func, store)


class RawExport:
    """One exported function of an instance, called with raw values (see the module doc).

    Not thread-safe (its buffer is reused): the plugin's own thread calls it."""

    def __init__(
        self, store: wasmtime.Store, func: wasmtime.Func, params: int, result: str | None
    ) -> None:
        slots = max(params, 1)
        self._context = store_context(store)
        self._func = ctypes.byref(func._func)
        self._raw = (_RAW * slots)()
        self._slots = slots
        # The same 16-byte values seen as i32s and as i64s (each member at offset 0).
        self._i32 = (ctypes.c_int32 * (4 * slots)).from_buffer(self._raw)
        self._i64 = (ctypes.c_int64 * (2 * slots)).from_buffer(self._raw)
        views: dict[str, ctypes.Array[Any]] = {"i32": self._i32, "i64": self._i64}
        self._result = views.get(result or "")
        self._trap = ctypes.POINTER(_TRAP)()
        self._trap_ref = ctypes.byref(self._trap)

    def __call__(self, *args: int) -> int | None:
        # A host function may call this export again while it runs (gk.host_call's
        # answer goes through gk_malloc): wasmtime reads the arguments when a call
        # starts and writes results and traps when it ends, and each call takes its own
        # trap out at once, so nested calls share the buffer and the trap slot safely.
        i32 = self._i32
        for index, value in enumerate(args):
            i32[4 * index] = value  # ctypes keeps the low 32 bits, as wasm's i32 does
        error = _call_unchecked(self._context, self._func, self._raw, self._slots, self._trap_ref)
        if error:
            failure = wasmtime.WasmtimeError._from_ptr(error)  # an ExitTrap for proc_exit
            _raise_host_exception()  # a host function's own exception goes first
            raise failure
        trap = self._trap
        if trap:
            trapped = wasmtime.Trap._from_ptr(ctypes.cast(trap, ctypes.POINTER(_TRAP)))
            ctypes.memset(ctypes.addressof(trap), 0, ctypes.sizeof(trap))  # the slot: NULL
            _raise_host_exception()
            raise trapped
        return None if self._result is None else int(self._result[0])


class PublicMemory:
    """A plugin's linear memory through the public API (when the C API cannot be used)."""

    def __init__(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        self.memory = memory
        self._store = store

    def fits(self, ptr: int, length: int) -> bool:
        # Never negative: a Python slice would count it from the end.
        return ptr >= 0 and length >= 0 and ptr + length <= self.memory.data_len(self._store)

    def read(self, ptr: int, length: int) -> bytes | None:
        if not self.fits(ptr, length):
            return None
        return bytes(self.memory.read(self._store, ptr, ptr + length))

    def write(self, ptr: int, data: bytes) -> bool:
        if not self.fits(ptr, len(data)):
            return False
        if data:
            self.memory.write(self._store, data, ptr)
        return True

    def release(self) -> None:
        pass


class LinearMemory:
    """A plugin's linear memory, read and written in place (see the module doc).

    Valid while its store lives: the instance releases it before closing the store."""

    def __init__(self, store: wasmtime.Store, memory: wasmtime.Memory, *, fixed: bool) -> None:
        self.memory = memory
        self._context = store_context(store)
        self._handle = ctypes.byref(memory._memory)
        self._fixed = fixed
        self._view = memoryview(b"")
        self.size = -1
        self._refresh()

    def _refresh(self) -> int:
        if self._context is None:
            return 0  # released
        size = int(_memory_size(self._context, self._handle))
        if size != self.size:
            # Grown (or first seen): where a memory may move, it moved only if it grew.
            base = ctypes.cast(_memory_data(self._context, self._handle), ctypes.c_void_p).value
            if size and base:
                self._view = memoryview((ctypes.c_char * size).from_address(base)).cast("B")
                self.size = size
            else:
                self._view, self.size = memoryview(b""), 0
        return self.size

    def fits(self, ptr: int, length: int) -> bool:
        """Whether [ptr, ptr + length) is inside the memory now."""
        if ptr < 0 or length < 0:
            return False  # a Python slice would count it from the end
        end = ptr + length
        if self._fixed and end <= self.size:
            return True
        return end <= self._refresh()

    def read(self, ptr: int, length: int) -> bytes | None:
        """A copy of [ptr, ptr + length), or None when that is outside the memory."""
        if not self.fits(ptr, length):
            return None
        return self._view[ptr : ptr + length].tobytes()

    def write(self, ptr: int, data: bytes) -> bool:
        """Copy data to ptr; False (nothing written) when it does not fit."""
        if not self.fits(ptr, len(data)):
            return False
        self._view[ptr : ptr + len(data)] = data
        return True

    def release(self) -> None:
        """The store is closing: nothing may be read through this any more."""
        self._view, self.size, self._context = memoryview(b""), 0, None


Memory = LinearMemory | PublicMemory


def memory_of(store: wasmtime.Store, memory: wasmtime.Memory, *, fixed: bool) -> Memory:
    if _AVAILABLE:
        return LinearMemory(store, memory, fixed=fixed)
    return PublicMemory(store, memory)


def define_log(
    linker: wasmtime.Linker,
    memory: Callable[[Any], Memory | None],
    sink: LogSink,
    max_bytes: int,
) -> Any:
    """Define gk.log on the linker; returns what must be kept alive with it, or None.

    `memory(caller)` is the calling instance's memory (the caller is the raw pointer)."""
    if not _AVAILABLE:
        return None

    def log(env: Any, caller: Any, args: Any, count: int) -> int:
        try:
            raw = _ARGS3.from_address(args)
            level, ptr, length = raw[0], raw[4] & _MASK, raw[8] & _MASK
            window = memory(caller)
            if window is not None:
                sink(level, window.read(ptr, min(length, max_bytes)), length)
        except Exception:  # nothing may unwind into wasm
            pass
        return 0

    keep = _LOG_CALLBACK(log)
    callback = ctypes.cast(keep, _callback_type)
    i32 = wasmtime.ValType.i32()
    signature = wasmtime.FuncType([i32, i32, i32], [])
    module, name = abi.HOST_MODULE.encode(), abi.LOG.encode()
    error = _define_unchecked(
        linker.ptr(),
        ctypes.create_string_buffer(module),
        len(module),
        ctypes.create_string_buffer(name),
        len(name),
        signature.ptr(),
        callback,
        None,
        ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
    )
    if error:
        wasmtime.WasmtimeError._from_ptr(error)  # freed with it
        return None
    return (keep, callback, signature)


def caller_memory(caller: Any) -> wasmtime.Memory | None:
    """The calling instance's memory, from a raw caller pointer (during instantiation,
    before its exports are known)."""
    wrapped = wasmtime.Caller(ctypes.cast(caller, ctypes.POINTER(ffi.wasmtime_caller_t)))
    try:
        found = wrapped.get(abi.MEMORY)
        return found if isinstance(found, wasmtime.Memory) else None
    finally:
        wrapped._invalidate()
