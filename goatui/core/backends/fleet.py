"""Several contexts seen as one: plugins across hosts behind the `Backend` interface.

`FleetBackend` holds one backend per context (from `contexts.backend_for_context`)
and routes every request to the context a plugin lives in.

Names (`composite.CompositeBackend`, which it shares with `local`): a plugin keeps its
own name while only one context has it; a name found in several contexts becomes
`name@context` in each of them, and `name@context` is accepted for any plugin.

Every plugin's `PluginInfo.where` is its context's name. A context that cannot list its
plugins (a gateway down) shows as one unreachable entry named `@context`, so the
failure is visible where the plugins would be; only when every context fails does
listing raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Mapping
from typing import Any

from goatui.core.backends.base import (
    Backend,
    Capabilities,
    LogPoller,
    LogSource,
    Origin,
    SignInStatus,
    entry_time,
)
from goatui.core.backends.composite import CompositeBackend
from goatui.core.backends.gateway.logpoll import DEFAULT_LOG_POLL_S
from goatui.core.errors import GoatError, NotFound, Unreachable, UsageError
from goatui.core.models import PluginInfo


class FleetBackend(CompositeBackend):
    """Plugins of several contexts, by name or `name@context`."""

    member_word = "context"
    unlisted = "not in the fleet's listing"
    shows_where = True

    def __init__(self, members: Mapping[str, Backend]) -> None:
        if not members:
            raise UsageError("a fleet needs at least one context")
        super().__init__(members)
        self.label = "fleet (" + ", ".join(self.members) + ")"
        buffered = any(b.capabilities.logs is LogSource.BUFFER for b in self.members.values())
        self.capabilities = Capabilities(
            logs=LogSource.BUFFER if buffered else LogSource.HOSTED,
            enable_disable=any(b.capabilities.enable_disable for b in self.members.values()),
            probes_together=all(b.capabilities.probes_together for b in self.members.values()),
        )
        self.warnings = [f"{name}: {w}" for name, b in self.members.items() for w in b.warnings]

    def __repr__(self) -> str:
        return f"FleetBackend({list(self.members)!r})"

    async def list_plugins(self) -> list[PluginInfo]:
        infos = self._shown(await self._gather_listings())
        # A context that could not list its plugins is one unreachable row in its place.
        for context, error in self.failures.items():
            infos.append(
                PluginInfo(
                    name=f"@{context}",
                    target=self.members[context].label,
                    error=error.line(),
                    where=context,
                )
            )
        return infos

    def not_found(self, name: str) -> GoatError:
        if self.failures:
            context, error = next(iter(self.failures.items()))
            return Unreachable(f"plugin {name!r} not found; context {context}: {error.line()}")
        known = ", ".join(sorted(self._routes)) or "none found"
        return NotFound(f"unknown plugin {name!r} in the fleet (known: {known})", "see `goatui ls`")

    def sign_in_status(self) -> list[SignInStatus]:
        return [status for b in self.members.values() for status in b.sign_in_status()]

    def _member_for(self, gateway: str | None) -> Backend:
        """The member whose gateway this is (the only one, when none is named)."""
        gateways = {
            status.gateway: backend
            for backend in self.members.values()
            for status in backend.sign_in_status()
        }
        if gateway is None and len(gateways) == 1:
            return next(iter(gateways.values()))
        if gateway in gateways:
            return gateways[gateway]
        raise UsageError(
            "sign in to one gateway at a time", "name it: --context NAME or --gateway URL"
        )

    async def sign_in(
        self, login: str, password: str, *, gateway: str | None = None
    ) -> SignInStatus:
        member = self._member_for(gateway)
        return await member.sign_in(login, password, gateway=gateway)

    def sign_out(self, *, gateway: str | None = None) -> bool:
        return self._member_for(gateway).sign_out(gateway=gateway)

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
