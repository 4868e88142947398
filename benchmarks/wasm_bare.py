"""The baseline of the WASM benchmarks: a bare wasmtime host, the least a script needs to
run a GoatFlow plugin (WASI, the two gk imports, gk_malloc/gk_call/gk_free), written
with wasmtime's public API as a plugin author would, and nothing of goatui.

Run as a script it makes one call and prints the result (the shell benchmark's
baseline); imported, `BareHost` makes calls in a loop.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import wasmtime

LogHook = Callable[[int, bytes], None]


class BareHost:
    """One instance of a plugin module; gk.host_call answers 0, gk.log goes to on_log."""

    def __init__(self, path: str, on_log: LogHook | None = None, cache: bool = True) -> None:
        config = wasmtime.Config()
        if cache:
            config.cache = True
        engine = wasmtime.Engine(config)
        module = wasmtime.Module.from_file(engine, path)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        i32, i64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()

        def log(caller: wasmtime.Caller, level: int, ptr: int, length: int) -> None:
            if on_log is not None:
                on_log(level, bytes(caller["memory"].read(caller, ptr, ptr + length)))  # type: ignore[union-attr]

        linker.define_func("gk", "host_call", wasmtime.FuncType([i32] * 4, [i64]), lambda *a: 0)
        linker.define_func("gk", "log", wasmtime.FuncType([i32] * 3, []), log, access_caller=True)
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        exports = linker.instantiate(self.store, module).exports(self.store)
        start = exports.get("_initialize") or exports.get("_start")
        with contextlib.suppress(wasmtime.ExitTrap):  # proc_exit(0) ends a command's _start
            start(self.store)  # type: ignore[operator]
        exports["gk_register"](self.store)  # type: ignore[operator]
        self.memory: wasmtime.Memory = exports["memory"]  # type: ignore[assignment]
        self.malloc: wasmtime.Func = exports["gk_malloc"]  # type: ignore[assignment]
        self.call_fn: wasmtime.Func = exports["gk_call"]  # type: ignore[assignment]
        self.free: wasmtime.Func = exports["gk_free"]  # type: ignore[assignment]

    def call(self, function: bytes, args: bytes) -> bytes:
        store = self.store
        name = self.malloc(store, len(function))
        self.memory.write(store, function, name)
        data = self.malloc(store, len(args))
        self.memory.write(store, args, data)
        packed = self.call_fn(store, name, len(function), data, len(args)) & 0xFFFFFFFFFFFFFFFF
        ptr, length = packed >> 32, packed & 0xFFFFFFFF
        result = bytes(self.memory.read(store, ptr, ptr + length))
        for pointer in (name, data, ptr):
            self.free(store, pointer)
        return result


if __name__ == "__main__":
    host = BareHost(sys.argv[1])
    sys.stdout.write(host.call(sys.argv[2].encode(), sys.argv[3].encode()).decode() + "\n")
