"""Several backends seen as one: what a fleet of contexts and this machine's sockets and
WASM plugins (`local`) have in common.

Every request goes to the member a plugin lives in. Names: a plugin keeps its own name
while only one member lists it; a name several members list becomes `name@member` in
each of them (never only in the second: the first would silently change meaning when
the second comes up). `name@member` is also accepted for any plugin, so scripts can
always be explicit. A bare name several members share is refused, listing the
qualified ones. Subclasses say what a member is called and how a failure reads.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace

from goatui.core.backends.base import Backend
from goatui.core.errors import GoatError, NotFound, UsageError
from goatui.core.limits import DEFAULT_CALL_TIMEOUT_S
from goatui.core.models import CallResult, Health, PluginInfo, Probe


class CompositeBackend(Backend):
    """Members by name; a shown name routes to (member, the plugin's name there)."""

    #: What a member is, in messages ("context").
    member_word = "member"
    #: Why a plugin no longer listed cannot be probed.
    unlisted = "no longer listed"
    #: Set each listed plugin's `where` to its member's name.
    shows_where = False

    def __init__(self, members: Mapping[str, Backend]) -> None:
        self.members: dict[str, Backend] = dict(members)
        self.warnings = [w for b in self.members.values() for w in b.warnings]
        # Shown name -> (member, the plugin as its own backend knows it).
        self._routes: dict[str, tuple[str, PluginInfo]] = {}
        #: Members whose last listing failed, and why.
        self.failures: dict[str, GoatError] = {}

    async def _gather_listings(self) -> list[tuple[str, PluginInfo]]:
        """Every member's plugins; a member that fails is kept in `failures`, and when
        they all fail the first failure is raised."""
        results = await asyncio.gather(
            *(b.list_plugins() for b in self.members.values()), return_exceptions=True
        )
        found: list[tuple[str, PluginInfo]] = []
        failures: dict[str, GoatError] = {}
        for member, result in zip(self.members, results, strict=True):
            if isinstance(result, GoatError):
                failures[member] = result
            elif isinstance(result, BaseException):
                raise result
            else:
                found += [(member, info) for info in result]
        self.failures = failures
        if failures and len(failures) == len(self.members):
            raise next(iter(failures.values()))
        return found

    def _shown(self, found: list[tuple[str, PluginInfo]]) -> list[PluginInfo]:
        """The plugins under the names shown (`name@member` where names collide); these
        become the routes."""
        counts = Counter(info.name for _, info in found)
        routes: dict[str, tuple[str, PluginInfo]] = {}
        shown: list[PluginInfo] = []
        for member, info in found:
            name = f"{info.name}@{member}" if counts[info.name] > 1 else info.name
            routes[name] = (member, info)
            where = member if self.shows_where else info.where
            shown.append(replace(info, name=name, where=where))
        self._routes = routes
        return shown

    async def list_plugins(self) -> list[PluginInfo]:
        return self._shown(await self._gather_listings())

    def shown_name(self, member: str, name: str) -> str:
        """The name shown for a plugin of a member (after the last listing)."""
        for shown, (where, info) in self._routes.items():
            if where == member and info.name == name:
                return shown
        return name

    async def route(self, name: str) -> tuple[Backend, str]:
        """The member a shown name lives in, and the plugin's name there."""
        found = self._route_known(name)
        if found is None:
            await self.list_plugins()
            found = self._route_known(name)
        if found is not None:
            return found
        sharing = sorted(s for s, (_, info) in self._routes.items() if info.name == name)
        if sharing:
            raise UsageError(
                f"plugin {name!r} is in several {self.member_word}s",
                f"name one: {', '.join(sharing)}",
            )
        raise self.not_found(name)

    def not_found(self, name: str) -> GoatError:
        """Why no member has this plugin."""
        known = ", ".join(sorted(self._routes)) or "none found"
        return NotFound(f"unknown plugin {name!r} (known: {known})", "see `goatui ls`")

    def _route_known(self, name: str) -> tuple[Backend, str] | None:
        if name in self._routes:
            member, info = self._routes[name]
            return self.members[member], info.name
        # NAME@MEMBER names any plugin explicitly; the member's backend says if it exists.
        plugin, at, member = name.rpartition("@")
        if at and plugin and member in self.members:
            return self.members[member], plugin
        return None

    def _listed(self, plugin: PluginInfo) -> tuple[Backend, PluginInfo] | None:
        route = self._routes.get(plugin.name)
        return (self.members[route[0]], route[1]) if route else None

    # -- Backend -------------------------------------------------------------------------

    async def probe(self, plugin: PluginInfo) -> Probe:
        found = self._listed(plugin)
        if found is None:
            return Probe(Health.UNREACHABLE, None, plugin.error or self.unlisted)
        return await found[0].probe(found[1])

    async def probe_all(self, plugins: Sequence[PluginInfo]) -> list[Probe]:
        """Each member probes its own plugins its own way (a gateway: one request)."""
        probes: list[Probe | None] = [None] * len(plugins)
        by_member: dict[str, list[tuple[int, PluginInfo]]] = {}
        for index, plugin in enumerate(plugins):
            route = self._routes.get(plugin.name)
            if route is None:
                probes[index] = Probe(Health.UNREACHABLE, None, plugin.error or self.unlisted)
            else:
                by_member.setdefault(route[0], []).append((index, route[1]))
        members = list(by_member)
        answers = await asyncio.gather(
            *(self.members[m].probe_all([info for _, info in by_member[m]]) for m in members)
        )
        for member, answer in zip(members, answers, strict=True):
            for (index, _), probe in zip(by_member[member], answer, strict=True):
                probes[index] = probe
        return [probe for probe in probes if probe is not None]

    def watch(self, plugin: PluginInfo) -> AsyncIterator[Health] | None:
        found = self._listed(plugin)
        return found[0].watch(found[1]) if found else None

    def watch_source(self, plugin: PluginInfo) -> str:
        found = self._listed(plugin)
        return found[0].watch_source(found[1]) if found else super().watch_source(plugin)

    async def call(
        self, plugin: str, function: str, args: bytes, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> CallResult:
        backend, name = await self.route(plugin)
        return await backend.call(name, function, args, timeout)

    async def widget_html(
        self, plugin: str, handler: str, widget_id: str, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> tuple[str, float]:
        backend, name = await self.route(plugin)
        return await backend.widget_html(name, handler, widget_id, timeout)

    async def set_enabled(self, plugin: str, enabled: bool) -> str:
        backend, name = await self.route(plugin)
        return await backend.set_enabled(name, enabled)

    def last_call_ms(self, plugin: str) -> float | None:
        found = self._route_known(plugin)
        return found[0].last_call_ms(found[1]) if found else None

    async def close(self) -> None:
        await asyncio.gather(*(b.close() for b in self.members.values()), return_exceptions=True)
