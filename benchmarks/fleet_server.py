"""Many plugins in one process, for the benchmarks: one grpc.aio server per Unix socket.

`python -m benchmarks.fleet_server DIR COUNT` serves COUNT sockets
DIR/goatflow-plugin-pNNN.sock. Each socket has its own server, so each registers its
own name (pNNN), answers grpc.health.v1 (Check and Watch) for "plugin" and "", and
handles Call("echo"), Call("big_json") and Call("set_health") ({"serving": false} makes
it NOT_SERVING, streamed to Health.Watch). goatui sees COUNT separate sockets and
plugins, as it would see COUNT plugin processes; only the processes are shared, which
keeps 100 plugins affordable on a small machine and is not what is being measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from goatui.proto import plugin_pb2, plugin_pb2_grpc

MiB = 1024 * 1024


def big_json(mb: float) -> bytes:
    """A report-like JSON document of about `mb` MiB: records with nested parts."""
    records = []
    size = 0
    index = 0
    target = int(mb * MiB)
    while size < target:
        record = {
            "id": index,
            "name": f"customer-{index:07d}",
            "email": f"user{index}@example.com",
            "active": index % 3 != 0,
            "balance": round(index * 1.37, 2),
            "tags": ["alpha", "beta", "gamma"][: index % 4],
            "address": {"city": "Zürich", "zip": f"{8000 + index % 999}", "lines": ["a", "b"]},
        }
        text = json.dumps(record, ensure_ascii=False)
        size += len(text.encode()) + 2
        records.append(record)
        index += 1
    return json.dumps({"count": len(records), "records": records}, ensure_ascii=False).encode()


class FleetPlugin(plugin_pb2_grpc.PluginServiceServicer):
    def __init__(self, name: str, checker: health.aio.HealthServicer) -> None:
        self.name = name
        self.checker = checker
        self._big: dict[float, bytes] = {}

    async def Register(self, request: Any, context: Any) -> plugin_pb2.RegisterResponse:
        return plugin_pb2.RegisterResponse(name=self.name, version="1.0.0", description="bench")

    async def Call(self, request: Any, context: Any) -> plugin_pb2.CallResponse:
        if request.function == "echo":
            return plugin_pb2.CallResponse(result=request.args)
        if request.function == "big_json":
            mb = float(json.loads(request.args or b"{}").get("mb", 20))
            if mb not in self._big:
                self._big[mb] = big_json(mb)
            return plugin_pb2.CallResponse(result=self._big[mb])
        if request.function == "set_health":
            serving = json.loads(request.args or b"{}").get("serving", True)
            status = health_pb2.HealthCheckResponse.SERVING
            if not serving:
                status = health_pb2.HealthCheckResponse.NOT_SERVING
            for service in ("plugin", ""):
                await self.checker.set(service, status)
            return plugin_pb2.CallResponse(result=b"{}")
        await context.abort(grpc.StatusCode.UNKNOWN, f"unknown function: {request.function}")
        raise AssertionError  # abort raises

    async def SetHost(self, request: Any, context: Any) -> plugin_pb2.Empty:
        return plugin_pb2.Empty()


async def serve(directory: Path, count: int) -> None:
    servers = []
    for index in range(count):
        name = f"p{index:03d}"
        path = directory / f"goatflow-plugin-{name}.sock"
        path.unlink(missing_ok=True)
        server = grpc.aio.server(
            options=[
                ("grpc.max_send_message_length", 256 * MiB),
                ("grpc.max_receive_message_length", 256 * MiB),
            ]
        )
        checker = health.aio.HealthServicer()
        plugin_pb2_grpc.add_PluginServiceServicer_to_server(FleetPlugin(name, checker), server)
        for service in ("plugin", ""):
            await checker.set(service, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(checker, server)
        server.add_insecure_port(f"unix://{path}")
        await server.start()
        servers.append(server)
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await asyncio.gather(*(s.stop(grace=None) for s in servers))


def main() -> None:
    directory, count = Path(sys.argv[1]), int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    asyncio.run(serve(directory, count))


if __name__ == "__main__":
    main()
