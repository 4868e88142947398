"""2,000 calls into a WASM plugin through goatui's backend (its thread, the deadline,
the ABI, the event loop) vs the same calls made by a bare wasmtime host in a loop."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from benchmarks.support import REPO, Result
from benchmarks.wasm_bare import BareHost

MODULE = REPO / "tests" / "wasm" / "command.wasm"
CALLS = 2000
ARGS = b'{"a": 1}'


async def ours(rounds: int) -> list[float]:
    from goatui.core.backends.wasm.backend import WasmBackend
    from goatui.core.config import Config
    from goatui.core.session import Session

    backend = WasmBackend([str(MODULE)])
    session = Session(backend=backend, config=Config())
    await session.start()
    try:
        await backend.list_plugins()
        times = []
        for _ in range(rounds + 1):  # the first round warms up
            started = time.perf_counter()
            for _ in range(CALLS):
                await backend.call("command-test", "echo", ARGS, 30)
            times.append(time.perf_counter() - started)
        return times[1:]
    finally:
        await session.close()


def bare(rounds: int) -> list[float]:
    host = BareHost(str(MODULE))
    times = []
    for _ in range(rounds + 1):
        started = time.perf_counter()
        for _ in range(CALLS):
            host.call(b"echo", ARGS)
        times.append(time.perf_counter() - started)
    return times[1:]


def run(rounds: int = 5) -> Result:
    import os

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        mine, base = [], []
        for _ in range(rounds):  # alternately, so machine noise hits both alike
            mine += asyncio.run(ours(1))
            base += bare(1)
    ours_s, base_s = min(mine), min(base)
    ratio = ours_s / base_s
    return Result(
        f"calls into a WASM plugin inside goatui ({CALLS:,} calls)",
        f"{ours_s * 1e6 / CALLS:.0f} µs/call",
        f"{base_s * 1e6 / CALLS:.0f} µs/call (bare wasmtime host, same ABI steps)",
        ratio,
        "<= 1.2x",
        ratio <= 1.2,
    )
