"""The host a WASM plugin gets: goatui's own hosting stores, reached from its thread.

The cache, the SQLite file, the config and the log stream are the ones the gRPC
HostService answers socket plugins from (goatui.core.hosting.stores.HostState), not
copies: a WASM plugin and a socket plugin see the same database and the same
[plugins.NAME] config.
They live in the event loop, and a plugin runs on its own thread, so each host call is
handed to the loop and waited for under the call's deadline. Log lines and trace
records go the other way in batches (one loop wake-up per burst, not per line), so a
plugin logging a flood costs the loop little and loses nothing the buffer can hold.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from goatui.core.backends.wasm.hostcalls import HostCallFailed, HostCallRecord, LogLine
from goatui.core.hosting.stores import Database, HostCall, HostState, StoreError

T = TypeVar("T")

#: The largest HTTP response body a plugin gets (it must fit in its memory anyway).
MAX_HTTP_BODY = 16 * 1024 * 1024

PluginCaller = Callable[[str, str, bytes, float], Awaitable[bytes]]


class GoatuiHostServices:
    """HostServices on goatui's host state, for plugins running on other threads."""

    def __init__(
        self,
        host: HostState,
        loop: asyncio.AbstractEventLoop,
        *,
        allow_http: bool = False,
        language: str = "",
        plugin_caller: PluginCaller | None = None,
    ) -> None:
        self.host = host
        self.loop = loop
        self._allow_http = allow_http
        self._language = language
        self.plugin_caller = plugin_caller
        # Bounded like the stores they go to: while the loop is busy, a flood keeps only
        # what the log stream and the trace could hold anyway, and counts the rest.
        # Plugins' threads append, the loop takes from the other end: a deque does both
        # at once safely, with no lock for every line (a lock shared with the loop made
        # a plugin logging a flood wait for the loop's turn at every line).
        self._pending_lines: deque[LogLine] = deque(maxlen=host.logs.capacity)
        self._pending_calls: deque[HostCallRecord] = deque(maxlen=host.trace.capacity)
        self._overflow_lines = 0
        self._overflow_calls = 0
        self._flush_scheduled = False
        self._lock = threading.Lock()  # only for the overflow counts

    @property
    def allow_http(self) -> bool:
        return self._allow_http

    @property
    def language(self) -> str:
        return self._language

    # -- into the log stream and the host trace, in batches ------------------------------

    def log(self, line: LogLine) -> None:
        pending = self._pending_lines
        if len(pending) == pending.maxlen:  # the oldest makes room (rare: the loop is behind)
            with self._lock:
                self._overflow_lines += 1
        pending.append(line)
        if not self._flush_scheduled:
            self._schedule_flush()

    def record(self, call: HostCallRecord) -> None:
        pending = self._pending_calls
        if len(pending) == pending.maxlen:
            with self._lock:
                self._overflow_calls += 1
        pending.append(call)
        if not self._flush_scheduled:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        # Only the loop clears the flag, before it takes what is pending: an item added
        # after the loop took its last either finds the flag clear or is taken later.
        self._flush_scheduled = True
        self.loop.call_soon_threadsafe(self.flush)

    def flush(self) -> None:
        """Hand what is pending to the log stream and the trace (on the loop)."""
        self._flush_scheduled = False
        lines, calls = _take(self._pending_lines), _take(self._pending_calls)
        with self._lock:
            lost_lines, lost_calls = self._overflow_lines, self._overflow_calls
            self._overflow_lines = self._overflow_calls = 0
        logs = self.host.logs
        # What overflowed counts as arrived and dropped: followers see the gap.
        for ring, lost in ((logs, lost_lines), (self.host.trace, lost_calls)):
            ring.last_seq += lost
            ring.dropped += lost
        # The fields are the call's own (shared by its lines, never changed): the store
        # keeps one copy of them for a run of lines.
        logs.add_many(
            (line.plugin, line.level, line.message, line.fields, line.timestamp) for line in lines
        )
        trace = self.host.trace
        for call in calls:
            trace.append(
                HostCall(
                    trace.next_seq(),
                    call.timestamp,
                    call.plugin,
                    call.method,
                    call.detail,
                    call.duration_ms,
                    call.outcome,
                )
            )

    # -- host calls, answered on the loop -------------------------------------------------

    def _on_loop(self, work: Callable[[], Awaitable[T]], timeout: float, what: str) -> T:
        async def run() -> T:
            return await work()

        future = asyncio.run_coroutine_threadsafe(run(), self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise HostCallFailed(f"{what} timed out (the call's deadline)") from None
        except StoreError as exc:
            raise HostCallFailed(exc.message) from None

    def db_query(
        self, plugin: str, sql: str, args: list[Any], timeout: float
    ) -> list[dict[str, Any]]:
        database = self._database()
        return self._on_loop(lambda: database.query(sql, args), timeout, "the query")

    def db_exec(self, plugin: str, sql: str, args: list[Any], timeout: float) -> int:
        database = self._database()
        return self._on_loop(lambda: database.execute(sql, args), timeout, "the statement")

    def _database(self) -> Database:
        try:
            return self.host.database()
        except StoreError as exc:
            raise HostCallFailed(exc.message) from None

    def cache_get(self, plugin: str, key: str) -> bytes | None:
        async def get() -> bytes | None:
            return self.host.cache.get(plugin, key)

        return self._on_loop(get, _QUICK_S, "the cache")

    def cache_set(self, plugin: str, key: str, value: bytes, ttl: int) -> None:
        async def put() -> None:
            self.host.cache_set(plugin, plugin, key, value, ttl)

        self._on_loop(put, _QUICK_S, "the cache")

    def config_get(self, plugin: str, key: str) -> str | None:
        # The config is read-only while goatui runs: no need to go through the loop.
        return self.host.config.plugin_config(plugin).get(key)

    def plugin_call(
        self, plugin: str, target: str, function: str, args: bytes, timeout: float
    ) -> bytes:
        caller = self.plugin_caller
        if caller is None:
            raise HostCallFailed("no other plugins are known to this goatui")
        return self._on_loop(
            lambda: caller(target, function, args, timeout), timeout, f"{target}.{function}"
        )

    def http_request(
        self,
        plugin: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        timeout: float,
    ) -> tuple[int, bytes]:
        # Only with --allow-http (checked before this is asked), and on this thread: a
        # slow server holds up this plugin, never the loop.
        import httpx

        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=False) as client,
                client.stream(method, url, headers=headers, content=body or None) as response,
            ):
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_HTTP_BODY:
                        raise HostCallFailed(
                            f"the response is larger than {MAX_HTTP_BODY // (1024 * 1024)} MiB"
                        )
                return response.status_code, bytes(data)
        except httpx.HTTPError as exc:
            raise HostCallFailed(f"{type(exc).__name__}: {exc}") from None


# The cache is in memory: if the loop cannot answer this fast, it is wedged.
_QUICK_S = 5.0


def _take(pending: deque[T]) -> list[T]:
    """What is in the deque now, oldest first, taken out of it (others may append)."""
    take = pending.popleft
    return [take() for _ in range(len(pending))]
