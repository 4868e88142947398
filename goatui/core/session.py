"""Everything one run of goatui owns, started and closed in the loop that uses it.

The console and the CLI both build a Session: the backend, and for `demo` / `--launch`
the private runtime dir and the plugins goatui started itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from goatui.core.backend import Backend, SocketBackend
from goatui.core.config import Config
from goatui.core.discovery import InstalledPlugin
from goatui.core.errors import GoatError
from goatui.core.launcher import Launcher, OutputSink
from goatui.core.runtime import RuntimeDir


@dataclass
class Session:
    backend: Backend
    config: Config
    read_only: bool = False
    to_launch: list[InstalledPlugin] = field(default_factory=list)
    launcher: Launcher | None = None
    runtime: RuntimeDir | None = None
    # One line per plugin that failed to start; shown, never raised.
    problems: list[str] = field(default_factory=list)

    def enable_launching(self, on_output: OutputSink | None = None) -> Launcher:
        if self.launcher is None:
            self.runtime = RuntimeDir()
            self.launcher = Launcher(self.runtime, on_output)
        return self.launcher

    async def start(self) -> None:
        """Launch what was asked, and tell the socket backend where those plugins are."""
        if not self.to_launch:
            return
        launcher = self.enable_launching()
        results = await asyncio.gather(
            *(launcher.start(p) for p in self.to_launch), return_exceptions=True
        )
        for installed, result in zip(self.to_launch, results, strict=True):
            if isinstance(result, GoatError):
                self.problems.append(result.line())
            elif isinstance(result, BaseException):
                self.problems.append(f"plugin {installed.name} did not start: {result}")
        if isinstance(self.backend, SocketBackend):
            for path in launcher.sockets():
                if path not in self.backend.sources.sockets:
                    self.backend.sources.sockets.append(path)

    async def close(self) -> None:
        try:
            if self.launcher is not None:
                await self.launcher.stop_all()
            await self.backend.close()
        finally:
            if self.launcher is not None:
                self.launcher.kill_all_now()
            if self.runtime is not None:
                self.runtime.remove()
