"""Time zones and times as the operator reads them: the local zone (DST rules included),
"in 3h 12m", and next-run labels that name the zone where a wall time repeats.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo


def utc() -> tzinfo:
    return UTC


def _zone_from_key(key: str) -> tzinfo | None:
    try:
        return ZoneInfo(key)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _system_zone() -> tzinfo | None:
    """The zone /etc/localtime names, DST rules included."""
    localtime = Path("/etc/localtime")
    try:
        target = str(localtime.resolve())
    except OSError:
        return None
    if "/zoneinfo/" in target:
        zone = _zone_from_key(target.split("/zoneinfo/", 1)[1])
        if zone is not None:
            return zone
    return _zone_from_file(localtime)


def _zone_from_file(path: Path) -> tzinfo | None:
    try:
        with path.open("rb") as handle:
            return ZoneInfo.from_file(handle, key=path.name)
    except (OSError, ValueError):
        return None


def local_zone() -> tzinfo:
    """The operator's zone: $TZ when it names an IANA zone, else the system's.

    datetime.now().astimezone().tzinfo is only the last resort: it is a fixed offset,
    so next runs computed with it would be an hour off across a DST change.
    """
    setting = os.environ.get("TZ", "").strip()
    if setting:
        name = setting.removeprefix(":")
        zone = _zone_from_file(Path(name)) if name.startswith("/") else _zone_from_key(name)
        if zone is not None:
            return zone
        # A POSIX rule string ("CET-1CEST,M3.5.0,M10.5.0/3"): libc applies it, so the
        # current offset below is right even though zoneinfo cannot read the rule.
    else:
        zone = _system_zone()
        if zone is not None:
            return zone
    return datetime.now().astimezone().tzinfo or UTC


def humanize_delta(seconds: float) -> str:
    """Say a time difference: "in 3h 12m", "in 45s", "in 2d 4h", "now", "3m ago".

    The two largest units, truncated rather than rounded (a run "in 59s" is not "in 1m").
    """
    if not math.isfinite(seconds):
        return "never"
    total = int(abs(seconds))
    if total == 0:
        return "now"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    first = next(i for i, (amount, _) in enumerate(units) if amount)
    shown = [f"{amount}{unit}" for amount, unit in units[first : first + 2] if amount]
    text = " ".join(shown)
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _ambiguous(dt: datetime) -> bool:
    """True when this wall time happens twice in its zone (the fall-back hour)."""
    if dt.tzinfo is None:
        return False
    return dt.replace(fold=1 - dt.fold).utcoffset() != dt.utcoffset()


def format_next(dt: datetime, now: datetime) -> str:
    """Like "2026-11-26 06:00 (in 14h 59m)"; the zone is named when the wall time repeats."""
    # timestamp() honours fold; plain subtraction of same-zone datetimes would not.
    delta = dt.timestamp() - now.timestamp()
    label = f"{dt:%Y-%m-%d %H:%M}"
    if _ambiguous(dt):
        label += f" {dt.tzname()}"
    return f"{label} ({humanize_delta(delta)})"


def in_zone(timestamp: float, zone: tzinfo) -> datetime:
    return datetime.fromtimestamp(timestamp, zone)


def zone_label(zone: tzinfo, now: float) -> str:
    """The zone's IANA key ("Europe/Berlin") when it has one, else its abbreviation."""
    key = getattr(zone, "key", None)
    if isinstance(key, str) and key:
        return key
    return in_zone(now, zone).tzname() or "local"
