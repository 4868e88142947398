"""`gk.log` through wasmtime's unchecked C API: the hot path of a plugin that logs a lot.

The wasmtime package calls a Python host function through a trampoline that builds a
`Caller` and a `Val` per argument, several times the cost of the call itself; a
plugin logging in a loop spends its time there. The C API's unchecked functions hand
the three i32s over raw, and the message is copied straight out of linear memory.

This module is the one place goatui uses the package's private parts (`_ffi`, and the
`_memory` handle of a `Memory`); wasmtime is pinned to one major version and
tests/test_wasm_runtime.py fails loudly the day they change. When they are missing,
`define_log` answers None and the caller defines gk.log the public way.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import wasmtime

from goatui.core.backends.wasm import abi

#: (level, the message's first bytes or None when it is outside memory, its full length)
LogSink = Callable[[int, bytes | None, int], None]
_MASK = 0xFFFFFFFF


def define_log(
    linker: wasmtime.Linker,
    memory: Callable[[], wasmtime.Memory | None],
    sink: LogSink,
    max_bytes: int,
) -> Any:
    """Define gk.log on the linker; returns what must be kept alive with it, or None."""
    try:
        from wasmtime import _ffi as ffi

        callback_type = ffi.wasmtime_func_unchecked_callback_t
        define = ffi.wasmtime_linker_define_func_unchecked
        caller_context = ffi.wasmtime_caller_context
        data = ffi.wasmtime_memory_data
        data_size = ffi.wasmtime_memory_data_size
    except (ImportError, AttributeError):
        return None

    def log(env: Any, caller: Any, args: Any, count: int) -> int:
        try:
            level, ptr, length = args[0].i32, args[1].i32 & _MASK, args[2].i32 & _MASK
            found = memory() or _caller_memory(caller)
            if found is None:
                return 0
            context = caller_context(caller)
            handle = ctypes.byref(found._memory)
            kept = min(length, max_bytes)
            if ptr + kept > data_size(context, handle):
                sink(level, None, length)
                return 0
            base = ctypes.cast(data(context, handle), ctypes.c_void_p).value or 0
            sink(level, ctypes.string_at(base + ptr, kept), length)
        except Exception:  # nothing may unwind into wasm
            pass
        return 0

    callback = callback_type(log)
    i32 = wasmtime.ValType.i32()
    signature = wasmtime.FuncType([i32, i32, i32], [])
    module, name = abi.HOST_MODULE.encode(), abi.LOG.encode()
    error = define(
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
        return None
    return (callback, signature)


def _caller_memory(caller: Any) -> wasmtime.Memory | None:
    """The calling instance's memory (during instantiation, before its exports are known)."""
    wrapped = wasmtime.Caller(caller)
    try:
        found = wrapped.get(abi.MEMORY)
        return found if isinstance(found, wasmtime.Memory) else None
    finally:
        wrapped._invalidate()
