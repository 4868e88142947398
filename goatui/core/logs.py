"""The log stream: plugins' Log calls and launched plugins' output, in GoatFlow's shape.

Entries are kept as they arrived (never sanitised here: the views do that when they
show them) in a bounded ring with a count of what overflow dropped. Readers either
subscribe (batched notifications, for `goatui logs -f`) or pull what is new since the
last sequence number they saw (the console, on its own timer). No Textual here.

Bounded in bytes, not only in entries (2,000 Log calls of 1 MB took goatui to 2 GB): an
entry keeps at most MAX_MESSAGE_BYTES of its message and MAX_FIELDS of its fields in
MAX_FIELDS_BYTES, and says in its own message what was cut; the ring drops its oldest
entries (counted in `dropped`) to hold at most DEFAULT_MAX_BYTES of memory. What an
entry holds is counted as CPython lays it out (`_entry_cost`, never less; a test measures
it), and what entries have in common is held once: the level and plugin name strings,
and the fields of consecutive entries that carry the same ones (a plugin's lines from one
call), so a flood of short lines is not dropped for memory it does not take.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from goatui.core.errors import UsageError
from goatui.core.sanitize import safe_json_dumps, sanitize_line

DEFAULT_CAPACITY = 10_000
KiB = 1024
#: What one entry keeps of what was sent (UTF-8 bytes), and the memory of the whole ring.
MAX_MESSAGE_BYTES = 64 * KiB
MAX_LEVEL_BYTES = 64
MAX_FIELDS = 64
MAX_FIELDS_BYTES = 16 * KiB
DEFAULT_MAX_BYTES = 32 * KiB * KiB
# What an entry holds beyond its strings, in CPython 3.11+ on 64 bits: the LogEntry (six
# slots, with the collector's header) 80 bytes, its timestamp (a float) 24, its sequence
# number (an int) 32, and its slot in the ring's deque 9; rounded up.
_ENTRY_OVERHEAD = 160
# A str's header with its terminator and the allocator's rounding: 48 bytes at most when
# ASCII (a byte a character), 84 otherwise (at most four bytes a character); with a margin.
_ASCII_OVERHEAD = 56
_WIDE_OVERHEAD = 88
# A dict's collector header (sys.getsizeof does not count it).
_GC_HEADER = 16
# Level and plugin strings are held once each, up to this many different ones of up to
# _INTERNED_CHARS characters (at most ~0.3 MiB, beside the ring's bound).
_INTERNED = 1024
_INTERNED_CHARS = 64
# The fields of an entry that has none: one empty dict for all of them (never mutated).
_NO_FIELDS: dict[str, str] = {}
# Subscribers hear about new entries at most this often: a firehose costs one callback
# per interval, not one per entry.
NOTIFY_INTERVAL_S = 0.1

#: goatui's own lines in the log stream carry the field `goatui`: "gap" (a gateway's
#: buffer moved past entries before they were read), "reload" (a WASM plugin's file was
#: loaded again, with `by`: "file" when it changed on disk, which the console shows at
#: once, or "operator").
GOATUI_FIELD = "goatui"
RELOAD = "reload"

LEVELS: dict[str, int] = {"debug": 10, "info": 20, "warn": 30, "error": 40}
LEVEL_NAMES = tuple(LEVELS)
# Launched plugins' output: as loud as info (GoatFlow has no such levels).
_ALIASES = {"warning": "warn", "stdout": "info", "stderr": "info", "err": "error"}


def level_rank(level: str) -> int:
    """Where a level sits in debug < info < warn < error; unknown levels count as info."""
    word = level.strip().lower()
    return LEVELS.get(_ALIASES.get(word, word), LEVELS["info"])


def parse_min_level(text: str) -> str:
    """An operator's minimum level (`warning` accepted as warn). Raises UsageError."""
    word = text.strip().lower()
    word = {"warning": "warn"}.get(word, word)
    if word not in LEVELS:
        raise UsageError(f"unknown level {text!r}", "use one of debug, info, warn, error")
    return word


def level_label(level: str) -> str:
    """A level as the CLI and the console show it: upper case, one safe line. A level
    that needed escaping is shown as it came (upper-casing `\\x1b` would only blur it)."""
    safe = sanitize_line(level)
    return safe.upper() if safe == level else safe


def rfc3339(timestamp: float) -> str:
    """UTC with microseconds, as Go's time.RFC3339Nano would print it (Z suffix)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def local_time(timestamp: float, *, date: bool = False) -> str:
    """The operator's wall clock, to the millisecond."""
    whole = math.floor(timestamp)
    millis = min(int((timestamp - whole) * 1000), 999)
    return f"{_local_seconds(whole, date)}.{millis:03d}"


@functools.lru_cache(maxsize=512)
def _local_seconds(whole: int, date: bool) -> str:
    # Converting to local time costs tens of microseconds; a firehose shares seconds.
    return time.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S", time.localtime(whole))


@dataclass(slots=True)  # never changed once made; not frozen: one per line, a hot path
class LogEntry:
    seq: int
    timestamp: float  # seconds since the epoch
    plugin: str
    level: str  # as the plugin sent it (or stdout / stderr)
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        return level_rank(self.level)

    def to_json(self) -> dict[str, Any]:
        """GoatFlow's shape: timestamp (RFC 3339), plugin, level, message, fields."""
        return {
            "timestamp": rfc3339(self.timestamp),
            "plugin": self.plugin,
            "level": self.level,
            "message": self.message,
            "fields": dict(self.fields),
        }

    def fields_text(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.fields.items())


T = TypeVar("T")


class Ring(Generic[T]):
    """A bounded, ordered buffer of items with sequence numbers and batched subscribers.

    Sequence numbers start at 1 and never repeat, so a reader that remembers the last
    one it saw can ask for exactly what is new, and learn how much it missed.
    """

    def __init__(self, capacity: int, seq_of: Callable[[T], int]) -> None:
        if capacity <= 0:
            raise UsageError("a buffer needs room for at least one entry")
        self.capacity = capacity
        self._items: deque[T] = deque(maxlen=capacity)
        self._seq_of = seq_of
        self.last_seq = 0
        self.dropped = 0
        self._subscribers: list[Callable[[list[T]], None]] = []
        self._pending: list[T] = []
        self._flush_handle: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))

    def next_seq(self) -> int:
        self.last_seq += 1
        return self.last_seq

    def append(self, item: T) -> None:
        if len(self._items) == self.capacity:
            self.dropped += 1
        self._items.append(item)
        if self._subscribers:
            self._pending.append(item)
            self._schedule_flush()

    def since(self, seq: int) -> tuple[list[T], int]:
        """Items newer than seq, oldest first, and how many newer ones overflow dropped."""
        newer: list[T] = []
        for item in reversed(self._items):
            if self._seq_of(item) <= seq:
                break
            newer.append(item)
        newer.reverse()
        first = self._seq_of(newer[0]) if newer else self.last_seq + 1
        return newer, max(0, first - seq - 1)

    def clear(self) -> None:
        self._items.clear()

    # -- subscribers -------------------------------------------------------------------

    def subscribe(self, callback: Callable[[list[T]], None]) -> Callable[[], None]:
        """Call back with batches of new items (in order); returns an unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _schedule_flush(self) -> None:
        if self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No loop (a plain script or a test): deliver at once.
            self.flush()
            return
        self._flush_handle = loop.call_later(NOTIFY_INTERVAL_S, self.flush)

    def flush(self) -> None:
        """Deliver pending items to subscribers now."""
        self._flush_handle = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        for callback in list(self._subscribers):
            callback(batch)


class LogStore(Ring[LogEntry]):
    """The log stream of one goatui run."""

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        super().__init__(capacity, _entry_seq)
        # No maxlen: the store drops entries itself, to count what each one held.
        self._items = deque()
        #: At most this much memory in entries (the newest is always kept).
        self.max_bytes = max_bytes
        self.bytes = 0
        self._strings: dict[str, str] = {}
        # The newest entry's fields: an entry with the same ones shares them.
        self._last_fields = _NO_FIELDS
        self._marked_subscribers: list[Callable[[LogEntry], None]] = []

    def add(
        self,
        plugin: str,
        level: str,
        message: str,
        fields: Mapping[str, str] | None = None,
        timestamp: float | None = None,
    ) -> LogEntry:
        now = time.time() if timestamp is None else timestamp
        return self._add(plugin, level, message, fields, now)

    def add_many(
        self, lines: Iterable[tuple[str, str, str, Mapping[str, str] | None, float]]
    ) -> None:
        """Entries (plugin, level, message, fields, timestamp) in order, as `add` each."""
        add = self._add
        for plugin, level, message, fields, timestamp in lines:
            add(plugin, level, message, fields, timestamp)

    def _add(
        self,
        plugin: str,
        level: str,
        message: str,
        fields: Mapping[str, str] | None,
        timestamp: float,
    ) -> LogEntry:
        strings = self._strings
        if (
            len(message) * 4 <= MAX_MESSAGE_BYTES
            and len(level) * 4 <= MAX_LEVEL_BYTES
            and (not fields or fields == self._last_fields)
        ):
            # Surely within every limit (the common case): nothing to measure or cut.
            kept = self._last_fields if fields else _NO_FIELDS
            cost = 0
        else:
            level, message, kept = bounded_entry(level, message, fields or _NO_FIELDS)
            if kept == self._last_fields:
                kept, cost = self._last_fields, 0
            else:
                kept = kept or _NO_FIELDS
                cost = _fields_cost(kept)
        # What _entry_cost counts, inline (a hot path; a test checks they agree).
        plugin = strings.get(plugin) or self._intern(plugin)
        level = strings.get(level) or self._intern(level)
        if message.isascii():
            cost += _ENTRY_OVERHEAD + _ASCII_OVERHEAD + len(message)
        else:
            cost += _ENTRY_OVERHEAD + _WIDE_OVERHEAD + 4 * len(message)
        if strings.get(level) is not level:
            cost += _str_cost(level)
        if strings.get(plugin) is not plugin:
            cost += _str_cost(plugin)
        self.last_seq += 1
        entry = LogEntry(self.last_seq, timestamp, plugin, level, message, kept)
        self._last_fields = kept
        self._items.append(entry)
        self.bytes += cost
        if self.bytes > self.max_bytes or len(self._items) > self.capacity:
            self._trim()
        if self._subscribers:
            self._pending.append(entry)
            self._schedule_flush()
        if self._marked_subscribers and kept is not _NO_FIELDS and GOATUI_FIELD in kept:
            for callback in list(self._marked_subscribers):
                callback(entry)
        return entry

    def subscribe_marked(self, callback: Callable[[LogEntry], None]) -> Callable[[], None]:
        """Call back with each of goatui's own lines (those with the GOATUI_FIELD field),
        as it is added; returns an unsubscribe. Costs a flood of plugin lines nothing."""
        self._marked_subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._marked_subscribers.remove(callback)

        return unsubscribe

    def _intern(self, text: str) -> str:
        if len(self._strings) < _INTERNED and len(text) <= _INTERNED_CHARS:
            return self._strings.setdefault(text, text)
        return text

    def _entry_cost(self, entry: LogEntry) -> int:
        """What an entry holds, its fields apart (see `_fields_cost`)."""
        cost = _ENTRY_OVERHEAD + _str_cost(entry.message)
        strings = self._strings
        if strings.get(entry.level) is not entry.level:
            cost += _str_cost(entry.level)
        if strings.get(entry.plugin) is not entry.plugin:
            cost += _str_cost(entry.plugin)
        return cost

    def _trim(self) -> None:
        """Drop the oldest entries until both bounds hold (the newest always stays).

        Fields shared by consecutive entries are counted with the first entry holding
        them: dropping it hands them to the next one, which then holds them."""
        items = self._items
        while len(items) > 1 and (self.bytes > self.max_bytes or len(items) > self.capacity):
            oldest = items.popleft()
            self.bytes -= self._entry_cost(oldest)
            if items[0].fields is not oldest.fields:
                self.bytes -= _fields_cost(oldest.fields)
            self.dropped += 1

    def clear(self) -> None:
        super().clear()
        self.bytes = 0
        self._last_fields = _NO_FIELDS

    def plugins(self) -> list[str]:
        """Plugin names seen in the buffer, sorted."""
        return sorted({entry.plugin for entry in self._items})


def _entry_seq(entry: LogEntry) -> int:
    return entry.seq


def _str_cost(text: str) -> int:
    """The most a str of this text takes (see _ASCII_OVERHEAD)."""
    if text.isascii():
        return _ASCII_OVERHEAD + len(text)
    return _WIDE_OVERHEAD + 4 * len(text)


def _fields_cost(fields: dict[str, str]) -> int:
    """What a fields dict holds: the dict and its keys' and values' strings."""
    if fields is _NO_FIELDS:
        return 0
    cost = sys.getsizeof(fields) + _GC_HEADER
    for key, value in fields.items():
        cost += _str_cost(key) + _str_cost(value)
    return cost


def cut_utf8(text: str, limit: int) -> tuple[str, int]:
    """text cut to at most limit bytes of UTF-8 (whole characters), and its own size in
    bytes (0 when it fits: not measured)."""
    if len(text) * 4 <= limit:
        return text, 0
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text, 0
    return data[:limit].decode("utf-8", "ignore"), len(data)


def bounded_entry(
    level: str, message: str, fields: Mapping[str, str]
) -> tuple[str, str, dict[str, str]]:
    """What an entry keeps of what was sent (what was cut is said at its message's end);
    the fields are a copy."""
    chars = sum(map(len, fields)) + sum(map(len, fields.values())) if fields else 0
    if (
        len(message) * 4 <= MAX_MESSAGE_BYTES
        and len(level) * 4 <= MAX_LEVEL_BYTES
        and len(fields) <= MAX_FIELDS
        and chars * 4 <= MAX_FIELDS_BYTES
    ):
        return level, message, dict(fields)
    notes: list[str] = []
    level, level_size = cut_utf8(level, MAX_LEVEL_BYTES)
    if level_size:
        notes.append(f"level cut from {level_size:,} bytes")
    message, message_size = cut_utf8(message, MAX_MESSAGE_BYTES)
    if message_size:
        notes.append(f"message cut from {message_size:,} to {MAX_MESSAGE_BYTES:,} bytes")
    if len(fields) <= MAX_FIELDS and chars * 4 <= MAX_FIELDS_BYTES:
        kept = dict(fields)
    else:
        kept = _bounded_fields(fields, notes)
    if notes:
        message += f" [goatui: {'; '.join(notes)}]"
    return level, message, kept


def _bounded_fields(fields: Mapping[str, str], notes: list[str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    room = MAX_FIELDS_BYTES
    for key, value in fields.items():
        if len(kept) == MAX_FIELDS or room <= 0:
            break
        key, _ = cut_utf8(key, room)
        room -= len(key.encode("utf-8", "surrogatepass"))
        value, value_size = cut_utf8(value, max(room, 0))
        room -= len(value.encode("utf-8", "surrogatepass"))
        kept[key] = value
        if value_size:
            notes.append(f"field {key!r} cut from {value_size:,} bytes")
    if len(kept) < len(fields):
        limits = f"at most {MAX_FIELDS}, {MAX_FIELDS_BYTES // KiB} KiB in all"
        notes.append(f"{len(fields) - len(kept):,} of {len(fields):,} fields dropped ({limits})")
    return kept


@dataclass(frozen=True)
class LogFilter:
    """What the operator wants to see. Empty fields match everything.

    Text is matched case-insensitively against the message, the fields (`k=v k=v`) and
    the plugin name, each on its own; with regex=True it is a Python regular expression.
    """

    plugins: frozenset[str] = frozenset()
    min_level: str | None = None
    text: str = ""
    regex: bool = False
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.min_level is not None:
            object.__setattr__(self, "min_level", parse_min_level(self.min_level))
        if self.text:
            object.__setattr__(self, "_pattern", compile_search(self.text, regex=self.regex))

    @property
    def pattern(self) -> re.Pattern[str] | None:
        return self._pattern

    @property
    def is_empty(self) -> bool:
        return not self.plugins and self.min_level is None and not self.text

    def matches(self, entry: LogEntry) -> bool:
        if self.plugins and entry.plugin not in self.plugins:
            return False
        if self.min_level is not None and entry.rank < LEVELS[self.min_level]:
            return False
        if self._pattern is not None:
            # Each part on its own, so `^` and `$` anchor to the message as one expects.
            search = self._pattern.search
            if not (
                search(entry.message)
                or (entry.fields and search(entry.fields_text()))
                or search(entry.plugin)
            ):
                return False
        return True

    def apply(self, entries: Iterable[LogEntry]) -> list[LogEntry]:
        if self.is_empty:
            return list(entries)
        return [e for e in entries if self.matches(e)]


def compile_search(text: str, *, regex: bool) -> re.Pattern[str]:
    """A search pattern: a regex as given, or plain text matched ignoring case."""
    if not regex:
        return re.compile(re.escape(text), re.IGNORECASE)
    try:
        return re.compile(text)
    except re.error as exc:
        raise UsageError(f"invalid regular expression {text!r}: {exc}") from None


def to_jsonl(entry: LogEntry) -> str:
    """One JSON Lines record; terminal-safe and still valid JSON."""
    return safe_json_dumps(entry.to_json(), indent=None)


def export_jsonl(entries: Iterable[LogEntry], path: Path) -> int:
    """Write entries to path as JSON Lines (oldest first); returns how many were written."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for entry in entries:
            out.write(to_jsonl(entry))
            out.write("\n")
            count += 1
    return count


def default_export_path(directory: Path | None = None) -> Path:
    """A fresh file name for an export: goatui-logs-YYYYmmdd-HHMMSS.jsonl."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = directory or Path.cwd()
    path = base / f"goatui-logs-{stamp}.jsonl"
    n = 1
    while path.exists():
        n += 1
        path = base / f"goatui-logs-{stamp}-{n}.jsonl"
    return path
