"""Plugin state changes as few notices: one per cause, paced per plugin. No Textual here.

A process serving 120 plugins dies, or a gateway goes down, and 120 plugins change
state within a second or two: that is one event, and the operator gets one notice
("120 plugins unreachable: fleet-1, fleet-2, fleet-3, … · the reason"), not 120 toasts
over the screen. Changes are gathered until none has come for `QUIET_S` (at most
`MAX_WAIT_S`), then told as one notice per new status. A plugin gets at most
`PER_PLUGIN` notices within `PER_PLUGIN_S` (down and back up again are both told at
once); past that it is flapping: one notice per `PER_PLUGIN_S` says how often it
changed, until it has been quiet that long.

`TransitionNotices` only decides; the console asks it when to look again (`due`) and
shows what `flush` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from goatui.core.models import Health, natural_key

QUIET_S = 0.5
MAX_WAIT_S = 3.0
PER_PLUGIN = 3
# A plugin's changes told at once are a path (A → B → C) up to this many.
PATH_SHOWN = 3
PER_PLUGIN_S = 10.0
# A notice about several plugins names this many of them.
NAMES_SHOWN = 3

Severity = Literal["information", "warning", "error"]

#: How a notice about several plugins words their new status.
_GROUP_WORDS = {
    Health.SERVING: "serving again",
    Health.ENABLED: "enabled",
    Health.NOT_SERVING: "NOT_SERVING",
    Health.UNREACHABLE: "unreachable",
    "GONE": "gone (their sockets vanished)",
}


def severity_of(status: str) -> Severity:
    if status in (Health.SERVING, Health.ENABLED):
        return "information"
    if status in (Health.NOT_SERVING, Health.UNREACHABLE, "GONE"):
        return "error"
    return "warning"


@dataclass(frozen=True)
class Notice:
    text: str
    severity: Severity
    title: str = "plugin state"


@dataclass
class _Change:
    """What happened to one plugin since it was last told about."""

    old: str
    new: str
    error: str
    since: float
    count: int = 1
    #: The states it went through, told as a path while it is short.
    path: list[str] = field(default_factory=list)


@dataclass
class _Plugin:
    #: When the notices about it within the last PER_PLUGIN_S were shown, oldest first.
    told: list[float] = field(default_factory=list)
    pending: _Change | None = None
    #: Changed more often than it may be told: told once per window until quiet.
    flapping: bool = False

    def paced_until(self, now: float, count: int, window: float) -> float | None:
        """When it may be told again, if it must wait (None: now)."""
        self.told = [at for at in self.told if now < at + window]
        if self.flapping:
            count = 1
        return self.told[-count] + window if len(self.told) >= count else None


@dataclass
class TransitionNotices:
    """Collects state changes (`add`) and turns them into notices (`flush`)."""

    quiet_s: float = QUIET_S
    max_wait_s: float = MAX_WAIT_S
    per_plugin: int = PER_PLUGIN
    per_plugin_s: float = PER_PLUGIN_S
    _plugins: dict[str, _Plugin] = field(default_factory=dict)
    # The changes being gathered: when the first and the last came.
    _first_at: float | None = None
    _last_at: float = 0.0

    def add(self, name: str, old: str, new: str, error: str, now: float, changes: int = 1) -> None:
        """A plugin went from old to new (`changes`: how many changes that sums up)."""
        plugin = self._plugins.setdefault(name, _Plugin())
        if plugin.pending is None:
            plugin.pending = _Change(old, new, error, now, changes, [old, new])
        else:
            change = plugin.pending
            change.new, change.error = new, error
            change.count += changes
            if len(change.path) <= PATH_SHOWN:
                change.path.append(new)
        if self._first_at is None:
            self._first_at = now
        self._last_at = now

    def due(self) -> float | None:
        """When `flush` may have something to say (None: nothing waits)."""
        times = [
            p.told[-1 if p.flapping else 0] + self.per_plugin_s
            for p in self._plugins.values()
            if p.pending is not None and len(p.told) >= (1 if p.flapping else self.per_plugin)
        ]
        if self._first_at is not None:
            times.append(min(self._last_at + self.quiet_s, self._first_at + self.max_wait_s))
        return min(times, default=None)

    def flush(self, now: float) -> list[Notice]:
        """The notices due now: one per group of plugins whose status changed alike."""
        first = self._first_at
        gathered = first is not None and (
            now >= self._last_at + self.quiet_s or now >= first + self.max_wait_s
        )
        ready: dict[str, _Change] = {}
        for name, plugin in list(self._plugins.items()):
            change = plugin.pending
            paced = plugin.paced_until(now, self.per_plugin, self.per_plugin_s) is not None
            if change is None:
                if not plugin.told:
                    del self._plugins[name]  # nothing to tell, nothing to pace: forget it
                continue
            if paced:
                plugin.flapping = True
                continue  # told often just now: it waits its turn
            gathering = first is not None and change.since >= first
            if gathering and not gathered:
                continue  # still gathering what else changed with it
            ready[name] = change
            plugin.pending = None
            plugin.told.append(now)
        if gathered:
            self._first_at = None
        return notices_for(ready, now)


def notices_for(changes: dict[str, _Change], now: float) -> list[Notice]:
    """One notice per new status; a plugin alone is named with its change."""
    groups: dict[str, list[tuple[str, _Change]]] = {}
    for name in sorted(changes, key=natural_key):
        groups.setdefault(changes[name].new, []).append((name, changes[name]))
    notices = []
    for new, members in groups.items():
        severity = severity_of(new)
        if len(members) == 1:
            name, change = members[0]
            if change.count == len(change.path) - 1 <= PATH_SHOWN:
                text = f"{name}: " + " → ".join(change.path)
            else:
                took = max(now - change.since, 0.0)
                text = f"{name}: {change.count:,} changes in {took:.0f}s, now {new}"
            notices.append(Notice(text + (f" ({change.error})" if change.error else ""), severity))
            continue
        names = [name for name, _ in members]
        shown = ", ".join(names[:NAMES_SHOWN]) + (", …" if len(names) > NAMES_SHOWN else "")
        text = f"{len(names)} plugins {_GROUP_WORDS.get(new, new)}: {shown}"
        errors = {change.error for _, change in members if change.error}
        if len(errors) == 1:
            text += f" · {errors.pop()}"  # one cause, said once (a gateway down)
        elif errors:
            text += f" · e.g. {next(c.error for _, c in members if c.error)}"
        notices.append(Notice(text, severity))
    return notices
