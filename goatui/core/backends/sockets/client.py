"""An async gRPC client for one plugin socket: Register, Call, SetHost, health, latency."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import grpc.aio

from goatui.core.backends.sockets.discovery import (
    accepts_connections,
    check_socket,
    grpc_target,
    socket_path,
)
from goatui.core.errors import (
    GoatError,
    NoAnswer,
    PermissionRefused,
    RemoteError,
    ResultTooLarge,
    TimedOut,
    Unreachable,
    UsageError,
)
from goatui.core.limits import (
    DEFAULT_CALL_TIMEOUT_S,
    DEFAULT_MAX_MESSAGE_MB,
    DEFAULT_PROBE_TIMEOUT_S,
    MiB,
)
from goatui.core.models import CallResult, Health, Probe
from goatui.proto import plugin_pb2, plugin_pb2_grpc

if TYPE_CHECKING:
    from grpc_health.v1 import health_pb2_grpc

# The service name the tutorial registers (HashiCorp go-plugin's convention); "" is the
# overall status, for plugins that only set that.
HEALTH_SERVICES = ("plugin", "")


# The health stubs load on the first probe: `goatui call` never needs them (issue #9).
@functools.cache
def _status_to_health() -> dict[int, Health]:
    from grpc_health.v1 import health_pb2

    return {
        health_pb2.HealthCheckResponse.SERVING: Health.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING: Health.NOT_SERVING,
        health_pb2.HealthCheckResponse.UNKNOWN: Health.UNKNOWN,
        health_pb2.HealthCheckResponse.SERVICE_UNKNOWN: Health.SERVICE_UNKNOWN,
    }


def health_source(service: str) -> str:
    """What answered a health check, as the detail pane names it."""
    return f'grpc.health.v1 Check(service="{service}")'


def translate_rpc_error(
    exc: grpc.aio.AioRpcError, *, what: str, timeout: float | None, max_mb: int
) -> GoatError:
    """Turn a gRPC failure into an error the operator can act on."""
    code = exc.code()
    details = exc.details() or ""
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        limit = f" after {timeout:g}s" if timeout else ""
        return TimedOut(f"{what} timed out{limit}", "raise --timeout, or check the plugin")
    if code == grpc.StatusCode.UNAVAILABLE:
        if "failed to connect" in details.lower() or "connection refused" in details.lower():
            return Unreachable(f"{what}: cannot connect to the plugin", "is it running?")
        return Unreachable(f"{what}: plugin went away ({details})", "is it still running?")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and details.lower().startswith("sent message"):
        # Args are checked before sending (calls.results.parse_args); a caller that did not.
        return UsageError(
            f"{what}: the args are larger than the {max_mb} MiB message limit",
            hint="raise it with --max-message-mb",
        )
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" in details.lower():
        return ResultTooLarge(
            f"{what}: the result is larger than the {max_mb} MiB limit",
            code=code.name,
            hint="raise it with --max-message-mb",
        )
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        return PermissionRefused(f"{what}: {details or code.name.lower()}")
    if code == grpc.StatusCode.CANCELLED:
        return Unreachable(f"{what}: cancelled ({details})")
    return RemoteError(f"{what} failed: {code.name}: {details}", code=code.name)


class PluginClient:
    """One plugin behind one Unix socket.

    The channel is created lazily in the running event loop (grpc.aio binds to it).
    Every RPC has a deadline; failures become GoatError subclasses.
    """

    def __init__(self, target: str, *, max_message_mb: int = DEFAULT_MAX_MESSAGE_MB) -> None:
        self.path = socket_path(target)
        self.target = grpc_target(self.path)
        self.max_message_mb = max_message_mb
        self._channel: grpc.aio.Channel | None = None
        self._plugin: plugin_pb2_grpc.PluginServiceStub | None = None
        self._health: health_pb2_grpc.HealthStub | None = None
        # The health service name that answered last, so probes ask it first next time.
        self._health_service: str | None = None
        self._closing: set[asyncio.Future[None]] = set()
        #: The last RPC found nobody answering (unavailable, or no answer in time).
        self.lost = False

    def _plugin_stub(self) -> plugin_pb2_grpc.PluginServiceStub:
        if self._channel is None:
            size = self.max_message_mb * MiB
            self._channel = grpc.aio.insecure_channel(
                self.target,
                options=[
                    ("grpc.max_receive_message_length", size),
                    ("grpc.max_send_message_length", size),
                    # Reconnect quickly when a plugin restarts at the same socket.
                    ("grpc.initial_reconnect_backoff_ms", 200),
                    ("grpc.max_reconnect_backoff_ms", 2000),
                    ("grpc.enable_retries", 0),
                ],
            )
            self._plugin = plugin_pb2_grpc.PluginServiceStub(self._channel)
            self._health = None
        assert self._plugin is not None
        return self._plugin

    def _health_stub(self) -> health_pb2_grpc.HealthStub:
        self._plugin_stub()  # the channel, made afresh if it was dropped
        if self._health is None:
            from grpc_health.v1 import health_pb2_grpc

            self._health = health_pb2_grpc.HealthStub(self._channel)
        return self._health

    def _drop_channel(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            # Closing is async; let it finish in the background.
            self._closing.add(task := asyncio.ensure_future(channel.close(grace=None)))
            task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.close(grace=None)

    def _error(
        self, exc: grpc.aio.AioRpcError, what: str, timeout: float | None, started: float
    ) -> GoatError:
        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            self.lost = True
        if exc.code() == grpc.StatusCode.UNAVAILABLE:
            # A channel in backoff fails fast for seconds; a plugin restarted at the same
            # socket should be seen at the next probe, so start over with a fresh channel.
            self._drop_channel()
            # The filesystem knows better than gRPC why a socket cannot be reached.
            try:
                check_socket(self.path)
            except GoatError as precise:
                return precise
            # gRPC's own connect deadline (20 s) passed with no HTTP/2 greeting: not
            # "cannot connect" when something still accepts connections there (hung).
            handshake = "before receiving settings" in (exc.details() or "").lower()
            if handshake and accepts_connections(self.path):
                return NoAnswer(what, time.perf_counter() - started)
        elif (
            exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            and not self._connected()
            and accepts_connections(self.path)
        ):
            # The deadline passed before the plugin even greeted: hung, not slow.
            return NoAnswer(what, timeout or time.perf_counter() - started)
        return translate_rpc_error(exc, what=what, timeout=timeout, max_mb=self.max_message_mb)

    def _connected(self) -> bool:
        """The channel has an HTTP/2 connection (the plugin answered its greeting)."""
        channel = self._channel
        return channel is not None and channel.get_state() == grpc.ChannelConnectivity.READY

    async def register(self, timeout: float = 5.0) -> plugin_pb2.RegisterResponse:
        check_socket(self.path)
        plugin = self._plugin_stub()
        started = time.perf_counter()
        try:
            response: plugin_pb2.RegisterResponse = await plugin.Register(
                plugin_pb2.Empty(), timeout=timeout
            )
        except grpc.aio.AioRpcError as exc:
            error = self._error(exc, "Register", timeout, started)
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED and accepts_connections(self.path):
                # Not "raise --timeout": Register's deadline is goatui's own.
                raise NoAnswer("Register", timeout) from None
            raise error from None
        self.lost = False
        return response

    async def call(
        self, function: str, args: bytes = b"{}", timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> CallResult:
        """Call a handler; the result bytes come back whole (up to the size limit)."""
        check_socket(self.path)
        plugin = self._plugin_stub()
        started = time.perf_counter()
        try:
            response = await plugin.Call(
                plugin_pb2.CallRequest(function=function, args=args), timeout=timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc, f"call {function}", timeout, started) from None
        self.lost = False
        duration_ms = (time.perf_counter() - started) * 1000
        return CallResult(data=bytes(response.result), duration_ms=duration_ms)

    async def set_host(self, address: str, timeout: float = 5.0) -> None:
        """Point the plugin's host calls at address. Callers decide when this is allowed."""
        check_socket(self.path)
        plugin = self._plugin_stub()
        started = time.perf_counter()
        try:
            await plugin.SetHost(plugin_pb2.SetHostRequest(address=address), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc, "SetHost", timeout, started) from None

    async def probe(self, timeout: float = DEFAULT_PROBE_TIMEOUT_S) -> Probe:
        """Health and latency (the round trip of the health check). Never raises."""
        try:
            check_socket(self.path)
        except GoatError as exc:
            return Probe(Health.UNREACHABLE, None, exc.line())
        from grpc_health.v1 import health_pb2

        health = self._health_stub()
        services: tuple[str, ...] = HEALTH_SERVICES
        if self._health_service is not None:
            services = (
                self._health_service,
                *tuple(s for s in HEALTH_SERVICES if s != self._health_service),
            )
        last_not_found = ""
        for service in services:
            started = time.perf_counter()
            try:
                response = await health.Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=timeout
                )
            except grpc.aio.AioRpcError as exc:
                latency = (time.perf_counter() - started) * 1000
                code = exc.code()
                if code == grpc.StatusCode.NOT_FOUND:
                    last_not_found = f"health service {service!r} unknown"
                    continue
                if code == grpc.StatusCode.UNIMPLEMENTED:
                    return await self._probe_without_health(timeout)
                error = self._error(exc, "health check", timeout, started)
                return Probe(Health.UNREACHABLE, None, error.line())
            latency = (time.perf_counter() - started) * 1000
            self.lost = False
            self._health_service = service
            state = _status_to_health().get(response.status, Health.UNKNOWN)
            return Probe(state, latency, source=health_source(service))
        asked = " then ".join(f'"{s}"' for s in services)
        source = f"grpc.health.v1 Check(service={asked})"
        return Probe(Health.SERVICE_UNKNOWN, latency, last_not_found, source=source)

    async def _probe_without_health(self, timeout: float) -> Probe:
        """A plugin without grpc.health.v1: alive if it answers Register, state UNKNOWN."""
        started = time.perf_counter()
        try:
            await self.register(timeout=timeout)
        except GoatError as exc:
            return Probe(Health.UNREACHABLE, None, exc.line())
        latency = (time.perf_counter() - started) * 1000
        source = "Register (no grpc.health.v1 service)"
        return Probe(Health.UNKNOWN, latency, "no health service; answers Register", source=source)

    @property
    def _watched_service(self) -> str:
        """The service Check answered for (the plugin's own, or the server's)."""
        return self._health_service if self._health_service is not None else "plugin"

    @property
    def watch_source(self) -> str:
        return f'grpc.health.v1 Watch(service="{self._watched_service}")'

    async def watch(self, timeout: float = DEFAULT_PROBE_TIMEOUT_S) -> AsyncIterator[Health]:
        """Stream health via Health.Watch. Raises GoatError when Watch is not offered."""
        check_socket(self.path)
        from grpc_health.v1 import health_pb2

        health = self._health_stub()
        stream = health.Watch(health_pb2.HealthCheckRequest(service=self._watched_service))
        started = time.perf_counter()
        try:
            async for response in stream:
                yield _status_to_health().get(response.status, Health.UNKNOWN)
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc, "health watch", None, started) from None
        finally:
            stream.cancel()
