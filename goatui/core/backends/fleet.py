"""Several contexts seen as one: plugins across hosts behind the `Backend` interface.

`FleetBackend` holds one backend per context (from `contexts.backend_for_context`)
and routes every request to the context a plugin lives in.

Names: a plugin keeps its own name while only one context has it; a name found in
several contexts becomes `name@context` in each of them (never only in the second: the
first would silently change meaning when the second comes up). `name@context` is also
accepted for any plugin, colliding or not, so scripts can always be explicit. A bare
name that several contexts share is refused, listing the qualified ones.

Every plugin's `PluginInfo.where` is its context's name. A context that cannot list its
plugins (a gateway down) shows as one unreachable entry named `@context`, so the
failure is visible where the plugins would be; only when every context fails does
listing raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from goatui.core.backends.base import (
    Backend,
    Capabilities,
    LogPoller,
    LogSource,
    Origin,
    entry_time,
)
from goatui.core.backends.gateway.logpoll import DEFAULT_LOG_POLL_S
from goatui.core.errors import GoatError, NotFound, Unreachable, UsageError
from goatui.core.limits import DEFAULT_CALL_TIMEOUT_S
from goatui.core.models import CallResult, Health, PluginInfo, Probe


class FleetBackend(Backend):
    """Plugins of several contexts, by name or `name@context`."""

    def __init__(self, members: Mapping[str, Backend]) -> None:
        if not members:
            raise UsageError("a fleet needs at least one context")
        self.members: dict[str, Backend] = dict(members)
        self.label = "fleet (" + ", ".join(self.members) + ")"
        buffered = any(b.capabilities.logs is LogSource.BUFFER for b in self.members.values())
        self.capabilities = Capabilities(
            logs=LogSource.BUFFER if buffered else LogSource.HOSTED,
            enable_disable=any(b.capabilities.enable_disable for b in self.members.values()),
            probes_together=all(b.capabilities.probes_together for b in self.members.values()),
        )
        self.warnings = [f"{name}: {w}" for name, b in self.members.items() for w in b.warnings]
        # Shown name -> (context, the plugin as its own backend knows it).
        self._routes: dict[str, tuple[str, PluginInfo]] = {}
        # Contexts whose last listing failed, and why.
        self.failures: dict[str, GoatError] = {}

    def __repr__(self) -> str:
        return f"FleetBackend({list(self.members)!r})"

    # -- listing -------------------------------------------------------------------------

    async def list_plugins(self) -> list[PluginInfo]:
        results = await asyncio.gather(
            *(b.list_plugins() for b in self.members.values()), return_exceptions=True
        )
        found: list[tuple[str, PluginInfo]] = []
        failures: dict[str, GoatError] = {}
        for context, result in zip(self.members, results, strict=True):
            if isinstance(result, GoatError):
                failures[context] = result
            elif isinstance(result, BaseException):
                raise result
            else:
                found += [(context, info) for info in result]
        self.failures = failures
        if failures and len(failures) == len(self.members):
            raise next(iter(failures.values()))
        counts = Counter(info.name for _, info in found)
        routes: dict[str, tuple[str, PluginInfo]] = {}
        infos: list[PluginInfo] = []
        for context, info in found:
            name = f"{info.name}@{context}" if counts[info.name] > 1 else info.name
            routes[name] = (context, info)
            infos.append(replace(info, name=name, where=context))
        for context, error in failures.items():
            infos.append(
                PluginInfo(
                    name=f"@{context}",
                    target=self.members[context].label,
                    error=error.line(),
                    where=context,
                )
            )
        self._routes = routes
        return infos

    def shown_name(self, context: str, name: str) -> str:
        """The name the fleet shows for a plugin of a context (after the last listing)."""
        for shown, (where, info) in self._routes.items():
            if where == context and info.name == name:
                return shown
        return name

    async def route(self, name: str) -> tuple[Backend, str]:
        """The backend a shown name lives in, and the plugin's name there."""
        found = self._route_known(name)
        if found is None:
            await self.list_plugins()
            found = self._route_known(name)
        if found is not None:
            return found
        sharing = sorted(s for s, (_, info) in self._routes.items() if info.name == name)
        if sharing:
            raise UsageError(
                f"plugin {name!r} is in several contexts", f"name one: {', '.join(sharing)}"
            )
        if self.failures:
            context, error = next(iter(self.failures.items()))
            raise Unreachable(f"plugin {name!r} not found; context {context}: {error.line()}")
        known = ", ".join(sorted(self._routes)) or "none found"
        raise NotFound(f"unknown plugin {name!r} in the fleet (known: {known})", "see `goatui ls`")

    def _route_known(self, name: str) -> tuple[Backend, str] | None:
        if name in self._routes:
            context, info = self._routes[name]
            return self.members[context], info.name
        # NAME@CONTEXT names any plugin explicitly; the context's backend says if it exists.
        plugin, at, context = name.rpartition("@")
        if at and plugin and context in self.members:
            return self.members[context], plugin
        return None

    # -- Backend -------------------------------------------------------------------------

    async def probe(self, plugin: PluginInfo) -> Probe:
        route = self._routes.get(plugin.name)
        if route is None:
            return Probe(Health.UNREACHABLE, None, plugin.error or "not in the fleet's listing")
        context, info = route
        return await self.members[context].probe(info)

    async def probe_all(self, plugins: Sequence[PluginInfo]) -> list[Probe]:
        """Each context probes its own plugins its own way (a gateway: one request)."""
        probes: list[Probe | None] = [None] * len(plugins)
        by_context: dict[str, list[tuple[int, PluginInfo]]] = {}
        for index, plugin in enumerate(plugins):
            route = self._routes.get(plugin.name)
            if route is None:
                probes[index] = Probe(
                    Health.UNREACHABLE, None, plugin.error or "not in the fleet's listing"
                )
            else:
                by_context.setdefault(route[0], []).append((index, route[1]))
        contexts = list(by_context)
        answers = await asyncio.gather(
            *(self.members[c].probe_all([info for _, info in by_context[c]]) for c in contexts)
        )
        for context, answer in zip(contexts, answers, strict=True):
            for (index, _), probe in zip(by_context[context], answer, strict=True):
                probes[index] = probe
        return [probe for probe in probes if probe is not None]

    def watch(self, plugin: PluginInfo) -> AsyncIterator[Health] | None:
        route = self._routes.get(plugin.name)
        if route is None:
            return None
        context, info = route
        return self.members[context].watch(info)

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

    def origin(self, plugin: PluginInfo | None) -> Origin:
        if plugin is None or not plugin.where:
            return Origin()
        route = self._routes.get(plugin.name)
        name = route[1].name if route else plugin.name.removesuffix(f"@{plugin.where}")
        return Origin(context=plugin.where, name=name)

    def log_poller(
        self, *, plugin: str | None = None, min_level: str | None = None
    ) -> FleetLogPoller | None:
        # The fleet's names are filtered by the caller (--plugin alpha@prod), not here.
        poller = FleetLogPoller(self, min_level=min_level)
        return poller if poller.pollers else None

    def last_call_ms(self, plugin: str) -> float | None:
        found = self._route_known(plugin)
        return found[0].last_call_ms(found[1]) if found else None

    async def close(self) -> None:
        await asyncio.gather(*(b.close() for b in self.members.values()), return_exceptions=True)


class FleetLogPoller(LogPoller):
    """Every gateway context of a fleet, polled side by side (`logs --fleet`).

    Only contexts that keep a log buffer (gateways) are polled. Plugin names become
    the fleet's (`alpha@prod` where a name is in several contexts), and a round's
    entries are merged oldest first. A context that fails says so, named, while the
    others go on.
    """

    def __init__(
        self,
        fleet: FleetBackend,
        *,
        min_level: str | None = None,
        interval: float = DEFAULT_LOG_POLL_S,
    ) -> None:
        self.fleet = fleet
        self.interval = interval
        self.pollers = {
            context: poller
            for context, backend in fleet.members.items()
            if (poller := backend.log_poller(min_level=min_level)) is not None
        }
        self._listed = False

    async def poll_round(self) -> tuple[list[dict[str, Any]], list[GoatError]]:
        if not self._listed:
            # The fleet's names (alpha@prod) come from its listing.
            with contextlib.suppress(GoatError):
                await self.fleet.list_plugins()
            self._listed = True
        contexts = list(self.pollers)
        rounds = await asyncio.gather(*(self.pollers[c].poll_round() for c in contexts))
        entries: list[dict[str, Any]] = []
        failures: list[GoatError] = []
        for context, (got, failed) in zip(contexts, rounds, strict=True):
            failures.extend(in_context(f, context) for f in failed)
            entries.extend(self._named(context, entry) for entry in got)
        entries.sort(key=entry_time)  # each context's are in order already: a stable merge
        return entries, failures

    def _named(self, context: str, entry: dict[str, Any]) -> dict[str, Any]:
        if entry["fields"].get("goatui") == "gap":
            return {**entry, "message": f"context {context}: {entry['message']}"}
        return {**entry, "plugin": self.fleet.shown_name(context, entry["plugin"])}


def in_context(error: GoatError, context: str) -> GoatError:
    """The same error (class, exit code, hint), its message naming the context."""
    named = copy.copy(error)
    named.message = f"context {context}: {error.message}"
    return named
