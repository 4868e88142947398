"""1,000 calls through goatui's PluginClient vs the same calls on a bare grpc.aio stub."""

from __future__ import annotations

import asyncio
import time

import grpc.aio

from benchmarks.support import Result, running_plugins
from goatui.core.backends.sockets.client import PluginClient
from goatui.proto import plugin_pb2, plugin_pb2_grpc

CALLS = 1000


async def measure(socket: str, rounds: int) -> tuple[float, float]:
    client = PluginClient(socket)
    channel = grpc.aio.insecure_channel(f"unix://{socket}")
    stub = plugin_pb2_grpc.PluginServiceStub(channel)
    request = plugin_pb2.CallRequest(function="echo", args=b'{"a": 1}')

    async def ours() -> float:
        started = time.perf_counter()
        for _ in range(CALLS):
            await client.call("echo", b'{"a": 1}', timeout=30)
        return time.perf_counter() - started

    async def bare() -> float:
        started = time.perf_counter()
        for _ in range(CALLS):
            await stub.Call(request, timeout=30)
        return time.perf_counter() - started

    await ours(), await bare()  # connect and warm both channels
    ours_times, bare_times = [], []
    for _ in range(rounds):
        ours_times.append(await ours())
        bare_times.append(await bare())
    await client.close()
    await channel.close()
    return min(ours_times), min(bare_times)


def run(rounds: int = 5) -> Result:
    with running_plugins(1) as [socket]:
        ours, baseline = asyncio.run(measure(str(socket), rounds))
    ratio = ours / baseline
    return Result(
        "call overhead inside goatui's client (1,000 calls)",
        f"{ours * 1000 / CALLS:.3f} ms/call",
        f"{baseline * 1000 / CALLS:.3f} ms/call (bare grpc.aio stub)",
        ratio,
        "<= 1.05x",
        ratio <= 1.05,
    )
