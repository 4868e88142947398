"""WebAssembly plugins that goatui runs itself, behind the `Backend` interface.

The modules are the files given with `--wasm FILE` (and `wasm = [...]` in the config)
and the `*.wasm` files GoatFlow would find in the plugins dir. Each runs on its own
thread (`runner`), with goatui's host answering its host calls (`services`): the
session hands that host over in `bind`, before anything is listed or called.

A module that cannot load is listed, by its file name, with the reason, and the others
go on. Its health is SERVING once loaded (WASM has no health service; latency is the
last call's), UNREACHABLE with the reason when it failed to load.

Reloading: `reload` (the console's R) loads the file again; and while the session runs,
a file that changed on disk, and then stayed unchanged for one more look, is reloaded
by itself. Either way the log stream says so (fields `goatui=reload`), as does the
console.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from goatui.core.backends.base import (
    Backend,
    Capabilities,
    InProcessHosting,
    LogSource,
    Origin,
)
from goatui.core.backends.wasm import abi
from goatui.core.backends.wasm.runner import FileSignature, PluginRunner, file_signature
from goatui.core.backends.wasm.services import GoatuiHostServices
from goatui.core.errors import GoatError, NotFound, UsageError
from goatui.core.limits import DEFAULT_CALL_TIMEOUT_S, DEFAULT_MAX_MESSAGE_MB, MiB
from goatui.core.logs import GOATUI_FIELD, RELOAD
from goatui.core.models import CallResult, Health, Manifest, PluginInfo, Probe

#: How often the files are looked at for changes.
WATCH_INTERVAL_S = 1.0
#: How often closing stops running calls (50 ms apart) before it waits for them.
_INTERRUPTS = 40
#: The fields of goatui's own log lines about reloads.
RELOAD_FIELDS = {GOATUI_FIELD: RELOAD}


class WasmBackend(Backend):
    """WASM plugin files, each loaded into goatui and called through GoatFlow's ABI."""

    label = "wasm"
    capabilities = Capabilities(logs=LogSource.HOSTED, in_process=True)

    def __init__(
        self,
        files: Sequence[str] = (),
        plugins_dir: str | None = None,
        *,
        memory_mb: int = abi.DEFAULT_MEMORY_MB,
        max_message_mb: int = DEFAULT_MAX_MESSAGE_MB,
        allow_http: bool = False,
        language: str = "",
        load_timeout: float = DEFAULT_CALL_TIMEOUT_S,
        watch_interval: float = WATCH_INTERVAL_S,
    ) -> None:
        self.files = [Path(f).expanduser().absolute() for f in files]
        self.plugins_dir = Path(plugins_dir).expanduser().absolute() if plugins_dir else None
        self.memory_mb = memory_mb
        self.max_message_mb = max_message_mb
        self.allow_http = allow_http
        self.language = language
        self.load_timeout = load_timeout
        self.watch_interval = watch_interval
        self._runners: dict[Path, PluginRunner] = {}
        self._loads: dict[Path, asyncio.Future[None]] = {}
        self._by_name: dict[str, Path] = {}
        self._hosting: InProcessHosting | None = None
        self._services: GoatuiHostServices | None = None
        self._watcher: asyncio.Task[None] | None = None

    # -- the session's host ----------------------------------------------------------------

    def bind(self, hosting: InProcessHosting) -> None:
        self._hosting = hosting
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(
                self._watch(), name="goatui-wasm-watch"
            )

    def services(self) -> GoatuiHostServices:
        if self._services is None:
            if self._hosting is None:
                raise UsageError("WASM plugins need a started session (goatui's host)")
            self._services = GoatuiHostServices(
                self._hosting.host_state(),
                asyncio.get_running_loop(),
                allow_http=self.allow_http,
                language=self.language,
                plugin_caller=self._hosting.call_plugin,
            )
        return self._services

    # -- finding and loading -----------------------------------------------------------

    def module_paths(self) -> list[Path]:
        """The files given, then the plugins dir's *.wasm (as GoatFlow walks it), once each."""
        found = list(self.files)
        if self.plugins_dir is not None and self.plugins_dir.is_dir():
            found += sorted(p.absolute() for p in self.plugins_dir.rglob("*.wasm") if p.is_file())
        return list(dict.fromkeys(found))

    def _runner(self, path: Path) -> PluginRunner:
        runner = self._runners.get(path)
        if runner is None:
            assert self._hosting is not None
            runner = PluginRunner(
                path,
                self.services(),
                memory_mb=self.memory_mb,
                max_result_bytes=self.max_message_mb * MiB,
                output_dir=self._hosting.private_dir(),
            )
            self._runners[path] = runner
        return runner

    async def _ensure_loaded(self, path: Path) -> PluginRunner:
        """The file's runner, loaded once (concurrent askers share the load). A failed load
        is tried again only when the file has changed since."""
        runner = self._runner(path)
        pending = self._loads.get(path)
        if pending is None and (
            runner.loaded_signature is None
            or (runner.failure is not None and runner.changed_on_disk())
        ):
            pending = asyncio.ensure_future(self._load(runner))
            self._loads[path] = pending
        if pending is not None:
            await asyncio.shield(pending)
        return runner

    async def _load(self, runner: PluginRunner) -> None:
        try:
            await runner.load(self.load_timeout)
        except GoatError:
            pass  # kept in runner.failure: listed with the reason, calls answer with it
        finally:
            self._loads.pop(runner.path, None)

    async def list_plugins(self) -> list[PluginInfo]:
        paths = self.module_paths()
        for gone in set(self._runners) - set(paths):
            await self._runners.pop(gone).close()
        runners = await asyncio.gather(*(self._ensure_loaded(p) for p in paths))
        infos = [self._info(r) for r in runners]
        counts: dict[str, int] = {}
        for info in infos:
            counts[info.name] = counts.get(info.name, 0) + 1
        by_name: dict[str, Path] = {}
        for info in infos:
            # Two files registering one name: both listed, told apart by file.
            if counts[info.name] > 1:
                info.name = f"{info.name}@{Path(info.target).name}"
            by_name[info.name] = Path(info.target)
        self._by_name = by_name
        return infos

    def _info(self, runner: PluginRunner) -> PluginInfo:
        target = str(runner.path)
        if runner.failure is not None:
            return PluginInfo(name=runner.name, target=target, error=runner.failure.line())
        manifest = runner.manifest
        return PluginInfo(
            name=runner.name,
            target=target,
            version=_text(manifest.get("version")),
            description=_text(manifest.get("description")),
            manifest=Manifest(raw=manifest, source="plugin"),
        )

    async def resolve(self, name: str) -> PluginRunner:
        """The runner of the plugin listed as name (listing first if it is not known)."""
        if name not in self._by_name:
            await self.list_plugins()
        path = self._by_name.get(name)
        if path is None:
            known = ", ".join(sorted(self._by_name)) or "none loaded"
            raise NotFound(f"unknown plugin {name!r} (known: {known})", "see `goatui ls`")
        return await self._ensure_loaded(path)

    # -- Backend -------------------------------------------------------------------------

    async def probe(self, plugin: PluginInfo) -> Probe:
        runner = self._runners.get(Path(plugin.target))
        if runner is None:
            return Probe(Health.UNREACHABLE, None, plugin.error or "not loaded")
        if runner.failure is not None:
            return Probe(Health.UNREACHABLE, None, runner.failure.line())
        return Probe(Health.SERVING, runner.last_call_ms)

    def last_call_ms(self, plugin: str) -> float | None:
        path = self._by_name.get(plugin)
        runner = self._runners.get(path) if path is not None else None
        return runner.last_call_ms if runner is not None else None

    async def call(
        self, plugin: str, function: str, args: bytes, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> CallResult:
        runner = await self.resolve(plugin)
        served = await runner.call(function, args, timeout)
        return CallResult(served.data, served.duration_ms)

    def origin(self, plugin: PluginInfo | None) -> Origin:
        return Origin(wasm=(plugin.target,)) if plugin is not None else Origin()

    # -- reloading -----------------------------------------------------------------------

    def runs_inside(self, plugin: str) -> bool:
        return plugin in self._by_name

    async def reload(self, plugin: str) -> str:
        runner = await self.resolve(plugin)
        return await self._reload(runner, "")

    async def _reload(self, runner: PluginRunner, why: str) -> str:
        """Load the file again; log what happened (and raise the failure, if any).

        `why` is said when goatui reloads by itself; the operator who pressed R knows."""
        file = runner.path.name
        reason = f": {why}" if why else ""
        logs = self.services().host.logs
        fields = {**RELOAD_FIELDS, "by": "file" if why else "operator"}
        try:
            await runner.load(self.load_timeout)
        except GoatError as exc:
            logs.add(runner.name, "error", f"{file} failed to load{reason}: {exc.line()}", fields)
            raise
        said = f"reloaded {runner.name} from {file}{reason}"
        logs.add(runner.name, "info", said, fields)
        return said

    async def _watch(self) -> None:
        """Reload a file that changed on disk once it has stopped changing."""
        seen: dict[Path, FileSignature | None] = {}
        while True:
            await asyncio.sleep(self.watch_interval)
            for path, runner in list(self._runners.items()):
                if runner.loaded_signature is None or not runner.changed_on_disk():
                    seen.pop(path, None)
                    continue
                now = file_signature(path)
                if now is None or seen.get(path) != now:
                    seen[path] = now  # gone, or still being written: look again
                    continue
                seen.pop(path, None)
                with contextlib.suppress(GoatError):
                    await self._reload(runner, "the file changed on disk")

    @property
    def busy(self) -> bool:
        """Whether a plugin is running a call (or loading) now."""
        return any(runner.busy for runner in self._runners.values())

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        runners, self._runners = list(self._runners.values()), {}
        # A plugin still looping would hold the exit up until its deadline: stop it (again,
        # should a call have set its deadline just after the first time).
        for _ in range(_INTERRUPTS):
            busy = [runner for runner in runners if runner.busy]
            if not busy:
                break
            busy[0].engine.ticker.interrupt_all()
            await asyncio.sleep(0.05)
        await asyncio.gather(*(r.close() for r in runners), return_exceptions=True)
        if self._services is not None:
            self._services.flush()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
