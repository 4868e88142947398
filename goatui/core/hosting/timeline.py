"""What a plugin did while serving one call: its host calls and log lines, in order.

The console's Invoke view shows it under a result; `goatui call --trace` prints it.
Both read what goatui's host recorded (HostTrace, the log stream) between the call's
start and end, so it exists for the plugins goatui hosts: WASM modules it runs,
plugins it launched or attached to. Plugin text is sanitised here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from goatui.core.hosting.stores import HostCall
from goatui.core.logs import LogEntry
from goatui.core.sanitize import sanitize_line

#: Lines shown at most; the rest are counted.
TIMELINE_LINES = 50


def during(
    plugin: str,
    started: float,
    ended: float,
    calls: Iterable[HostCall] = (),
    logs: Iterable[LogEntry] = (),
) -> tuple[list[HostCall], list[LogEntry]]:
    """The plugin's host calls and log lines stamped between started and ended (wall clock)."""
    return (
        [c for c in calls if c.plugin == plugin and started <= c.timestamp <= ended],
        [e for e in logs if e.plugin == plugin and started <= e.timestamp <= ended],
    )


def timeline_lines(
    calls: Sequence[HostCall],
    started: float,
    *,
    logs: Sequence[LogEntry] = (),
    heading: str = "",
    limit: int = TIMELINE_LINES,
    more: str = "",
) -> list[str]:
    """One line per host call (offset from the call's start, method, duration, outcome,
    detail) and per log line (offset, level, message), oldest first."""
    events: list[tuple[float, str]] = []
    for call in calls:
        events.append(
            (
                call.timestamp,
                f"{call.method:<11} {call.duration_ms:7.2f}ms  "
                f"{sanitize_line(call.outcome)}  {sanitize_line(call.detail)}",
            )
        )
    for entry in logs:
        events.append(
            (entry.timestamp, f"{'log ' + entry.level:<11}  {sanitize_line(entry.message)}")
        )
    events.sort(key=lambda event: event[0])
    if not heading:
        heading = f"host calls while serving it ({len(calls)}):"
    lines = [heading]
    for at, text in events[:limit]:
        lines.append(f"  +{(at - started) * 1000:7.1f}ms  {text}")
    if len(events) > limit:
        lines.append(f"  … {len(events) - limit} more{more}")
    return lines
