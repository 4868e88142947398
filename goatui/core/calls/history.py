"""Every call made from the console, kept in $XDG_STATE_HOME/goatui/history.jsonl.

One JSON object per line, newest last. The file is bounded: once it holds `limit` plus
a slack of lines it is rewritten (atomically) with the newest `limit`. Only what recall
needs is stored (plugin, function, args as typed, when, duration, outcome): no
connection details, and every secret goatui holds scrubbed from args and outcome
(`goatui.core.secrets`), so never a gateway token. The file is private to the user (0600).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from goatui.core.config import state_home
from goatui.core.filelock import open_locked, thread_lock, write_all
from goatui.core.sanitize import sanitize_json_text
from goatui.core.secrets import scrub

HISTORY_LIMIT = 500
# Args longer than this are not kept (a recall of half a document would be invalid JSON).
MAX_ARGS_CHARS = 16 * 1024

Outcome = Literal["ok", "error", "cancelled"]
_OUTCOMES = ("ok", "error", "cancelled")


def history_path() -> Path:
    return state_home() / "history.jsonl"


@dataclass(frozen=True)
class HistoryEntry:
    plugin: str
    function: str
    args: str
    at: float
    duration_ms: float | None
    outcome: Outcome
    # The gRPC code ("OK", "UNKNOWN" ...) or the error line.
    detail: str = ""
    args_dropped: bool = False

    @classmethod
    def make(
        cls,
        plugin: str,
        function: str,
        args: str,
        at: float,
        duration_ms: float | None,
        outcome: Outcome,
        detail: str = "",
    ) -> HistoryEntry:
        """An entry with oversized args dropped (and flagged) instead of stored, and
        every secret goatui holds scrubbed from what is kept."""
        dropped = len(args) > MAX_ARGS_CHARS
        return cls(
            plugin,
            function,
            "" if dropped else scrub(args),
            at,
            duration_ms,
            outcome,
            scrub(detail),
            dropped,
        )

    def to_line(self) -> str:
        # Lone surrogates and invisible characters as \u escapes: the same JSON, encodable.
        return sanitize_json_text(
            json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))
        )

    @classmethod
    def from_line(cls, line: str) -> HistoryEntry | None:
        """Parse one line; None for anything malformed (a bad line must not lose the rest)."""
        try:
            data: Any = json.loads(line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        texts = [data.get(k) for k in ("plugin", "function", "args", "detail")]
        at, duration, outcome = data.get("at"), data.get("duration_ms"), data.get("outcome")
        if not all(isinstance(t, str) for t in texts[:3]) or not isinstance(at, int | float):
            return None
        if duration is not None and not isinstance(duration, int | float):
            return None
        if outcome not in _OUTCOMES:
            return None
        detail = texts[3] if isinstance(texts[3], str) else ""
        return cls(
            str(texts[0]),
            str(texts[1]),
            str(texts[2]),
            float(at),
            None if duration is None else float(duration),
            outcome,
            detail,
            bool(data.get("args_dropped", False)),
        )


class History:
    """The call history file, read lazily and appended to one line per call.

    Methods do blocking file I/O: the console calls them from a worker thread. Appends
    and compaction take the audit log's lock (`goatui.core.filelock`: threads and other
    goatui processes), and compaction re-reads the file under it, so two consoles
    recording calls at once lose none.
    """

    def __init__(self, path: Path | None = None, limit: int = HISTORY_LIMIT) -> None:
        self.path = path if path is not None else history_path()
        self.limit = max(limit, 1)
        self.slack = max(self.limit // 5, 10)
        self._entries: deque[HistoryEntry] | None = None
        self._lines_on_disk = 0
        self._lock = threading.Lock()

    def entries(self) -> list[HistoryEntry]:
        """Every kept entry, oldest first."""
        with self._lock:
            return list(self._load())

    def latest_calls(self, plugin: str) -> dict[str, HistoryEntry]:
        """The newest call of each function of plugin, newest first; from memory only
        (nothing until the file has been read: the console reads it in a thread)."""
        with self._lock:
            entries = list(self._entries or ())
        latest: dict[str, HistoryEntry] = {}
        for entry in reversed(entries):
            if entry.plugin == plugin and entry.function not in latest:
                latest[entry.function] = entry
        return latest

    def recall(self, plugin: str | None = None) -> list[HistoryEntry]:
        """Entries newest first, only plugin's when given."""
        return [e for e in reversed(self.entries()) if plugin is None or e.plugin == plugin]

    def at(self, index: int, plugin: str | None = None) -> HistoryEntry | None:
        """The entry `index` calls back (0 is the newest), as `recall` orders; None past the end.

        For replay: the entry's plugin, function and args are the call to make again.
        """
        entries = self.recall(plugin)
        return entries[index] if 0 <= index < len(entries) else None

    def append(self, entry: HistoryEntry) -> None:
        """Keep entry in memory and on disk. Raises OSError when the file cannot be written."""
        with self._lock, thread_lock(self.path):
            entries = self._load()
            entries.append(entry)
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = open_locked(self.path)
            try:
                if self._lines_on_disk + 1 > self.limit + self.slack:
                    # Other processes may have added lines: compact what is there now.
                    self._entries = None
                    entries = self._load()
                    entries.append(entry)
                    self._rewrite(entries)
                    return
                write_all(fd, (entry.to_line() + "\n").encode("utf-8"))
                self._lines_on_disk += 1
            finally:
                os.close(fd)  # after the rewrite: a process waiting reopens the new file

    def _load(self) -> deque[HistoryEntry]:
        if self._entries is not None:
            return self._entries
        entries: deque[HistoryEntry] = deque(maxlen=self.limit)
        lines = 0
        try:
            with open(self.path, encoding="utf-8", errors="replace") as file:
                for line in file:
                    lines += 1
                    entry = HistoryEntry.from_line(line)
                    if entry is not None:
                        entries.append(entry)
        except FileNotFoundError:
            pass
        except OSError:
            lines = 0  # unreadable: start afresh in memory; append will say if it fails
        self._entries = entries
        self._lines_on_disk = lines
        return entries

    def _rewrite(self, entries: deque[HistoryEntry]) -> None:
        """Replace the file with the kept entries, atomically (a crash keeps the old one)."""
        fd, tmp = tempfile.mkstemp(prefix=".history-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.writelines(e.to_line() + "\n" for e in entries)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._lines_on_disk = len(entries)
