"""A small kit for writing Python plugins the way the tutorial does, for the demo and tests.

A plugin built with it is a real GoatFlow plugin: its own process, gRPC on the Unix
socket named by GOATFLOW_PLUGIN_SOCKET, PluginService plus grpc.health.v1 for "plugin",
and HostService calls to wherever SetHost points it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from goatui.proto import plugin_pb2, plugin_pb2_grpc

Handler = Callable[[dict[str, Any], "Plugin"], Any]


class PluginFailure(Exception):
    """Raise from a handler to answer with a gRPC status (UNKNOWN, like Go's fmt.Errorf)."""

    def __init__(self, message: str, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN) -> None:
        super().__init__(message)
        self.code = code


class Plugin(plugin_pb2_grpc.PluginServiceServicer):
    """Register/Call/SetHost with handlers taking decoded JSON args.

    A handler returns bytes (sent as is), str (UTF-8) or anything else (sent as JSON).
    """

    def __init__(
        self,
        name: str,
        version: str,
        description: str,
        handlers: dict[str, Handler],
        *,
        manifest: dict[str, Any] | None = None,
        health_service: bool = True,
        health_names: tuple[str, ...] = ("plugin", ""),
    ) -> None:
        self.name = name
        self.version = version
        self.description = description
        self.handlers = handlers
        self.manifest = manifest
        self.health_service = health_service
        # The tutorial registers "plugin"; some plugins only set the overall status "".
        self.health_names = health_names
        self.health = health.HealthServicer()
        self.host: plugin_pb2_grpc.HostServiceStub | None = None
        self._host_channel: grpc.Channel | None = None
        self._lock = threading.Lock()

    # -- PluginService -----------------------------------------------------------------

    def Register(self, request: plugin_pb2.Empty, context: Any) -> plugin_pb2.RegisterResponse:
        manifest = json.dumps(self.manifest).encode() if self.manifest else b""
        return plugin_pb2.RegisterResponse(
            name=self.name, version=self.version, description=self.description, manifest=manifest
        )

    def Call(self, request: plugin_pb2.CallRequest, context: Any) -> plugin_pb2.CallResponse:
        handler = self.handlers.get(request.function)
        if handler is None:
            context.abort(grpc.StatusCode.UNKNOWN, f"unknown function: {request.function}")
            raise AssertionError("not reached: abort raises")
        try:
            args = json.loads(request.args) if request.args.strip() else {}
        except ValueError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"args are not JSON: {exc}")
        try:
            result = handler(args if isinstance(args, dict) else {"value": args}, self)
        except PluginFailure as exc:
            context.abort(exc.code, str(exc))
        if isinstance(result, bytes):
            data = result
        elif isinstance(result, str):
            data = result.encode()
        else:
            data = json.dumps(result).encode()
        return plugin_pb2.CallResponse(result=data)

    def SetHost(self, request: plugin_pb2.SetHostRequest, context: Any) -> plugin_pb2.Empty:
        with self._lock:
            if self._host_channel is not None:
                self._host_channel.close()
            self._host_channel = grpc.insecure_channel(request.address)
            self.host = plugin_pb2_grpc.HostServiceStub(self._host_channel)
        self.log("info", "host attached", address=request.address)
        return plugin_pb2.Empty()

    # -- host calls --------------------------------------------------------------------

    def log(self, level: str, message: str, **fields: Any) -> bool:
        """Send a Log call to the host; False when there is no host or it failed."""
        host = self.host
        if host is None:
            return False
        try:
            host.Log(
                plugin_pb2.LogRequest(
                    level=level, message=message, fields={k: str(v) for k, v in fields.items()}
                ),
                timeout=5,
            )
        except grpc.RpcError:
            return False
        return True

    def set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in self.health_names:
            self.health.set(name, status)

    # -- serving -----------------------------------------------------------------------

    def serve(self, socket_path: str | None = None) -> None:
        """Serve on GOATFLOW_PLUGIN_SOCKET until SIGTERM/SIGINT, then remove the socket."""
        path = socket_path or os.environ.get(
            "GOATFLOW_PLUGIN_SOCKET", f"/tmp/goatflow-plugin-{self.name}.sock"
        )
        server = self.start(path)

        stopping: list[int] = []

        def on_signal(signum: int, frame: Any) -> None:
            # Only a flag: a handler that takes a lock (Event.set) deadlocks when a second
            # signal interrupts it, and a dying parent may send its death signal twice.
            stopping.append(signum)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        while not stopping:
            time.sleep(0.1)
        server.stop(grace=0.5).wait()
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        sys.exit(0)

    def start(self, path: str) -> grpc.Server:
        """Start serving on the socket at path (replacing a stale one); returns the server."""
        if os.path.exists(path):
            os.remove(path)
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=16),
            options=[("grpc.max_send_message_length", 256 * 1024 * 1024)],
        )
        plugin_pb2_grpc.add_PluginServiceServicer_to_server(self, server)
        if self.health_service:
            health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
            self.set_health(True)
        server.add_insecure_port(f"unix://{path}")
        server.start()
        print(f"{self.name} plugin listening on {path}", flush=True)
        return server
