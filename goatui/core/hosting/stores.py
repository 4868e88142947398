"""What goatui's host keeps for the plugins it hosts, whatever the transport.

The gRPC HostService (`host.py`) and GoatFlow's WASM host calls
(`goatui.core.backends.wasm`) answer from the same `HostState`: the config's
[plugins.NAME] sections, the log stream, a cache per plugin with TTL, the `--db` SQLite
file, and the trace of host calls. No gRPC here: a WASM plugin's call does not pay for it.

Whatever a plugin sends, what goatui keeps is bounded in bytes, not only in entries (30
CacheSet calls of 50 MB took goatui to 1.5 GB; issue #18). The cache refuses a value
over MAX_CACHE_VALUE (or a key over MAX_CACHE_KEY) and drops a plugin's oldest entries
past its share (CACHE_BYTES_PER_PLUGIN), then anyone's past CACHE_BYTES; the log stream
bounds its own entries (goatui.core.logs); a query's rows stop at the result limit.
What is refused or dropped is said in the log stream (`goatui` field "limit"), at most
once per NOTE_INTERVAL_S per plugin and kind, with the count since the last time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from goatui.core.config import Config
from goatui.core.limits import DEFAULT_MAX_MESSAGE_MB, MiB
from goatui.core.logs import GOATUI_FIELD, LogStore, Ring

if TYPE_CHECKING:
    # Imported when a database is used: most runs have none.
    import sqlite3

    from goatui.core.hosting.sqlguard import SqlGuard

DEFAULT_TRACE_SIZE = 2_000
DEFAULT_DB_TIMEOUT_S = 10.0
# A plugin's cache is bounded too: a runaway plugin must not eat goatui's memory.
DEFAULT_CACHE_ENTRIES = 10_000
MAX_CACHE_VALUE = 4 * MiB
MAX_CACHE_KEY = 1024
CACHE_BYTES_PER_PLUGIN = 32 * MiB
CACHE_BYTES = 128 * MiB
# What an entry costs beyond its key and value (the dict slot, the tuple).
_CACHE_ENTRY_OVERHEAD = 120
NOTE_INTERVAL_S = 10.0
#: The log stream's `goatui` field on a note about a bound (see GOATUI_FIELD).
LIMIT = "limit"
NO_DB_MESSAGE = "no database attached; start goatui with --db FILE"
# What a trace row shows of a key or query.
_DETAIL_MAX = 200

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class HostCall:
    """One call a plugin made to goatui's HostService."""

    seq: int
    timestamp: float
    plugin: str
    method: str
    detail: str  # the key, the query or the log level
    duration_ms: float
    outcome: str  # "ok", "not found", or "CODE: message"

    @property
    def ok(self) -> bool:
        return self.outcome in ("ok", "not found")


class HostTrace(Ring[HostCall]):
    """The last host calls, oldest first."""

    def __init__(self, capacity: int = DEFAULT_TRACE_SIZE) -> None:
        super().__init__(capacity, _call_seq)

    def record(
        self, plugin: str, method: str, detail: str, duration_ms: float, outcome: str
    ) -> HostCall:
        call = HostCall(
            self.next_seq(), time.time(), plugin, method, detail[:_DETAIL_MAX], duration_ms, outcome
        )
        self.append(call)
        return call


def _call_seq(call: HostCall) -> int:
    return call.seq


#: Whose cache entries they are: a plugin's name (WASM plugins goatui runs itself), or
#: ("socket", path) for a plugin on a socket (goatui.core.hosting.host).
CacheOwner = str | tuple[str, str]


class HostCache:
    """Key/value with TTL, one namespace per owner (a plugin cannot read another's),
    bounded in entries and in bytes: see the module doc."""

    def __init__(
        self,
        max_entries: int = DEFAULT_CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_value: int = MAX_CACHE_VALUE,
        max_bytes_per_owner: int = CACHE_BYTES_PER_PLUGIN,
        max_bytes: int = CACHE_BYTES,
    ) -> None:
        self.max_entries = max_entries
        self.max_value = max_value
        self.max_bytes_per_owner = max_bytes_per_owner
        self.max_bytes = max_bytes
        self._clock = clock
        self._data: dict[tuple[CacheOwner, str], tuple[bytes, float | None]] = {}
        self._owned: dict[CacheOwner, int] = {}  # bytes, by owner
        self.bytes = 0

    def get(self, owner: CacheOwner, key: str) -> bytes | None:
        item = self._data.get((owner, key))
        if item is None:
            return None
        value, expires = item
        if expires is not None and self._clock() >= expires:
            self._drop((owner, key))
            return None
        return value

    def set(self, owner: CacheOwner, key: str, value: bytes, ttl: int) -> int:
        """Store value; returns how many older entries went to make room. Raises
        StoreError RESOURCE_EXHAUSTED (nothing stored) for a value or key over its limit."""
        key_bytes = len(key.encode("utf-8", "surrogatepass"))
        if key_bytes > MAX_CACHE_KEY:
            raise StoreError(
                "RESOURCE_EXHAUSTED",
                f"a cache key of {key_bytes:,} bytes is over the {MAX_CACHE_KEY:,}-byte limit;"
                " nothing was stored",
            )
        if len(value) > self.max_value:
            raise StoreError(
                "RESOURCE_EXHAUSTED",
                f"a cache value of {len(value):,} bytes is over the {_size(self.max_value)}"
                " limit; nothing was stored",
            )
        expires = self._clock() + ttl if ttl > 0 else None
        self._drop((owner, key))
        size = _CACHE_ENTRY_OVERHEAD + key_bytes + len(value)
        if (
            len(self._data) >= self.max_entries
            or self.bytes + size > self.max_bytes
            or self._owned.get(owner, 0) + size > self.max_bytes_per_owner
        ):
            self._purge_expired()
        dropped = 0
        # Dicts keep insertion order: the oldest write goes first; the owner's own first.
        while self._owned.get(owner, 0) + size > self.max_bytes_per_owner:
            self._drop(next(k for k in self._data if k[0] == owner))
            dropped += 1
        while len(self._data) >= self.max_entries or self.bytes + size > self.max_bytes:
            self._drop(next(iter(self._data)))
            dropped += 1
        self._data[(owner, key)] = (value, expires)
        self._owned[owner] = self._owned.get(owner, 0) + size
        self.bytes += size
        return dropped

    def delete(self, owner: CacheOwner, key: str) -> None:
        self._drop((owner, key))

    def keys(self, owner: CacheOwner) -> list[str]:
        self._purge_expired()
        return [key for (who, key) in self._data if who == owner]

    def _drop(self, slot: tuple[CacheOwner, str]) -> None:
        item = self._data.pop(slot, None)
        if item is None:
            return
        owner, key = slot
        size = _CACHE_ENTRY_OVERHEAD + len(key.encode("utf-8", "surrogatepass")) + len(item[0])
        self.bytes -= size
        left = self._owned[owner] - size
        if left:
            self._owned[owner] = left
        else:
            del self._owned[owner]

    def _purge_expired(self) -> None:
        now = self._clock()
        expired = [k for k, (_, exp) in self._data.items() if exp is not None and now >= exp]
        for k in expired:
            self._drop(k)


def _size(count: int) -> str:
    return f"{count // MiB} MiB" if count % MiB == 0 else f"{count:,} bytes"


class Database:
    """A SQLite file for DBQuery/DBExec. Each call runs in a worker thread with a deadline,
    under goatui.core.hosting.sqlguard's authorizer: a plugin's SQL reaches this file
    and nothing else.

    DBQuery runs read-only (PRAGMA query_only); changes go through DBExec, which commits.
    A query's rows are fetched a batch at a time and stop at max_result_bytes.
    """

    def __init__(
        self,
        path: Path,
        timeout: float = DEFAULT_DB_TIMEOUT_S,
        max_result_bytes: int = DEFAULT_MAX_MESSAGE_MB * MiB,
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes

    def _connect(self, *, read_only: bool) -> tuple[sqlite3.Connection, SqlGuard]:
        import sqlite3

        from goatui.core.hosting.sqlguard import SqlGuard

        # Autocommit: each DBExec is its own transaction, as database/sql's Exec would be.
        connection = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        if read_only:
            connection.execute("PRAGMA query_only = ON")  # goatui's own, before the guard
        return connection, SqlGuard(connection, self.max_result_bytes)

    async def _run(self, work: Callable[[sqlite3.Connection], R], *, read_only: bool) -> R:
        import sqlite3

        opened: list[tuple[sqlite3.Connection, SqlGuard]] = []

        def in_thread() -> R:
            # Opening the file may block too: it happens in the thread as well.
            connection, guard = self._connect(read_only=read_only)
            opened.append((connection, guard))
            try:
                return work(connection)
            finally:
                connection.close()

        try:
            return await asyncio.wait_for(asyncio.to_thread(in_thread), self.timeout)
        except TimeoutError:
            # The thread keeps running after wait_for gives up: stop the statement.
            for connection, _guard in opened:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    connection.interrupt()
            raise StoreError(
                "DEADLINE_EXCEEDED", f"query took longer than {self.timeout:g}s"
            ) from None
        except sqlite3.Error as exc:
            refused = opened[0][1].refused if opened else ""
            if refused:
                raise StoreError(
                    "PERMISSION_DENIED", f"sqlite: not authorized: {refused}"
                ) from None
            if isinstance(exc, sqlite3.DataError) and "too big" in str(exc):
                limit = _size(self.max_result_bytes)
                raise StoreError("RESOURCE_EXHAUSTED", f"sqlite: {exc} (at most {limit})") from None
            raise StoreError("INVALID_ARGUMENT", f"sqlite: {exc}") from None

    async def query(self, sql: str, args: list[str]) -> list[dict[str, Any]]:
        def work(connection: sqlite3.Connection) -> list[dict[str, Any]]:
            cursor = connection.execute(sql, args)
            names = [column[0] for column in cursor.description or ()]
            rows: list[dict[str, Any]] = []
            size = 2  # the JSON array's brackets
            while batch := cursor.fetchmany(256):
                for row in batch:
                    item = {name: _json_value(v) for name, v in zip(names, row, strict=True)}
                    size += _json_size(item)
                    if size > self.max_result_bytes:
                        raise StoreError(
                            "RESOURCE_EXHAUSTED",
                            f"the rows are larger than the {_size(self.max_result_bytes)} result"
                            " limit; select fewer rows (LIMIT) or smaller columns",
                        )
                    rows.append(item)
            return rows

        return await self._run(work, read_only=True)

    async def execute(self, sql: str, args: list[str]) -> int:
        def work(connection: sqlite3.Connection) -> int:
            return connection.execute(sql, args).rowcount

        return await self._run(work, read_only=False)


def _json_size(row: dict[str, Any]) -> int:
    """About what a row costs as JSON (and in memory): its names and values, quoted."""
    size = 2
    for name, value in row.items():
        size += len(name) + 4 + (len(value) + 2 if isinstance(value, str) else 24)
    return size


def _json_value(value: Any) -> Any:
    # Blobs as base64, as Go's encoding/json prints []byte.
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


class StoreError(Exception):
    """A store could not do what was asked. `status` is the gRPC status name HostService
    answers with (DEADLINE_EXCEEDED, INVALID_ARGUMENT, FAILED_PRECONDITION)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class HostState:
    """Everything a hosted plugin's calls reach, shared by every way of hosting it."""

    def __init__(
        self,
        config: Config,
        logs: LogStore,
        *,
        db_path: Path | None = None,
        db_timeout: float = DEFAULT_DB_TIMEOUT_S,
        trace_size: int = DEFAULT_TRACE_SIZE,
        max_result_mb: int = DEFAULT_MAX_MESSAGE_MB,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.logs = logs
        self._clock = clock
        self.cache = HostCache(clock=clock)
        self.trace = HostTrace(trace_size)
        self.db = (
            Database(db_path, db_timeout, max_result_mb * MiB) if db_path is not None else None
        )
        # When each plugin was last told of a bound, and how often it was met since.
        self._notes: dict[tuple[str, str], tuple[float, int]] = {}

    def database(self) -> Database:
        """The --db file, or StoreError FAILED_PRECONDITION saying how to give one."""
        if self.db is None:
            raise StoreError("FAILED_PRECONDITION", NO_DB_MESSAGE)
        return self.db

    def cache_set(self, owner: CacheOwner, plugin: str, key: str, value: bytes, ttl: int) -> None:
        """A CacheSet from either transport; what the bounds refuse or drop is said."""
        try:
            dropped = self.cache.set(owner, key, value, ttl)
        except StoreError as exc:
            self.note(plugin, "cache refused", f"CacheSet {key!r} refused: {exc.message}")
            raise
        if dropped:
            bounds = f"{_size(self.cache.max_bytes_per_owner)} a plugin"
            self.note(
                plugin,
                "cache full",
                f"the cache dropped {dropped:,} older {'entry' if dropped == 1 else 'entries'}"
                f" to stay within {bounds}",
            )

    def note(self, plugin: str, kind: str, text: str) -> None:
        """Say in the log stream that a bound was met: once per NOTE_INTERVAL_S per plugin
        and kind, with how often it was met since (a flood of refusals is one line)."""
        now = self._clock()
        last, unsaid = self._notes.get((plugin, kind), (float("-inf"), 0))
        if now - last < NOTE_INTERVAL_S:
            self._notes[(plugin, kind)] = (last, unsaid + 1)
            return
        more = f" (and {unsaid:,} more since the last such note)" if unsaid else ""
        self.logs.add(plugin, "warn", f"goatui: {text}{more}", {GOATUI_FIELD: LIMIT})
        self._notes[(plugin, kind)] = (now, 0)
