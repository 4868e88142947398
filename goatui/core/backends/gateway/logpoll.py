"""Following GoatFlow's plugin log buffer (GET /plugins/logs) without gaps or repeats."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from goatui.core.backends.base import LogPoller
from goatui.core.errors import GoatError
from goatui.core.logs import level_rank

if TYPE_CHECKING:
    from goatui.core.backends.gateway.rest import GatewayBackend

# GoatFlow keeps the last 1,000 plugin log entries (PROTOCOL.md): ask for all of them.
GOATFLOW_LOG_RING = 1000
DEFAULT_LOG_POLL_S = 2.0


@dataclass(frozen=True)
class LogPage:
    """One GET /plugins/logs answer: entries newest first, as GoatFlow sends them."""

    entries: list[dict[str, Any]]
    count: int
    total: int


def normalise_entry(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A log entry in GoatFlow's shape with the types goatui relies on (strings)."""

    def text(key: str) -> str:
        value = raw.get(key)
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    fields = raw.get("fields")
    return {
        "timestamp": text("timestamp"),
        "plugin": text("plugin"),
        "level": text("level"),
        "message": text("message"),
        "fields": (
            {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
            if isinstance(fields, dict)
            else {}
        ),
    }


def _fingerprint(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True)


def gap_marker(message: str, missing: int | None = None) -> dict[str, Any]:
    """An entry saying what the log view cannot show, in GoatFlow's shape."""
    fields = {"goatui": "gap"}
    if missing is not None:
        fields["missing"] = str(missing)
    return {
        "timestamp": datetime.now().astimezone().isoformat(timespec="microseconds"),
        "plugin": "goatui",
        "level": "warn",
        "message": message,
        "fields": fields,
    }


class LogMerger:
    """Turns successive answers of GET /plugins/logs into a gap-free, duplicate-free stream.

    Each answer is the whole buffer (GoatFlow keeps 1,000 entries, newest first); what
    is new is what stands in front of the longest run continuing the previous answer.
    When nothing of the previous answer is left, the buffer was cleared (it holds fewer
    entries than before, or is not full) or moved on by more than its size, and a
    marker entry says so. Pure logic, no I/O: the poller feeds it.
    """

    def __init__(self, limit: int = GOATFLOW_LOG_RING, min_level: str | None = None) -> None:
        self.limit = limit
        self.min_level = min_level
        self._previous: list[str] = []
        self._previous_total = 0
        self._polled = False

    def merge(self, page: LogPage) -> list[dict[str, Any]]:
        """New entries of this answer, oldest first, after a marker when some were lost."""
        current = [_fingerprint(e) for e in page.entries]
        previous, self._previous = self._previous, current
        previous_total, self._previous_total = self._previous_total, page.total
        first, self._polled = not self._polled, True
        new = _new_count(previous, current)
        full = page.total >= self.limit or page.count >= self.limit
        out: list[dict[str, Any]] = []
        if previous and new == len(current):
            # Nothing of the last answer is left: the buffer was emptied or moved on.
            if page.total < previous_total or not full:
                out.append(
                    gap_marker(
                        "gateway log buffer was cleared; entries logged between the last "
                        "poll and the clear are missing"
                    )
                )
            else:
                out.append(
                    gap_marker(
                        f"gateway log buffer overflowed: more than its {page.total} entries "
                        "were logged since the last poll; some entries are missing "
                        "(poll faster, or filter by plugin)"
                    )
                )
        elif not first and previous_total == 0 and full and current:
            # Empty at the last poll and full now: the oldest new ones may have dropped.
            out.append(
                gap_marker(
                    f"gateway log buffer filled up ({page.total} entries) since the last "
                    "poll; earlier entries may be missing"
                )
            )
        fresh = list(reversed(page.entries[:new]))
        if self.min_level:
            floor = level_rank(self.min_level)
            fresh = [e for e in fresh if level_rank(e["level"]) >= floor]
        return out + fresh


class GatewayLogPoller(LogPoller):
    """Follows GoatFlow's plugin logs by polling GET /plugins/logs; no Textual here.

    Only one filter applies server side (GATEWAY_API.md), and GoatFlow versions differ
    in what `level` means there, so only `plugin` is sent; `min_level` is applied here.
    Entries come out as dicts in GoatFlow's shape, oldest first; `store_sink` feeds them
    to goatui's LogStore.
    """

    def __init__(
        self,
        backend: GatewayBackend,
        *,
        plugin: str | None = None,
        min_level: str | None = None,
        limit: int = GOATFLOW_LOG_RING,
        interval: float = DEFAULT_LOG_POLL_S,
    ) -> None:
        self.backend = backend
        self.plugin = plugin
        self.limit = limit
        self.interval = interval
        self.merger = LogMerger(limit, min_level)

    async def poll(self) -> list[dict[str, Any]]:
        """Fetch once; the entries not seen before, oldest first (GoatError on failure)."""
        page = await self.backend.fetch_logs(plugin=self.plugin, limit=self.limit)
        return self.merger.merge(page)

    async def poll_round(self) -> tuple[list[dict[str, Any]], list[GoatError]]:
        try:
            return await self.poll(), []
        except GoatError as exc:
            return [], [exc]


def _new_count(previous: list[str], current: list[str]) -> int:
    """How many of current (newest first) come before its overlap with previous.

    The buffer only grows at the front and loses entries at the back, so current is
    `new + previous[:len(current) - new]`; the smallest such `new` is taken (a repeated
    identical entry is one entry, not several).
    """
    if not previous:
        return len(current)
    head = previous[0]
    for start, fingerprint in enumerate(current):
        if fingerprint != head:
            continue
        rest = current[start:]
        if len(rest) <= len(previous) and rest == previous[: len(rest)]:
            return start
    return len(current)
