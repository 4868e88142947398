"""Pure formatting for the console: sparklines, durations, latencies, health tones.

No Textual and no I/O, so every function here is unit-testable on its own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from goatui.core.models import Health
from goatui.core.monitor import GONE, PENDING

BLOCKS = "▁▂▃▄▅▆▇█"

# The theme variable each status is drawn in; the word is always shown as well.
_TONES: dict[str, str] = {
    Health.SERVING: "success",
    Health.ENABLED: "success",
    Health.NOT_SERVING: "error",
    Health.UNREACHABLE: "error",
    Health.UNKNOWN: "warning",
    Health.SERVICE_UNKNOWN: "warning",
    Health.DISABLED: "warning",
    # Lazy loading: nothing wrong, it starts on its first call.
    Health.NOT_LOADED: "muted",
    PENDING: "muted",
    GONE: "muted",
}

_MARKS: dict[str, str] = {
    Health.SERVING: "●",
    Health.ENABLED: "●",
    Health.NOT_SERVING: "▲",
    Health.UNREACHABLE: "✖",
    Health.NOT_LOADED: "◌",
    PENDING: "…",
    GONE: "○",
}


def tone(status: str) -> str:
    """ "success", "error", "warning" or "muted" for a status word."""
    return _TONES.get(status, "warning")


def status_label(status: str) -> str:
    """The status as shown: a mark and the word (never colour alone)."""
    return f"{_MARKS.get(status, '◆')} {status}"


def sparkline(values: Sequence[float], width: int = 10) -> str:
    """The last `width` values as unicode blocks, scaled between their min and max."""
    recent = list(values)[-width:] if width > 0 else []
    if not recent:
        return ""
    low, high = min(recent), max(recent)
    span = high - low
    top = len(BLOCKS) - 1
    if span <= 0:
        return BLOCKS[0] * len(recent)
    return "".join(BLOCKS[round((v - low) / span * top)] for v in recent)


def fmt_ms(value: float | None) -> str:
    """Milliseconds with about three significant digits; "-" when unknown."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def fmt_latency(last: float | None, p50: float | None) -> str:
    return f"{fmt_ms(last)} / {fmt_ms(p50)}"


def fmt_age(seconds: float) -> str:
    """A short duration: 7s, 3m05s, 2h04m, 3d01h."""
    total = max(int(seconds), 0)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def fmt_clock(timestamp: float) -> str:
    """Local wall-clock time of a timestamp, HH:MM:SS."""
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


def shorten(text: str, limit: int) -> str:
    """text cut to limit characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
