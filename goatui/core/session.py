"""Everything one run of goatui owns, started and closed in the loop that uses it.

The console and the CLI both build a Session: the backend, the log stream, and for
`demo` / `--launch` / `--attach-host` the private runtime dir, the plugins goatui
started itself and the HostService endpoints it serves them.

When goatui becomes a plugin's host (SetHost):
  * plugins it launched: always, at start and after each restart (it is their host,
    as GoatFlow is for its own);
  * plugins it only found on sockets: only when asked (`attach_host=True` from
    `--attach-host`, or `attach(name)` from a console action that warned first).
    Listing, probing or calling never attaches.
"""

from __future__ import annotations

import asyncio
import atexit
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from goatui.core import audit
from goatui.core.backends.base import Backend, HostTarget
from goatui.core.backends.sockets.discovery import InstalledPlugin
from goatui.core.config import Config
from goatui.core.errors import GoatError, NotFound, Unreachable, UsageError
from goatui.core.logs import LogStore

if TYPE_CHECKING:
    # Imported where first used: `goatui call` and `ls` start no host and launch nothing,
    # and should not pay for sqlite3, ctypes and the host's servicers (issue #9).
    from goatui.core.backends.sockets.client import PluginClient
    from goatui.core.hosting.host import Host
    from goatui.core.hosting.launcher import LaunchedPlugin, Launcher, OutputSink
    from goatui.core.hosting.runtime import RuntimeDir
    from goatui.core.hosting.stores import HostState

# Said to the operator whenever goatui takes over a plugin it did not launch.
ATTACH_WARNING = (
    "its host calls (logs, cache, config, database) now come to goatui and no longer "
    "reach GoatFlow until GoatFlow re-attaches it (e.g. by restarting the plugin)"
)


@dataclass
class Session:
    backend: Backend
    config: Config
    read_only: bool = False
    to_launch: list[InstalledPlugin] = field(default_factory=list)
    launcher: Launcher | None = None
    runtime: RuntimeDir | None = None
    # One line per plugin that failed to start or attach; shown, never raised.
    problems: list[str] = field(default_factory=list)
    # Those failures themselves (their exit codes), in the same order.
    failures: list[GoatError] = field(default_factory=list)
    # Attach the host to every plugin found on sockets at start (--attach-host).
    attach_host: bool = False
    # SQLite file the host answers DBQuery/DBExec from (--db).
    db_path: Path | None = None
    logs: LogStore = field(init=False)
    # What hosted plugins' calls reach (cache, database, config, trace), made on first
    # use; the HostService (`host`) and WASM plugins share it.
    host_state: HostState | None = None
    host: Host | None = None
    # Plugins goatui is the host of, by name → endpoint address.
    attached: dict[str, str] = field(default_factory=dict)
    # Informational lines for the operator (which plugins were taken over).
    notices: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.logs = LogStore(max(1, self.config.log_buffer))

    # -- the pieces, made on first use -------------------------------------------------

    def _runtime(self) -> RuntimeDir:
        if self.runtime is None:
            from goatui.core.hosting.runtime import RuntimeDir

            self.runtime = RuntimeDir()
            # If close() is never awaited (a UI that skips it, an exception on the way
            # out), the interpreter's exit still stops the plugins and removes the dir.
            atexit.register(self._last_resort)
        return self.runtime

    def private_dir(self) -> Path:
        """goatui's private runtime directory (0700), made on first use, removed at close."""
        return self._runtime().path

    def abandon(self) -> None:
        """Synchronous cleanup for when the event loop cannot be trusted to finish."""
        self._last_resort()

    def _last_resort(self) -> None:
        if self.launcher is not None:
            self.launcher.terminate_all_now()
        if self.host is not None:
            for endpoint in self.host.endpoints.values():
                endpoint.path.unlink(missing_ok=True)
        if self.runtime is not None:
            self.runtime.remove()

    def enable_launching(self, on_output: OutputSink | None = None) -> Launcher:
        if self.launcher is None:
            from goatui.core.hosting.launcher import Launcher

            self.launcher = Launcher(
                self._runtime(), on_output or self._on_output, on_exit=self._on_exit
            )
        return self.launcher

    def enable_host_state(self) -> HostState:
        if self.host_state is None:
            from goatui.core.hosting.stores import HostState

            self.host_state = HostState(
                self.config,
                self.logs,
                db_path=self.db_path,
                max_result_mb=self.backend.max_message_mb,
            )
        return self.host_state

    def enable_host(self) -> Host:
        if self.host is None:
            from goatui.core.hosting.host import Host

            self.host = Host(
                self._runtime(),
                self.config,
                self.logs,
                max_message_mb=self.backend.max_message_mb,
                state=self.enable_host_state(),
            )
        return self.host

    def _on_output(self, plugin: str, level: str, line: str) -> None:
        self.logs.add(plugin, level, line)

    def _on_exit(self, launched: LaunchedPlugin) -> None:
        code = launched.exit_code
        self.attached.pop(launched.name, None)
        if launched.stopping:
            self.logs.add(launched.name, "info", f"stopped (exit code {code})")
        else:
            level = "info" if code == 0 else "error"
            self.logs.add(
                launched.name, level, f"exited with code {code}", {"pid": str(launched.pid)}
            )

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Launch what was asked, attach the host where allowed, tell the backend."""
        self.backend.bind(_SessionHosting(self))
        if self.to_launch:
            await self._launch_all()
        if self.attach_host:
            await self._attach_found()

    async def _launch_all(self) -> None:
        launcher = self.enable_launching()
        results = await asyncio.gather(
            *(launcher.start(p) for p in self.to_launch), return_exceptions=True
        )
        for installed, result in zip(self.to_launch, results, strict=True):
            if isinstance(result, GoatError):
                self.failed(result)
            elif isinstance(result, BaseException):
                self.failed(GoatError(f"plugin {installed.name} did not start: {result}"))
            failure = result if isinstance(result, BaseException) else None
            self._record("launch", installed.name, failure)
        if self.backend.capabilities.hosting:
            for path in launcher.sockets():
                self.backend.adopt_socket(path)
        up = [p for p in launcher.plugins.values() if p.running]
        await asyncio.gather(*(self._attach_launched(p) for p in up))

    async def _attach_launched(self, launched: LaunchedPlugin) -> None:
        # goatui launched it from its install dir: it is that plugin, whatever it
        # registers, so it gets that plugin's config.
        socket = str(launched.socket)
        target = HostTarget(launched.name, socket, self._client(socket), launched.name)
        try:
            self.attached[launched.name] = await self.enable_host().attach(target)
        except GoatError as exc:
            self.failed(exc, f"plugin {launched.name}: could not attach the host")

    async def _attach_found(self) -> None:
        """--attach-host: every plugin on the sockets goatui found (launched ones already are)."""
        if not self.backend.capabilities.hosting:
            raise UsageError("--attach-host works with plugin sockets, not a gateway")
        launched = set(self.launcher.sockets()) if self.launcher else set()
        for info in await self.backend.list_plugins():
            if info.target in launched:
                continue
            if info.error:
                self.failed(
                    info.failure or Unreachable(info.error), f"plugin {info.name}: not attached"
                )
                continue
            try:
                await self.attach(info.name)
            except GoatError as exc:
                self.failed(exc, f"plugin {info.name}: could not attach the host")

    def failed(self, failure: GoatError, context: str = "") -> None:
        """A plugin could not be started or hosted: one line in problems, the error kept."""
        self.failures.append(failure)
        self.problems.append(f"{context}: {failure.line()}" if context else failure.line())

    def hosts_anything(self) -> bool:
        """Something can reach the log stream: an attached plugin, or a launched one's output."""
        launched = self.launcher.plugins.values() if self.launcher is not None else ()
        return bool(self.attached) or any(p.running for p in launched)

    def _client(self, path: str) -> PluginClient:
        """The client of a socket goatui launched a plugin on."""
        if self.backend.capabilities.hosting:
            return self.backend.adopt_socket(path)

        return PluginClient(path)

    async def attach(self, name: str) -> str:
        """Become this plugin's host (SetHost). Call only when the operator asked for it.

        Returns the endpoint address. Raises GoatError when the plugin cannot be reached
        or the backend is not sockets.
        """
        if not self.backend.capabilities.hosting:
            raise UsageError("attaching the host needs plugin sockets, not a gateway")
        with self._audited("attach-host", name):
            target = await self.backend.host_target(name)
            address = await self.enable_host().attach(target)
        self.attached[name] = address
        launched = self.launcher is not None and name in self.launcher.plugins
        if not launched:
            self.notices.append(f"goatui is now the host of {name}: {ATTACH_WARNING}")
        if target.config_name is None:
            self.notices.append(f"plugin {name}: its config is withheld: {target.withheld}")
        return address

    def taken_over(self) -> list[str]:
        """Plugins goatui is the host of but did not start (--attach-host, `a`): when
        goatui ends, their host calls go to a socket that is gone."""
        return sorted(name for name in self.attached if not self.is_launched(name))

    def is_launched(self, name: str) -> bool:
        return self.launcher is not None and name in self.launcher.plugins

    def can_restart(self, name: str) -> bool:
        """Whether R works: a plugin goatui launched (restart) or runs itself (reload)."""
        return self.is_launched(name) or self.backend.runs_inside(name)

    async def reload_plugin(self, name: str) -> str:
        """Load a plugin goatui runs itself (a WASM module) from its file again."""
        with self._audited("reload", name):
            return await self.backend.reload(name)

    async def restart_plugin(self, name: str) -> LaunchedPlugin:
        """Restart a plugin goatui launched, and attach the host to the new process."""
        with self._audited("restart", name):
            launched = self._launched(name)
            assert self.launcher is not None
            restarted = await self.launcher.restart(launched.name)
            # The old channel may be in reconnect backoff; start the next call afresh.
            await self._client(str(restarted.socket)).close()
            await self._attach_launched(restarted)
        return restarted

    async def stop_plugin(self, name: str) -> LaunchedPlugin:
        """Stop a plugin goatui launched (SIGTERM, SIGKILL after the grace period)."""
        with self._audited("stop", name):
            launched = self._launched(name)
            assert self.launcher is not None
            await self.launcher.stop(launched.name)
        self.attached.pop(name, None)
        return launched

    # Operator actions go to the audit log (goatui.core.audit); a failure to write it is
    # a problem to show, never a reason to fail the action.
    def _audited(self, action: str, name: str) -> AbstractContextManager[None]:
        return audit.audited(
            action, name, where=self.backend.label, on_problem=self.problems.append
        )

    def _record(self, action: str, name: str, failure: BaseException | None) -> None:
        outcome = audit.outcome_of(failure)
        problem = audit.record(action, name, where=self.backend.label, **outcome)
        if problem:
            self.problems.append(problem)

    def _launched(self, name: str) -> LaunchedPlugin:
        if self.launcher is None or name not in self.launcher.plugins:
            raise NotFound(f"plugin {name!r} was not started by goatui", "only those can be")
        return self.launcher.plugins[name]

    async def close(self) -> None:
        try:
            if self.launcher is not None:
                await self.launcher.stop_all()
            if self.host is not None:
                await self.host.close()
            await self.backend.close()
        finally:
            if self.launcher is not None:
                self.launcher.kill_all_now()
            if self.runtime is not None:
                self.runtime.remove()
                atexit.unregister(self._last_resort)


class _SessionHosting:
    """What the session gives backends that run plugins inside goatui (`Backend.bind`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def host_state(self) -> HostState:
        return self.session.enable_host_state()

    def private_dir(self) -> Path:
        return self.session.private_dir()

    async def call_plugin(self, plugin: str, function: str, args: bytes, timeout: float) -> bytes:
        result = await self.session.backend.call(plugin, function, args, timeout)
        return result.data
