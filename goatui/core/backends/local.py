"""The plugins of this machine seen as one: plugin sockets and WASM modules together.

`LocalBackend` holds the local backends (sockets first, then WASM) and routes every
request to the one a plugin lives in, with the names rules of a fleet
(`composite.CompositeBackend`): a name both list becomes `name@sockets` and
`name@wasm`. What only sockets can do (launching, attaching the host) goes to the member
that can; what only WASM can (`reload`) to that one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from goatui.core.backends.base import (
    Backend,
    Capabilities,
    HostTarget,
    InProcessHosting,
    LogSource,
    Origin,
)
from goatui.core.backends.composite import CompositeBackend
from goatui.core.errors import GoatError, Unreachable, UsageError
from goatui.core.models import PluginInfo

if TYPE_CHECKING:
    from goatui.core.backends.sockets.client import PluginClient


class LocalBackend(CompositeBackend):
    """Several local backends as one, by name or `name@member`."""

    def __init__(self, members: Mapping[str, Backend]) -> None:
        if not members:
            raise UsageError("no plugins to show")
        super().__init__(members)
        self.label = " + ".join(b.label for b in self.members.values())
        self.max_message_mb = max(b.max_message_mb for b in self.members.values())
        caps = [b.capabilities for b in self.members.values()]
        self.capabilities = Capabilities(
            logs=LogSource.HOSTED,
            hosting=any(c.hosting for c in caps),
            in_process=any(c.in_process for c in caps),
        )

    def __repr__(self) -> str:
        return f"LocalBackend({list(self.members)!r})"

    def not_found(self, name: str) -> GoatError:
        # A plugin that could not be asked its name (a socket not answering) may be it.
        failed = [info for _, info in self._routes.values() if info.error]
        if failed:
            more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
            return Unreachable(f"plugin {name!r} not found; {failed[0].error}{more}")
        return super().not_found(name)

    def origin(self, plugin: PluginInfo | None) -> Origin:
        found = self._listed(plugin) if plugin is not None else None
        if found is None or plugin is None:
            return Origin()
        origin = found[0].origin(found[1])
        return origin if found[1].name == plugin.name else replace(origin, name=found[1].name)

    # -- plugins running inside goatui ------------------------------------------------------

    def bind(self, hosting: InProcessHosting) -> None:
        for backend in self.members.values():
            backend.bind(hosting)

    def runs_inside(self, plugin: str) -> bool:
        found = self._route_known(plugin)
        return found is not None and found[0].runs_inside(found[1])

    async def reload(self, plugin: str) -> str:
        backend, name = await self.route(plugin)
        return await backend.reload(name)

    # -- hosting: the member that can ----------------------------------------------------

    def narrow_discovery(self, globs: Sequence[str]) -> None:
        for backend in self.members.values():
            if backend.capabilities.hosting:
                backend.narrow_discovery(globs)

    def adopt_socket(self, path: str) -> PluginClient:
        for backend in self.members.values():
            if backend.capabilities.hosting:
                return backend.adopt_socket(path)
        return super().adopt_socket(path)

    async def host_target(self, plugin: str) -> HostTarget:
        backend, name = await self.route(plugin)
        return replace(await backend.host_target(name), name=plugin)
