"""Log ingest through HostService while the Logs view follows, vs the same plugins
calling Log as fast as they can into a HostService that does nothing.

Plugins: PLUGINS processes, each with its own endpoint, calling Log with grpcio (the
way the plugin kit does) as fast as they can: INFLIGHT calls outstanding (the most an
endpoint serves at once, `host.MAX_CONCURRENT_CALLS`; more are refused), for SECONDS.
goatui: the console in Textual's pilot (headless, 160x50, in a subprocess) on the Logs
view, following, its Host serving the endpoints, the log buffer larger than the run so
nothing should be dropped; every acknowledged call must be in the store. Meanwhile
`p` is pressed every 0.25 s and timed to the screen update showing it (benchmarks.pilot).
Baseline: the same clients against a HostService whose Log only returns, served as
goatui's host serves (grpcio's synchronous server per endpoint, HOST_WORKERS threads
shared). For reference, the same null HostService on grpc.aio (goatui's host model
before issue #19; ~30 % slower here). Alternated, ROUNDS each, medians.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.support import REPO, Result, bench_env

PLUGINS = 2
INFLIGHT = 16  # goatui.core.hosting.host.MAX_CONCURRENT_CALLS (checked in run)
SECONDS = 5.0
ROUNDS = 2
BUFFER = 500_000
RATIO_GOAL = 0.9
KEY_GOAL_MS = 100.0

CLIENT = """
import json, sys, time
import grpc
from goatui.proto import plugin_pb2, plugin_pb2_grpc
target, seconds, inflight = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
stub = plugin_pb2_grpc.HostServiceStub(grpc.insecure_channel(target))
stub.Log(plugin_pb2.LogRequest(level="info", message="hello"), timeout=10)  # connected
ok = failed = 0
started = time.monotonic()
while time.monotonic() - started < seconds:
    calls = [
        stub.Log.future(
            plugin_pb2.LogRequest(level="info", message=f"entry {ok + i}", fields={"n": str(i)}),
            timeout=10,
        )
        for i in range(inflight)
    ]
    for call in calls:
        try:
            call.result()
            ok += 1
        except grpc.RpcError:
            failed += 1
print(json.dumps({"ok": ok + 1, "failed": failed, "seconds": time.monotonic() - started}))
"""


async def run_clients(addresses: list[str]) -> tuple[int, int, float]:
    """Acknowledged calls, failed calls, and the longest client's duration."""
    clients = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLIENT,
            address,
            str(SECONDS),
            str(INFLIGHT),
            stdout=subprocess.PIPE,
        )
        for address in addresses
    ]
    reports = [json.loads((await client.communicate())[0]) for client in clients]
    return (
        sum(r["ok"] for r in reports),
        sum(r["failed"] for r in reports),
        max(r["seconds"] for r in reports),
    )


async def baseline(model: str) -> dict[str, Any]:
    """Subprocess: the clients against null HostService servers, "sync" (as goatui's
    host serves) or "aio" (grpc.aio, for reference)."""
    from concurrent.futures import ThreadPoolExecutor

    import grpc
    import grpc.aio

    from goatui.core.hosting.host import HOST_WORKERS
    from goatui.proto import plugin_pb2, plugin_pb2_grpc

    class Null(plugin_pb2_grpc.HostServiceServicer):
        def Log(self, request: Any, context: Any) -> plugin_pb2.Empty:
            return plugin_pb2.Empty()

    class AioNull(plugin_pb2_grpc.HostServiceServicer):
        async def Log(self, request: Any, context: Any) -> plugin_pb2.Empty:
            return plugin_pb2.Empty()

    directory = Path(tempfile.mkdtemp(prefix="gnull-", dir="/tmp"))
    addresses = [f"unix://{directory}/{index}.sock" for index in range(PLUGINS)]
    if model == "aio":
        servers = []
        for address in addresses:
            server = grpc.aio.server()
            plugin_pb2_grpc.add_HostServiceServicer_to_server(AioNull(), server)
            server.add_insecure_port(address)
            await server.start()
            servers.append(server)
        ok, failed, seconds = await run_clients(addresses)
        await asyncio.gather(*(s.stop(None) for s in servers))
    else:
        workers = ThreadPoolExecutor(HOST_WORKERS)
        sync_servers = []
        for address in addresses:
            sync_server = grpc.server(workers)
            plugin_pb2_grpc.add_HostServiceServicer_to_server(Null(), sync_server)
            sync_server.add_insecure_port(address)
            sync_server.start()
            sync_servers.append(sync_server)
        ok, failed, seconds = await run_clients(addresses)
        for sync_server in sync_servers:
            sync_server.stop(None)
        workers.shutdown()
    return {"rate": ok / seconds, "ok": ok, "failed": failed}


async def goatui() -> dict[str, Any]:
    """Subprocess: the console on the Logs view, its host taking the clients' calls."""
    from textual.widgets import Log

    from benchmarks.pilot import ScreenWatch, console_app, summary
    from goatui.core.backends.base import HostTarget
    from goatui.core.backends.sockets.backend import SocketBackend
    from goatui.core.backends.sockets.discovery import Sources
    from goatui.core.config import Config
    from goatui.core.session import Session
    from goatui.ui.views.logs import LogsView

    session = Session(
        backend=SocketBackend(Sources(sockets=[], globs=[])), config=Config(log_buffer=BUFFER)
    )
    app = console_app(session)
    async with app.run_test(size=(160, 50)) as pilot:
        watch = ScreenWatch(app)
        await pilot.press("5")
        await app.ensure_view("logs")
        view = app.query_one(LogsView)
        host = session.enable_host()
        # The clients are not plugins: nothing is attached, only the endpoints served.
        endpoints = [
            await host.endpoint(HostTarget(f"p{index}", f"bench-{index}", None, None))  # type: ignore[arg-type]
            for index in range(PLUGINS)
        ]
        clients = asyncio.ensure_future(run_clients([e.address for e in endpoints]))
        samples = []
        while not clients.done():
            paused = not view.paused
            samples.append(await watch.key("p", lambda paused=paused: view.paused == paused))
            await asyncio.sleep(0.25)
        if view.paused:
            await pilot.press("p")
        ok, failed, seconds = await clients
        await asyncio.sleep(0.5)  # the view's next tick
        await pilot.pause()
        store = session.logs
        lines = len(view.query_one("#logs-log", Log).lines)
        return {
            "rate": store.last_seq / seconds,
            "ok": ok,
            "failed": failed,
            "accepted": store.last_seq,
            "dropped": store.dropped,
            "lines": lines,
            "keys": summary(samples),
        }


def in_subprocess(mode: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_logs", mode],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench_logs {mode} failed:\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def run() -> Result:
    from goatui.core.hosting.host import MAX_CONCURRENT_CALLS

    assert INFLIGHT <= MAX_CONCURRENT_CALLS, "the clients would be refused past the limit"
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp))
        ours, base, aio = [], [], []
        for _ in range(ROUNDS):
            base.append(in_subprocess("--baseline", env))
            ours.append(in_subprocess("--goatui", env))
            aio.append(in_subprocess("--baseline-aio", env))
    rate = statistics.median(r["rate"] for r in ours)
    base_rate = statistics.median(r["rate"] for r in base)
    aio_rate = statistics.median(r["rate"] for r in aio)
    lost = max(r["ok"] - r["accepted"] for r in ours)
    dropped = max(r["dropped"] for r in ours)
    p95 = max(r["keys"]["p95_ms"] for r in ours)
    worst = max(r["keys"]["max_ms"] for r in ours)
    ratio = rate / base_rate
    ok = ratio >= RATIO_GOAL and lost == 0 and dropped == 0 and p95 <= KEY_GOAL_MS
    return Result(
        "log ingest through HostService while the Logs view follows",
        f"{rate:,.0f} entries/s accepted, {lost} lost, {dropped} dropped; "
        f"keys p95 {p95:.0f} ms (max {worst:.0f})",
        f"{base_rate:,.0f} calls/s (the same plugins into a null HostService, served as "
        f"goatui serves; {aio_rate:,.0f}/s on grpc.aio, the model before)",
        ratio,
        f">= {RATIO_GOAL:g}x, none lost, keys <= {KEY_GOAL_MS:g} ms (p95)",
        ok,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--baseline"]:
        print(json.dumps(asyncio.run(baseline("sync"))))
    elif sys.argv[1:2] == ["--baseline-aio"]:
        print(json.dumps(asyncio.run(baseline("aio"))))
    elif sys.argv[1:2] == ["--goatui"]:
        print(json.dumps(asyncio.run(goatui())))
    else:
        print(run())
