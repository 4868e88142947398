"""Plugins on Unix sockets behind the `Backend` interface: one `PluginClient` each."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

from goatui.core.backends.base import Backend, Capabilities, HostTarget, LogSource, Origin
from goatui.core.backends.sockets.client import PluginClient
from goatui.core.backends.sockets.discovery import (
    DEFAULT_SOCKET_GLOB,
    InstalledPlugin,
    Sources,
    broken_manifests,
    check_socket,
    name_from_socket,
    read_plugins_dir,
)
from goatui.core.errors import (
    GoatError,
    NoAnswer,
    NotFound,
    PermissionRefused,
    Unreachable,
)
from goatui.core.limits import (
    DEFAULT_CALL_TIMEOUT_S,
    DEFAULT_MAX_MESSAGE_MB,
    DEFAULT_PROBE_TIMEOUT_S,
)
from goatui.core.models import CallResult, Health, Manifest, PluginInfo, Probe


class SocketBackend(Backend):
    """Plugins on Unix sockets, found through `Sources`, one `PluginClient` each."""

    label = "sockets"
    capabilities = Capabilities(logs=LogSource.HOSTED, hosting=True)

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
        # The name each socket registered at the last listing, by path.
        self._claims: dict[str, str] = {}
        # Sockets goatui launched plugins on (adopt_socket).
        self._adopted: set[str] = set()
        # What each socket registered as, kept while it is the same socket file and its
        # plugin keeps answering: discovery every 5 s asked 1,000 plugins their names
        # 200 times a second (issue #19). A restarted plugin makes a new socket file.
        self._registered: dict[str, tuple[tuple[int, int, int], PluginInfo]] = {}
        self._installed: dict[str, InstalledPlugin] | None = None
        self._broken: dict[str, str] | None = None

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
        found = [self._known(p) for p in paths]
        # Only the sockets not known already are asked (one task each).
        asked = [p for p, info in zip(paths, found, strict=True) if info is None]
        answers = iter(await asyncio.gather(*(self._register(p) for p in asked)))
        infos = [info if info is not None else next(answers) for info in found]
        # What each socket registers as, before duplicates are told apart below.
        self._claims = {info.target: info.name for info in infos if not info.error}
        self._by_name = {}
        for info in infos:
            # Two sockets registering one name: keep both, tell them apart by socket.
            if info.name in self._by_name:
                info.name = f"{info.name}@{name_from_socket(info.target)}"
            self._by_name[info.name] = info.target
        return infos

    def _known(self, path: str) -> PluginInfo | None:
        """What the socket registered as, if it is the same file and still answering."""
        known = self._registered.get(path)
        if known is None:
            return None
        if known[0] != _file_identity(path) or self.client(path).lost:
            del self._registered[path]
            return None
        return replace(known[1])  # a copy: list_plugins may rename it

    async def _register(self, path: str) -> PluginInfo:
        client = self.client(path)
        identity = _file_identity(path)
        try:
            response = await client.register(timeout=self.register_timeout)
        except GoatError as exc:
            name = name_from_socket(path)
            info = PluginInfo(name=name, target=path, error=exc.line(), failure=exc)
            info.manifest, info.manifest_problem = self._manifest_from_dir(name)
            return info
        name = response.name or name_from_socket(path)
        info = PluginInfo(
            name=name,
            target=path,
            version=response.version,
            description=response.description,
        )
        info.manifest, info.manifest_problem = self._manifest(response.manifest, name)
        if identity is not None:
            self._registered[path] = (identity, replace(info))
        return info

    def _manifest(self, document: bytes, name: str) -> tuple[Manifest | None, str]:
        """From RegisterResponse.manifest when filled, else from the plugins dir; and
        why a manifest found could not be used ("" when none was broken)."""
        if document:
            try:
                return Manifest.parse(document, source="plugin"), ""
            except ValueError as exc:
                manifest, problem = self._manifest_from_dir(name)
                sent = f"the manifest it sent is {exc}"
                return manifest, sent if not problem else f"{sent}; {problem}"
        return self._manifest_from_dir(name)

    def _manifest_from_dir(self, name: str) -> tuple[Manifest | None, str]:
        installed = self.installed().get(name)
        if installed is not None:
            return installed.manifest, ""
        plugins_dir = self.sources.plugins_dir
        if not plugins_dir or (self._broken is None and not Path(plugins_dir).is_dir()):
            return None, ""
        if self._broken is None:
            self._broken = broken_manifests(plugins_dir)
        return None, self._broken.get(name, "")

    # -- hosting -------------------------------------------------------------------------

    def narrow_discovery(self, globs: Sequence[str]) -> None:
        if self.sources.globs == [DEFAULT_SOCKET_GLOB]:
            self.sources.globs = list(globs)

    def adopt_socket(self, path: str) -> PluginClient:
        if path not in self.sources.sockets:
            # Launched plugins are listed first: a socket that registers the same name is
            # the one told apart (`name@socket`), not the plugin goatui started.
            launched = sum(1 for s in self.sources.sockets if s in self._adopted)
            self.sources.sockets.insert(launched, path)
            self._adopted.add(path)
        return self.client(path)

    async def host_target(self, plugin: str) -> HostTarget:
        client = await self.resolve(plugin)
        path = os.path.abspath(client.path)
        if path not in self._claims:
            await self.list_plugins()  # resolved by its file name: who claims what?
        claimed = self._claims.get(path)
        withheld = self._withheld(path, claimed)
        return HostTarget(plugin, path, client, None if withheld else claimed, withheld)

    def _withheld(self, path: str, claimed: str | None) -> str:
        """Why the plugin at path may not read [plugins.CLAIMED]; "" when it may.

        goatui can tell which plugin a socket is when no other socket it sees registers
        the same name, and the socket was named by the operator (--socket,
        GOATFLOW_PLUGIN_SOCKET, `sockets`), made by goatui for a plugin it launched, or
        belongs to the operator or root (another local user could make any other).
        """
        if claimed is None:
            return f"{path} did not say which plugin it is"
        others = sorted(p for p, name in self._claims.items() if name == claimed and p != path)
        if others:
            return (
                f"{len(others) + 1} sockets register the name {claimed!r} ({path},"
                f" {', '.join(others)}), so goatui cannot tell which one is {claimed}"
            )
        if path in {os.path.abspath(s) for s in self.sources.sockets}:
            return ""
        try:
            owner = os.stat(path).st_uid
        except OSError as exc:
            return f"{path} cannot be checked: {exc.strerror}"
        if owner in (os.getuid(), 0):
            return ""
        return (
            f"{path} belongs to another user (uid {owner}) and was found by a glob;"
            " name it with --socket to vouch for it"
        )

    def origin(self, plugin: PluginInfo | None) -> Origin:
        return Origin(sockets=(plugin.target,)) if plugin is not None else Origin()

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
            failure = first.failure
            if isinstance(failure, NoAnswer):
                # Hung before it said its name: it may well be the plugin asked for.
                raise NoAnswer(
                    f"plugin {name!r} not found: Register", failure.seconds, who=first.target
                )
            raise Unreachable(f"plugin {name!r} not found; {first.error}{more}")
        known = ", ".join(sorted(i.name for i in infos)) or "none found"
        raise NotFound(f"unknown plugin {name!r} (known: {known})", "see `goatui ls`")

    async def probe(self, plugin: PluginInfo) -> Probe:
        return await self.client(plugin.target).probe(timeout=self.probe_timeout)

    def watch(self, plugin: PluginInfo) -> AsyncIterator[Health] | None:
        """Health.Watch on the plugin's socket (raises GoatError if it offers none)."""
        return self.client(plugin.target).watch()

    def watch_source(self, plugin: PluginInfo) -> str:
        return self.client(plugin.target).watch_source

    async def call(
        self, plugin: str, function: str, args: bytes, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> CallResult:
        client = await self.resolve(plugin)
        return await client.call(function, args, timeout)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        self._registered.clear()
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def _file_identity(path: str) -> tuple[int, int, int] | None:
    """Which file is at path now (device, inode, change time); None if none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_ctime_ns)
