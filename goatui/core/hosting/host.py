"""goatui as the plugins' host: HostService on private Unix sockets, one per plugin.

Each attached plugin gets its own endpoint (its own gRPC server), so every host call is
attributed to the plugin whose endpoint received it, never to what the plugin claims. Endpoints live in goatui's private runtime
directory (0700), each socket 0600, and go away with it. Never TCP.

Trust (issue #18; the README's "Trust" section says it for operators): an endpoint
belongs to the socket goatui attached to, or launched the plugin on (a HostTarget),
not to a name. Its cache namespace is that socket's, so another socket never reads it
whatever name it registers. It reads the config's [plugins.NAME] section only when
goatui can tell the plugin there is NAME (HostTarget.config_name); otherwise ConfigGet
answers PERMISSION_DENIED with the reason, which the log stream also says at attach.

What the host answers:
  Log                       → the log stream (goatui.core.logs.LogStore)
  CacheGet/Set/Delete       → an in-memory cache per endpoint, honouring TTL (<=0: none)
  ConfigGet                 → the config file's [plugins.NAME] section (see Trust)
  DBQuery / DBExec          → a SQLite file given with --db (off the event loop, with a
                              timeout, under goatui.core.hosting.sqlguard), else
                              FAILED_PRECONDITION
Every call lands in a bounded trace the operator can see. A request is at most
MAX_REQUEST_MB and an endpoint serves at most MAX_CONCURRENT_CALLS at once, so what a
plugin's calls hold in goatui's memory at any time is bounded too.

The endpoints are grpcio's synchronous servers, sharing a few worker threads
(`HOST_WORKERS`): served from grpc.aio, unary calls into a HostService doing nothing
topped out ~30 % lower on this machine's two cores (issue #19, docs/PERFORMANCE.md).
The state stays the event loop's: a `Log` is handed to the loop with others arriving
meanwhile, one wake-up per batch (`LogInbox`: the call is answered once the entry is
queued, and a full queue holds the plugin back rather than growing); every other call
runs on the loop (`run_coroutine_threadsafe`), the worker waiting for its answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc

from goatui.core.backends.base import HostTarget
from goatui.core.config import Config
from goatui.core.errors import Unreachable
from goatui.core.hosting.runtime import RuntimeDir
from goatui.core.hosting.stores import (
    DEFAULT_DB_TIMEOUT_S,
    DEFAULT_TRACE_SIZE,
    CacheOwner,
    Database,
    HostCache,
    HostCall,
    HostState,
    HostTrace,
    StoreError,
)
from goatui.core.limits import DEFAULT_MAX_MESSAGE_MB, MiB
from goatui.core.logs import GOATUI_FIELD, LogStore
from goatui.proto import plugin_pb2, plugin_pb2_grpc

# Where they were before the stores had a module of their own.
__all__ = ["Database", "Host", "HostCache", "HostCall", "HostFailure", "HostState", "HostTrace"]

R = TypeVar("R")

#: The largest request a plugin may send its host: what the stores would cut or refuse
#: anyway (a cache value is at most 4 MiB, a log message is cut at 64 KiB) arrives and
#: is said; gRPC refuses larger ones (RESOURCE_EXHAUSTED) before goatui sees them.
#: Answers may be as large as the result limit.
MAX_REQUEST_MB = 16
#: Calls one endpoint serves at once; more are refused (RESOURCE_EXHAUSTED). With the
#: request limit, what one plugin's calls hold in flight is at most 256 MiB.
MAX_CONCURRENT_CALLS = 16
#: The log stream's `goatui` field on a line about trust (config withheld).
TRUST = "trust"
# Worker threads shared by every endpoint: calls are short (a Log is queued, the rest
# wait for the loop), so a few keep the transport busy; more only contend for the GIL.
HOST_WORKERS = 4
# Log calls queued for the loop at most; past it a plugin's Log waits (flow control).
INBOX_LIMIT = 50_000
# A call other than Log waits this long for the loop beyond its own deadline (the
# database's, or the plugin's) before it is answered UNAVAILABLE.
_LOOP_SLACK_S = 5.0
# A call without a deadline of its own waits this long for the loop at most.
_NO_DEADLINE_WAIT_S = 60.0


class HostFailure(Exception):
    """Answer the plugin with this gRPC status."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Endpoint:
    plugin: str
    path: Path
    server: grpc.Server
    servicer: HostServicer

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
        state: HostState | None = None,
    ) -> None:
        self.runtime = runtime
        #: What the calls reach; shared with the WASM plugins' host calls.
        self.state = state or HostState(
            config,
            logs,
            db_path=db_path,
            db_timeout=db_timeout,
            trace_size=trace_size,
            max_result_mb=max_message_mb,
        )
        self.max_message_mb = max_message_mb
        self.endpoints: dict[str, Endpoint] = {}
        self._dir = runtime.path / "host"
        self._lock = asyncio.Lock()
        # Made with the first endpoint, in the loop the host runs in.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: concurrent.futures.ThreadPoolExecutor | None = None
        self.inbox: LogInbox | None = None

    async def endpoint(self, target: HostTarget) -> Endpoint:
        """The endpoint of the target's socket, started on first use."""
        async with self._lock:
            existing = self.endpoints.get(target.socket)
            if existing is not None:
                # Attached again (a restart, a new listing): what goatui knows now holds.
                existing.plugin = target.name
                existing.servicer.target = target
                return existing
            self._dir.mkdir(mode=0o700, exist_ok=True)
            os.chmod(self._dir, 0o700)
            # Names are sanitised for the file system; the counter keeps two names that
            # sanitise alike apart.
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in target.name)[:40]
            path = self._dir / f"{len(self.endpoints) + 1}-{safe}.sock"
            path.unlink(missing_ok=True)
            if self._workers is None:
                self._loop = asyncio.get_running_loop()
                self._workers = concurrent.futures.ThreadPoolExecutor(
                    HOST_WORKERS, thread_name_prefix="goatui-host"
                )
                self.inbox = LogInbox(self._loop, self._logged)
            server = grpc.server(
                self._workers,
                options=[
                    ("grpc.max_receive_message_length", MAX_REQUEST_MB * MiB),
                    ("grpc.max_send_message_length", self.max_message_mb * MiB),
                ],
                maximum_concurrent_rpcs=MAX_CONCURRENT_CALLS,
            )
            servicer = HostServicer(self, target)
            plugin_pb2_grpc.add_HostServiceServicer_to_server(servicer, server)
            server.add_insecure_port(f"unix://{path}")
            server.start()
            # The directory is 0700, so nobody could reach the socket before this.
            os.chmod(path, 0o600)
            endpoint = Endpoint(target.name, path, server, servicer)
            self.endpoints[target.socket] = endpoint
            return endpoint

    async def attach(self, target: HostTarget, wait: float = 5.0) -> str:
        """Point the plugin's host calls at its endpoint (SetHost). Returns the address.

        Only the caller knows whether this is allowed (launched, or asked for). A plugin
        whose socket just appeared may not accept yet, so unreachability is retried.
        """
        endpoint = await self.endpoint(target)
        deadline = time.monotonic() + wait
        while True:
            try:
                await target.client.set_host(endpoint.address)
                break
            except Unreachable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
        if target.config_name is None:
            self.logs.add(
                target.name,
                "warn",
                f"goatui: config withheld: {target.withheld}",
                {GOATUI_FIELD: TRUST, "socket": target.socket},
            )
        return endpoint.address

    async def close(self) -> None:
        endpoints, self.endpoints = list(self.endpoints.values()), {}
        stopped = [e.server.stop(grace=0.2) for e in endpoints]
        # stop() answers at once with an event set once the calls in flight are done.
        await asyncio.gather(*(asyncio.to_thread(s.wait, 2.0) for s in stopped))
        for endpoint in endpoints:
            endpoint.path.unlink(missing_ok=True)
        if self.inbox is not None:
            self.inbox.close()  # what was answered is kept
        if self._workers is not None:
            self._workers.shutdown(wait=False, cancel_futures=True)

    def _logged(self, entries: deque[tuple[str, str, str, dict[str, str], float]]) -> None:
        """Log calls handed over by the inbox, in the loop: into the stream and trace."""
        for plugin, level, message, fields, received in entries:
            try:
                self.logs.add(plugin, level, message, fields, received)
                outcome = "ok"
            except StoreError as exc:
                outcome = f"{exc.status}: {exc.message}"
            self.trace.record(plugin, "Log", level, 0.0, outcome)

    def on_loop(self, work: Coroutine[Any, Any, R], timeout: float | None) -> R:
        """From a worker thread: run work in the host's loop and wait for its result."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise HostFailure(
                grpc.StatusCode.UNAVAILABLE, "goatui did not answer in time"
            ) from None

    # -- what the calls reach ----------------------------------------------------------

    @property
    def config(self) -> Config:
        return self.state.config

    @property
    def logs(self) -> LogStore:
        return self.state.logs

    @property
    def cache(self) -> HostCache:
        return self.state.cache

    @property
    def trace(self) -> HostTrace:
        return self.state.trace

    @property
    def db(self) -> Database | None:
        return self.state.db

    # -- what the calls do ---------------------------------------------------------------

    def _db(self) -> Database:
        return self.state.database()

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
        except StoreError as exc:
            failure = HostFailure(grpc.StatusCode[exc.status], exc.message)
            outcome = f"{exc.status}: {exc.message}"
        except Exception as exc:  # a host bug must not kill the endpoint
            failure = HostFailure(grpc.StatusCode.INTERNAL, f"host error: {exc}")
            outcome = f"INTERNAL: {exc}"
        duration = (time.perf_counter() - started) * 1000
        self.trace.record(plugin, method, detail, duration, outcome)
        return result, failure


class LogInbox:
    """Log calls from the worker threads to the event loop, a batch per wake-up.

    `put` queues (holding the caller back while INBOX_LIMIT are queued), and the first
    call of a batch asks the loop to take them: one wake-up of the loop for however many
    arrive before it runs. The loop takes them before anything it hears of later (the
    plugin's answer to a call, say): what was acknowledged is in the store by then.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        take: Callable[[deque[tuple[str, str, str, dict[str, str], float]]], None],
        limit: int = INBOX_LIMIT,
    ) -> None:
        self._loop = loop
        self._take = take
        self._limit = limit
        self._queued: deque[tuple[str, str, str, dict[str, str], float]] = deque()
        self._room = threading.Condition()
        self._asked = False
        self._closed = False

    def put(self, entry: tuple[str, str, str, dict[str, str], float]) -> bool:
        """Queue a Log call; False once closing (nothing more is taken)."""
        with self._room:
            if len(self._queued) >= self._limit:  # rare: the loop is far behind
                self._room.wait_for(lambda: len(self._queued) < self._limit or self._closed)
            if self._closed:
                return False
            self._queued.append(entry)
            if self._asked:
                return True
            self._asked = True
        try:
            self._loop.call_soon_threadsafe(self.drain)
        except RuntimeError:  # the loop is closed: goatui is ending
            return False
        return True

    def drain(self) -> None:
        """In the loop: hand every queued call over."""
        with self._room:
            queued, self._queued = self._queued, deque()
            self._asked = False
            self._room.notify_all()
        if queued:
            self._take(queued)

    def close(self) -> None:
        """Take what is queued, then refuse more."""
        self.drain()
        with self._room:
            self._closed = True
            self._room.notify_all()


class HostServicer(plugin_pb2_grpc.HostServiceServicer):
    """One plugin's endpoint: everything arriving here is that plugin's, as goatui knows
    it (its socket), whatever name it registers. Its methods run in the host's worker
    threads; what they change, they change in the loop."""

    def __init__(self, host: Host, target: HostTarget) -> None:
        self.host = host
        self.target = target
        # The cache namespace is the socket's: no name can reach another socket's.
        self.owner: CacheOwner = ("socket", target.socket)

    @property
    def plugin(self) -> str:
        """What the log stream and the trace call it."""
        return self.target.name

    def _answer(
        self,
        context: grpc.ServicerContext,
        method: str,
        detail: str,
        work: Callable[[], Awaitable[R]],
    ) -> R:
        remaining = context.time_remaining()
        wait = _NO_DEADLINE_WAIT_S if remaining is None else remaining + _LOOP_SLACK_S
        try:
            traced = self.host.traced(self.plugin, method, detail, work)
            result, failure = self.host.on_loop(traced, wait)
        except HostFailure as exc:
            result, failure = None, exc
        except RuntimeError:  # the loop is closed: goatui is ending
            result, failure = None, HostFailure(grpc.StatusCode.UNAVAILABLE, "goatui is ending")
        if failure is not None:
            context.abort(failure.code, failure.message)
        assert result is not None
        return result

    def Log(
        self, request: plugin_pb2.LogRequest, context: grpc.ServicerContext
    ) -> plugin_pb2.Empty:
        inbox = self.host.inbox
        entry = (self.plugin, request.level, request.message, dict(request.fields), time.time())
        if inbox is None or not inbox.put(entry):
            context.abort(grpc.StatusCode.UNAVAILABLE, "goatui is ending")
        return plugin_pb2.Empty()

    def CacheGet(
        self, request: plugin_pb2.CacheGetRequest, context: grpc.ServicerContext
    ) -> plugin_pb2.CacheGetResponse:
        async def work() -> plugin_pb2.CacheGetResponse:
            value = self.host.cache.get(self.owner, request.key)
            if value is None:
                return plugin_pb2.CacheGetResponse(found=False)
            return plugin_pb2.CacheGetResponse(value=value, found=True)

        return self._answer(context, "CacheGet", request.key, work)

    def CacheSet(
        self, request: plugin_pb2.CacheSetRequest, context: grpc.ServicerContext
    ) -> plugin_pb2.Empty:
        async def work() -> plugin_pb2.Empty:
            value = bytes(request.value)
            self.host.state.cache_set(self.owner, self.plugin, request.key, value, request.ttl)
            return plugin_pb2.Empty()

        detail = f"{request.key} ttl={request.ttl}"
        return self._answer(context, "CacheSet", detail, work)

    def CacheDelete(
        self, request: plugin_pb2.CacheDeleteRequest, context: grpc.ServicerContext
    ) -> plugin_pb2.Empty:
        async def work() -> plugin_pb2.Empty:
            self.host.cache.delete(self.owner, request.key)
            return plugin_pb2.Empty()

        return self._answer(context, "CacheDelete", request.key, work)

    def ConfigGet(
        self, request: plugin_pb2.ConfigGetRequest, context: grpc.ServicerContext
    ) -> plugin_pb2.ConfigGetResponse:
        async def work() -> plugin_pb2.ConfigGetResponse:
            name = self.target.config_name
            if name is None:
                raise StoreError("PERMISSION_DENIED", f"config withheld: {self.target.withheld}")
            values = self.host.config.plugin_config(name)
            if request.key not in values:
                return plugin_pb2.ConfigGetResponse(found=False)
            return plugin_pb2.ConfigGetResponse(value=values[request.key], found=True)

        return self._answer(context, "ConfigGet", request.key, work)

    def DBQuery(
        self, request: plugin_pb2.DBQueryRequest, context: grpc.ServicerContext
    ) -> plugin_pb2.DBQueryResponse:
        async def work() -> plugin_pb2.DBQueryResponse:
            rows = await self.host._db().query(request.query, list(request.args))
            data = json.dumps(rows, ensure_ascii=False).encode()
            return plugin_pb2.DBQueryResponse(rows=data)

        return self._answer(context, "DBQuery", request.query, work)

    def DBExec(
        self, request: plugin_pb2.DBExecRequest, context: grpc.ServicerContext
    ) -> plugin_pb2.DBExecResponse:
        async def work() -> plugin_pb2.DBExecResponse:
            affected = await self.host._db().execute(request.query, list(request.args))
            return plugin_pb2.DBExecResponse(affected_rows=affected)

        return self._answer(context, "DBExec", request.query, work)
