"""Real WASM plugins for tests: the committed modules, WAT compiled on the spot, and a
real goatui host (cache, SQLite, config, log stream, trace) behind them."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wasmtime

from goatui.core.backends.wasm.engine import WasmEngine
from goatui.core.backends.wasm.runner import PluginRunner
from goatui.core.backends.wasm.services import GoatuiHostServices, PluginCaller
from goatui.core.config import Config
from goatui.core.hosting.runtime import RuntimeDir
from goatui.core.hosting.stores import HostState
from goatui.core.logs import LogEntry, LogStore

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO = TESTS_DIR.parent
WASM_DIR = TESTS_DIR / "wasm"
COMMAND = WASM_DIR / "command.wasm"
REACTOR = WASM_DIR / "reactor.wasm"
FAULTS_WAT = WASM_DIR / "faults.wat"
DEMO = REPO / "goatui" / "demo" / "wasm" / "ticket-stats.wasm"


_engine: WasmEngine | None = None


def shared_test_engine() -> WasmEngine:
    """One engine for the whole test run, caching compiled modules in a temporary
    directory (never the developer's own cache)."""
    global _engine
    if _engine is None:
        cache = Path(tempfile.mkdtemp(prefix="goatui-wasm-cache-"))
        atexit.register(shutil.rmtree, cache, True)
        _engine = WasmEngine(cache)
    return _engine


def wat_file(directory: Path, name: str, text: str) -> Path:
    """A .wasm file compiled from WebAssembly text by wasmtime."""
    path = directory / f"{name}.wasm"
    path.write_bytes(wasmtime.wat2wasm(text))
    return path


def wat_string(data: bytes) -> str:
    """Bytes as a WebAssembly text string literal's contents (every byte escaped)."""
    return "".join(f"\\{byte:02x}" for byte in data)


def faults_module(directory: Path) -> Path:
    return wat_file(directory, "faults", FAULTS_WAT.read_text())


@dataclass
class Hosting:
    """goatui's host with WASM plugins loaded into it; close() stops everything."""

    engine: WasmEngine
    config: Config
    runtime: RuntimeDir
    host: HostState
    services: GoatuiHostServices
    runners: list[PluginRunner] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        engine: WasmEngine,
        *,
        config: Config | None = None,
        db_path: Path | None = None,
        allow_http: bool = False,
        language: str = "",
        plugin_caller: PluginCaller | None = None,
        log_capacity: int = 10_000,
    ) -> Hosting:
        config = config or Config()
        runtime = RuntimeDir()
        host = HostState(config, LogStore(log_capacity), db_path=db_path)
        services = GoatuiHostServices(
            host,
            asyncio.get_running_loop(),
            allow_http=allow_http,
            language=language,
            plugin_caller=plugin_caller,
        )
        return cls(engine, config, runtime, host, services)

    async def load(self, path: Path, timeout: float = 10.0, **options: Any) -> PluginRunner:
        runner = PluginRunner(
            path, self.services, engine=self.engine, output_dir=self.runtime.path, **options
        )
        self.runners.append(runner)
        await runner.load(timeout)
        return runner

    def logs(self, plugin: str | None = None) -> list[LogEntry]:
        self.services.flush()
        return [e for e in self.host.logs if plugin is None or e.plugin == plugin]

    async def close(self) -> None:
        for runner in self.runners:
            await runner.close()
        self.runtime.remove()
