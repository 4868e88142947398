"""What goatui's host keeps for the plugins it hosts, whatever the transport.

The gRPC HostService (`host.py`) and GoatFlow's WASM host calls
(`goatui.core.backends.wasm`) answer from the same `HostState`: the config's
[plugins.NAME] sections, the log stream, a cache per plugin with TTL, the `--db` SQLite
file, and the trace of host calls. No gRPC here: a WASM plugin's call does not pay for it.
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
from goatui.core.logs import LogStore, Ring

if TYPE_CHECKING:
    # Imported when a database is used: most runs have none.
    import sqlite3

DEFAULT_TRACE_SIZE = 2_000
DEFAULT_DB_TIMEOUT_S = 10.0
# A plugin's cache is bounded too: a runaway plugin must not eat goatui's memory.
DEFAULT_CACHE_ENTRIES = 10_000
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


class HostCache:
    """Key/value with TTL, one namespace per plugin (a plugin cannot read another's)."""

    def __init__(
        self,
        max_entries: int = DEFAULT_CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._data: dict[tuple[str, str], tuple[bytes, float | None]] = {}

    def get(self, plugin: str, key: str) -> bytes | None:
        item = self._data.get((plugin, key))
        if item is None:
            return None
        value, expires = item
        if expires is not None and self._clock() >= expires:
            del self._data[(plugin, key)]
            return None
        return value

    def set(self, plugin: str, key: str, value: bytes, ttl: int) -> None:
        expires = self._clock() + ttl if ttl > 0 else None
        self._data.pop((plugin, key), None)
        if len(self._data) >= self.max_entries:
            self._purge_expired()
        while len(self._data) >= self.max_entries:
            # Dicts keep insertion order: drop the oldest write.
            del self._data[next(iter(self._data))]
        self._data[(plugin, key)] = (value, expires)

    def delete(self, plugin: str, key: str) -> None:
        self._data.pop((plugin, key), None)

    def keys(self, plugin: str) -> list[str]:
        self._purge_expired()
        return [key for (owner, key) in self._data if owner == plugin]

    def _purge_expired(self) -> None:
        now = self._clock()
        expired = [k for k, (_, exp) in self._data.items() if exp is not None and now >= exp]
        for k in expired:
            del self._data[k]


class Database:
    """A SQLite file for DBQuery/DBExec. Each call runs in a worker thread with a deadline.

    DBQuery runs read-only (PRAGMA query_only); changes go through DBExec, which commits.
    """

    def __init__(self, path: Path, timeout: float = DEFAULT_DB_TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout

    def _connect(self) -> sqlite3.Connection:
        import sqlite3

        # Autocommit: each DBExec is its own transaction, as database/sql's Exec would be.
        return sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )

    async def _run(self, work: Callable[[sqlite3.Connection], R]) -> R:
        import sqlite3

        opened: list[sqlite3.Connection] = []

        def in_thread() -> R:
            # Opening the file may block too: it happens in the thread as well.
            connection = self._connect()
            opened.append(connection)
            try:
                return work(connection)
            finally:
                connection.close()

        try:
            return await asyncio.wait_for(asyncio.to_thread(in_thread), self.timeout)
        except TimeoutError:
            # The thread keeps running after wait_for gives up: stop the statement.
            for connection in opened:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    connection.interrupt()
            raise StoreError(
                "DEADLINE_EXCEEDED", f"query took longer than {self.timeout:g}s"
            ) from None
        except sqlite3.Error as exc:
            raise StoreError("INVALID_ARGUMENT", f"sqlite: {exc}") from None

    async def query(self, sql: str, args: list[str]) -> list[dict[str, Any]]:
        def work(connection: sqlite3.Connection) -> list[dict[str, Any]]:
            connection.execute("PRAGMA query_only = ON")
            cursor = connection.execute(sql, args)
            names = [column[0] for column in cursor.description or ()]
            return [
                {name: _json_value(value) for name, value in zip(names, row, strict=True)}
                for row in cursor.fetchall()
            ]

        return await self._run(work)

    async def execute(self, sql: str, args: list[str]) -> int:
        def work(connection: sqlite3.Connection) -> int:
            return connection.execute(sql, args).rowcount

        return await self._run(work)


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
    ) -> None:
        self.config = config
        self.logs = logs
        self.cache = HostCache()
        self.trace = HostTrace(trace_size)
        self.db = Database(db_path, db_timeout) if db_path is not None else None

    def database(self) -> Database:
        """The --db file, or StoreError FAILED_PRECONDITION saying how to give one."""
        if self.db is None:
            raise StoreError("FAILED_PRECONDITION", NO_DB_MESSAGE)
        return self.db
