"""GoatFlow's WebAssembly plugins, hosted by goatui itself.

    abi        the ABI's names, signatures and packing (no wasmtime)
    hostcalls  gk.host_call's functions and JSON shapes (no wasmtime)
    engine     the process's wasmtime engine: compiled-module cache, epoch deadlines
    instance   one plugin: load as wazero does, call through the ABI, survive faults
    runner     a plugin on its own thread, serialised, awaited from the event loop
    output     a plugin's stdout/stderr as log lines
    services   the host calls answered from goatui's hosting stores
    backend    the `Backend` over all of it: files, names, reloading

wasmtime is imported by engine, instance, runner and backend: import them where a WASM
plugin is used, so the CLI's other commands do not pay for it.
"""
