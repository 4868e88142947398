"""One interface for every way of reaching plugins, and the socket implementation.

Views and CLI commands talk to `Backend` and never know what is behind it: plugin
sockets (`SocketBackend`, here) or GoatFlow's HTTP gateway (`goatui.core.gateway`).
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence

from goatui.core.client import (
    DEFAULT_CALL_TIMEOUT_S,
    DEFAULT_MAX_MESSAGE_MB,
    DEFAULT_PROBE_TIMEOUT_S,
    PluginClient,
)
from goatui.core.discovery import (
    InstalledPlugin,
    Sources,
    check_socket,
    name_from_socket,
    read_plugins_dir,
)
from goatui.core.errors import (
    GoatError,
    NotFound,
    PermissionRefused,
    RemoteError,
    Unreachable,
    UsageError,
)
from goatui.core.models import CallResult, Health, Manifest, PluginInfo, Probe
from goatui.core.sanitize import sanitize_line


class Backend(ABC):
    """What the CLI and the console need from wherever the plugins are."""

    #: Shown to the operator: where this backend looks ("sockets", a gateway URL…).
    label: str = ""
    #: Things the operator must be told about this connection (e.g. TLS checks off).
    warnings: Sequence[str] = ()

    @abstractmethod
    async def list_plugins(self) -> list[PluginInfo]:
        """Every plugin found now, reachable or not (unreachable ones carry `error`)."""

    @abstractmethod
    async def probe(self, plugin: PluginInfo) -> Probe:
        """The plugin's health and latency now. Never raises."""

    @abstractmethod
    async def call(
        self, plugin: str, function: str, args: bytes, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> CallResult:
        """Call a handler. Raises GoatError subclasses."""

    async def widget_html(
        self, plugin: str, handler: str, widget_id: str, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> tuple[str, float]:
        """A widget's HTML and how long it took (ms): by default, its handler called with {}."""
        result = await self.call(plugin, handler, b"{}", timeout)
        return widget_html_from_result(result.data), result.duration_ms

    async def set_enabled(self, plugin: str, enabled: bool) -> str:
        """Enable or disable a plugin (a gateway admin action); returns its new status."""
        verb = "enabling" if enabled else "disabling"
        raise UsageError(f"{verb} plugins is not available with {self.label}", "use --gateway URL")

    def last_call_ms(self, plugin: str) -> float | None:
        """How long the last call to plugin took, when the backend keeps it."""
        return None

    def watch(self, plugin: PluginInfo) -> AsyncIterator[Health] | None:
        """A stream of the plugin's health changes, or None when the backend has none."""
        return None

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def widget_html_from_result(data: bytes) -> str:
    """The HTML of a widget result: `{"html": "..."}` (GoatFlow's convention) or raw HTML."""
    text = data.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict) and isinstance(value.get("html"), str):
            return str(value["html"])
    elif stripped.startswith("<") or not stripped:
        return text
    start = sanitize_line(text[:80])
    raise RemoteError(
        f'widget result is neither {{"html": ...}} nor HTML; it starts: {start}',
        code="BAD_RESULT",
    )


class SocketBackend(Backend):
    """Plugins on Unix sockets, found through `Sources`, one `PluginClient` each."""

    label = "sockets"

    def __init__(
        self,
        sources: Sources,
        *,
        max_message_mb: int = DEFAULT_MAX_MESSAGE_MB,
        register_timeout: float = 3.0,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT_S,
    ) -> None:
        self.sources = sources
        self.max_message_mb = max_message_mb
        self.register_timeout = register_timeout
        self.probe_timeout = probe_timeout
        self._clients: dict[str, PluginClient] = {}
        self._by_name: dict[str, str] = {}
        self._installed: dict[str, InstalledPlugin] | None = None

    # -- discovery ---------------------------------------------------------------------

    def installed(self) -> dict[str, InstalledPlugin]:
        """Plugins in --plugins-dir, read once."""
        if self._installed is None:
            plugins_dir = self.sources.plugins_dir
            self._installed = read_plugins_dir(plugins_dir) if plugins_dir else {}
        return self._installed

    def client(self, path: str) -> PluginClient:
        if path not in self._clients:
            self._clients[path] = PluginClient(path, max_message_mb=self.max_message_mb)
        return self._clients[path]

    async def list_plugins(self) -> list[PluginInfo]:
        paths = self.sources.socket_paths()
        infos = list(await asyncio.gather(*(self._register(p) for p in paths)))
        self._by_name = {}
        for info in infos:
            # Two sockets registering one name: keep both, tell them apart by socket.
            if info.name in self._by_name:
                info.name = f"{info.name}@{name_from_socket(info.target)}"
            self._by_name[info.name] = info.target
        return infos

    async def _register(self, path: str) -> PluginInfo:
        client = self.client(path)
        try:
            response = await client.register(timeout=self.register_timeout)
        except GoatError as exc:
            name = name_from_socket(path)
            info = PluginInfo(name=name, target=path, error=exc.line())
            info.manifest = self._manifest_from_dir(name)
            return info
        name = response.name or name_from_socket(path)
        info = PluginInfo(
            name=name,
            target=path,
            version=response.version,
            description=response.description,
        )
        info.manifest = self._manifest(response.manifest, name)
        return info

    def _manifest(self, document: bytes, name: str) -> Manifest | None:
        """From RegisterResponse.manifest when filled, else from the plugins dir."""
        if document:
            try:
                return Manifest.parse(document, source="plugin")
            except (ValueError, RecursionError):
                pass
        return self._manifest_from_dir(name)

    def _manifest_from_dir(self, name: str) -> Manifest | None:
        installed = self.installed().get(name)
        return installed.manifest if installed else None

    async def resolve(self, name: str) -> PluginClient:
        """The client of the plugin registered as name.

        Fast path for scripts: a socket named `goatflow-plugin-<name>.sock` is used
        without asking every plugin its name first.
        """
        if name in self._by_name:
            return self.client(self._by_name[name])
        paths = self.sources.socket_paths()
        by_socket_name = [p for p in paths if name_from_socket(p) == name]
        if len(by_socket_name) == 1:
            return self.client(by_socket_name[0])
        infos = await self.list_plugins()
        if name in self._by_name:
            return self.client(self._by_name[name])
        # A socket that could not be asked may be the plugin: say so rather than
        # calling the name unknown.
        unreachable = [i for i in infos if i.error]
        for info in unreachable:
            # Refused permission is its own exit code (4), not "unreachable".
            try:
                check_socket(info.target)
            except PermissionRefused as exc:
                raise PermissionRefused(
                    f"plugin {name!r} not found; {exc.message}", exc.hint
                ) from None
            except GoatError:
                pass
        if unreachable:
            first = unreachable[0]
            more = f" (+{len(unreachable) - 1} more)" if len(unreachable) > 1 else ""
            raise Unreachable(f"plugin {name!r} not found; {first.error}{more}")
        known = ", ".join(sorted(i.name for i in infos)) or "none found"
        raise NotFound(f"unknown plugin {name!r} (known: {known})", "see `goatui ls`")

    async def probe(self, plugin: PluginInfo) -> Probe:
        return await self.client(plugin.target).probe(timeout=self.probe_timeout)

    def watch(self, plugin: PluginInfo) -> AsyncIterator[Health] | None:
        """Health.Watch on the plugin's socket (raises GoatError if it offers none)."""
        return self.client(plugin.target).watch()

    async def call(
        self, plugin: str, function: str, args: bytes, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> CallResult:
        client = await self.resolve(plugin)
        return await client.call(function, args, timeout)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
