"""goatui as the plugins' host: HostService on private Unix sockets, one per plugin.

Each attached plugin gets its own endpoint (its own grpc.aio server, in the event loop
that uses it), so every host call is attributed to the plugin whose endpoint received
it, never to what the plugin claims. Endpoints live in goatui's private runtime
directory (0700), each socket 0600, and go away with it. Never TCP.

What the host answers:
  Log                       → the log stream (goatui.core.logs.LogStore)
  CacheGet/Set/Delete       → an in-memory cache per plugin, honouring TTL (<=0: none)
  ConfigGet                 → the config file's [plugins.NAME] section
  DBQuery / DBExec          → a SQLite file given with --db (off the event loop, with a
                              timeout), else FAILED_PRECONDITION
Every call lands in a bounded trace the operator can see.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import grpc.aio

from goatui.core.backends.sockets.client import PluginClient
from goatui.core.config import Config
from goatui.core.errors import Unreachable
from goatui.core.hosting.runtime import RuntimeDir
from goatui.core.limits import DEFAULT_MAX_MESSAGE_MB, MiB
from goatui.core.logs import LogStore, Ring
from goatui.proto import plugin_pb2, plugin_pb2_grpc

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


class HostFailure(Exception):
    """Answer the plugin with this gRPC status."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Database:
    """A SQLite file for DBQuery/DBExec. Each call runs in a worker thread with a deadline.

    DBQuery runs read-only (PRAGMA query_only); changes go through DBExec, which commits.
    """

    def __init__(self, path: Path, timeout: float = DEFAULT_DB_TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout

    def _connect(self) -> sqlite3.Connection:
        # Autocommit: each DBExec is its own transaction, as database/sql's Exec would be.
        return sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )

    async def _run(self, work: Callable[[sqlite3.Connection], R]) -> R:
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
            raise HostFailure(
                grpc.StatusCode.DEADLINE_EXCEEDED, f"query took longer than {self.timeout:g}s"
            ) from None
        except sqlite3.Error as exc:
            raise HostFailure(grpc.StatusCode.INVALID_ARGUMENT, f"sqlite: {exc}") from None

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


@dataclass
class Endpoint:
    plugin: str
    path: Path
    server: grpc.aio.Server

    @property
    def address(self) -> str:
        return f"unix://{self.path}"


class Host:
    """HostService for the plugins goatui hosts, with the state their calls reach."""

    def __init__(
        self,
        runtime: RuntimeDir,
        config: Config,
        logs: LogStore,
        *,
        db_path: Path | None = None,
        db_timeout: float = DEFAULT_DB_TIMEOUT_S,
        trace_size: int = DEFAULT_TRACE_SIZE,
        max_message_mb: int = DEFAULT_MAX_MESSAGE_MB,
    ) -> None:
        self.runtime = runtime
        self.config = config
        self.logs = logs
        self.cache = HostCache()
        self.trace = HostTrace(trace_size)
        self.db = Database(db_path, db_timeout) if db_path is not None else None
        self.max_message_mb = max_message_mb
        self.endpoints: dict[str, Endpoint] = {}
        self._dir = runtime.path / "host"
        self._lock = asyncio.Lock()

    async def endpoint(self, plugin: str) -> Endpoint:
        """This plugin's endpoint, started on first use."""
        async with self._lock:
            existing = self.endpoints.get(plugin)
            if existing is not None:
                return existing
            self._dir.mkdir(mode=0o700, exist_ok=True)
            os.chmod(self._dir, 0o700)
            # Names are sanitised for the file system; the counter keeps two names that
            # sanitise alike apart.
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in plugin)[:40]
            path = self._dir / f"{len(self.endpoints) + 1}-{safe}.sock"
            path.unlink(missing_ok=True)
            size = self.max_message_mb * MiB
            server = grpc.aio.server(
                options=[
                    ("grpc.max_receive_message_length", size),
                    ("grpc.max_send_message_length", size),
                ]
            )
            plugin_pb2_grpc.add_HostServiceServicer_to_server(HostServicer(self, plugin), server)
            server.add_insecure_port(f"unix://{path}")
            await server.start()
            # The directory is 0700, so nobody could reach the socket before this.
            os.chmod(path, 0o600)
            endpoint = Endpoint(plugin, path, server)
            self.endpoints[plugin] = endpoint
            return endpoint

    async def attach(self, plugin: str, client: PluginClient, wait: float = 5.0) -> str:
        """Point the plugin's host calls at its endpoint (SetHost). Returns the address.

        Only the caller knows whether this is allowed (launched, or asked for). A plugin
        whose socket just appeared may not accept yet, so unreachability is retried.
        """
        endpoint = await self.endpoint(plugin)
        deadline = time.monotonic() + wait
        while True:
            try:
                await client.set_host(endpoint.address)
                return endpoint.address
            except Unreachable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        endpoints, self.endpoints = list(self.endpoints.values()), {}
        await asyncio.gather(*(e.server.stop(grace=0.2) for e in endpoints), return_exceptions=True)
        for endpoint in endpoints:
            endpoint.path.unlink(missing_ok=True)

    # -- what the calls do ---------------------------------------------------------------

    def _db(self) -> Database:
        if self.db is None:
            raise HostFailure(grpc.StatusCode.FAILED_PRECONDITION, NO_DB_MESSAGE)
        return self.db

    async def traced(
        self, plugin: str, method: str, detail: str, work: Callable[[], Awaitable[R]]
    ) -> tuple[R | None, HostFailure | None]:
        """Run one call, record it in the trace, and return its result or failure."""
        started = time.perf_counter()
        result: R | None = None
        failure: HostFailure | None = None
        try:
            result = await work()
            outcome = "ok"
            if isinstance(result, (plugin_pb2.CacheGetResponse, plugin_pb2.ConfigGetResponse)):
                outcome = "ok" if result.found else "not found"
        except HostFailure as exc:
            failure = exc
            outcome = f"{exc.code.name}: {exc.message}"
        except Exception as exc:  # a host bug must not kill the endpoint
            failure = HostFailure(grpc.StatusCode.INTERNAL, f"host error: {exc}")
            outcome = f"INTERNAL: {exc}"
        duration = (time.perf_counter() - started) * 1000
        self.trace.record(plugin, method, detail, duration, outcome)
        return result, failure


class HostServicer(plugin_pb2_grpc.HostServiceServicer):
    """One plugin's endpoint: everything arriving here is that plugin's."""

    def __init__(self, host: Host, plugin: str) -> None:
        self.host = host
        self.plugin = plugin

    async def _answer(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        method: str,
        detail: str,
        work: Callable[[], Awaitable[R]],
    ) -> R:
        result, failure = await self.host.traced(self.plugin, method, detail, work)
        if failure is not None:
            await context.abort(failure.code, failure.message)
        assert result is not None
        return result

    async def Log(
        self, request: plugin_pb2.LogRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> plugin_pb2.Empty:
        async def work() -> plugin_pb2.Empty:
            self.host.logs.add(self.plugin, request.level, request.message, dict(request.fields))
            return plugin_pb2.Empty()

        return await self._answer(context, "Log", request.level, work)

    async def CacheGet(
        self, request: plugin_pb2.CacheGetRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> plugin_pb2.CacheGetResponse:
        async def work() -> plugin_pb2.CacheGetResponse:
            value = self.host.cache.get(self.plugin, request.key)
            if value is None:
                return plugin_pb2.CacheGetResponse(found=False)
            return plugin_pb2.CacheGetResponse(value=value, found=True)

        return await self._answer(context, "CacheGet", request.key, work)

    async def CacheSet(
        self, request: plugin_pb2.CacheSetRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> plugin_pb2.Empty:
        async def work() -> plugin_pb2.Empty:
            self.host.cache.set(self.plugin, request.key, bytes(request.value), request.ttl)
            return plugin_pb2.Empty()

        detail = f"{request.key} ttl={request.ttl}"
        return await self._answer(context, "CacheSet", detail, work)

    async def CacheDelete(
        self, request: plugin_pb2.CacheDeleteRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> plugin_pb2.Empty:
        async def work() -> plugin_pb2.Empty:
            self.host.cache.delete(self.plugin, request.key)
            return plugin_pb2.Empty()

        return await self._answer(context, "CacheDelete", request.key, work)

    async def ConfigGet(
        self, request: plugin_pb2.ConfigGetRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> plugin_pb2.ConfigGetResponse:
        async def work() -> plugin_pb2.ConfigGetResponse:
            values = self.host.config.plugin_config(self.plugin)
            if request.key not in values:
                return plugin_pb2.ConfigGetResponse(found=False)
            return plugin_pb2.ConfigGetResponse(value=values[request.key], found=True)

        return await self._answer(context, "ConfigGet", request.key, work)

    async def DBQuery(
        self, request: plugin_pb2.DBQueryRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> plugin_pb2.DBQueryResponse:
        async def work() -> plugin_pb2.DBQueryResponse:
            rows = await self.host._db().query(request.query, list(request.args))
            data = json.dumps(rows, ensure_ascii=False).encode()
            return plugin_pb2.DBQueryResponse(rows=data)

        return await self._answer(context, "DBQuery", request.query, work)

    async def DBExec(
        self, request: plugin_pb2.DBExecRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> plugin_pb2.DBExecResponse:
        async def work() -> plugin_pb2.DBExecResponse:
            affected = await self.host._db().execute(request.query, list(request.args))
            return plugin_pb2.DBExecResponse(affected_rows=affected)

        return await self._answer(context, "DBExec", request.query, work)
