"""Log lines from a WASM plugin through gk.log into the console's Logs view, vs the same
plugin logging into a bare wasmtime host whose gk.log only reads the message.

The plugin (tests/wasm/command.c, `flood`) logs LINES lines in one call, as fast as it
can. goatui: the console in Textual's pilot (headless, in a subprocess) on the Logs
view, following, the log buffer larger than the flood; timed from the call to the screen
update that shows the last line, and every line must be in the buffer or dropped by its
bound (none lost), and none dropped while the buffer had room (it has: the flood takes
about 22 MiB of its 32). Baseline: the same call on benchmarks.wasm_bare's host.
Alternated, ROUNDS each.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.support import REPO, Result, bench_env

MODULE = REPO / "tests" / "wasm" / "command.wasm"
LINES = 100_000
ROUNDS = 2
RATE_GOAL = 100_000
ARGS = json.dumps({"lines": LINES}).encode()


def baseline() -> dict[str, Any]:
    from benchmarks.wasm_bare import BareHost

    seen = [0]

    def on_log(level: int, message: bytes) -> None:
        seen[0] += 1

    host = BareHost(str(MODULE), on_log=on_log)
    started = time.perf_counter()
    host.call(b"flood", ARGS)
    seconds = time.perf_counter() - started
    return {"rate": seen[0] / seconds, "lines": seen[0]}


async def goatui() -> dict[str, Any]:
    from benchmarks.pilot import ScreenWatch
    from goatui.core.backends.wasm.backend import WasmBackend
    from goatui.core.config import Config
    from goatui.core.session import Session
    from goatui.ui.app import GoatApp
    from goatui.ui.views.logs import LogsView

    backend = WasmBackend([str(MODULE)])
    session = Session(backend=backend, config=Config(log_buffer=LINES * 2))
    app = GoatApp(session, lazy_views=True)
    async with app.run_test(size=(160, 50)) as pilot:
        watch = ScreenWatch(app)
        await pilot.press("5")
        await app.ensure_view("logs")
        view = app.query_one(LogsView)
        await backend.list_plugins()
        last = f"line {LINES} "
        started = time.perf_counter()
        call = asyncio.ensure_future(backend.call("command-test", "flood", ARGS, 120))
        shown = await watch.shown(
            lambda: bool(view.log_widget.lines) and last in view.log_widget.lines[-1], 120
        )
        await call
        seconds = shown - started
        return {"rate": LINES / seconds, **accounted(session.logs)}


def accounted(store: Any) -> dict[str, Any]:
    """What became of the flood's lines: kept in the buffer, dropped by its bound, or lost.

    The buffer drops its oldest entries when it reaches its bound (entries or bytes), and
    counts them: the lines before the first one kept are those, so long as it counted as
    many. Any other line missing (a gap, the end) was lost. Lines dropped while the
    buffer was not at its bound are dropped needlessly."""
    numbers = sorted(int(e.message.split()[1]) for e in store if e.message.startswith("line "))
    first = numbers[0] if numbers else LINES + 1
    dropped_by_bound = min(first - 1, store.dropped)
    lost = LINES - len(numbers) - dropped_by_bound
    largest = max((store._entry_cost(e) for e in store), default=0)
    at_bound = len(store) >= store.capacity or store.bytes + 2 * largest > store.max_bytes
    return {
        "lines": len(numbers),
        "lost": lost,
        "dropped": store.dropped,
        "needless": 0 if at_bound else store.dropped,
        "bound": f"{store.capacity:,} entries, {store.max_bytes // 2**20} MiB",
    }


def in_subprocess(mode: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_wasm_logs", mode],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench_wasm_logs {mode} failed:\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def run() -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp), XDG_CACHE_HOME=str(Path(tmp) / "cache"))
        ours, base = [], []
        for _ in range(ROUNDS):
            base.append(in_subprocess("--baseline", env))
            ours.append(in_subprocess("--goatui", env))
    rate = statistics.median(r["rate"] for r in ours)
    base_rate = statistics.median(r["rate"] for r in base)
    lost = max(r["lost"] for r in ours)
    dropped = max(r["dropped"] for r in ours)
    needless = max(r["needless"] for r in ours)
    said = f"{rate:,.0f} lines/s shown, {lost} lost, {dropped} dropped"
    if dropped:
        why = "below the buffer's bound" if needless else "at the buffer's bound"
        said += f" ({why}: {ours[0]['bound']})"
    ok = rate >= RATE_GOAL and lost == 0 and needless == 0
    return Result(
        f"log lines from a WASM plugin (gk.log) into the Logs view ({LINES:,} in one call)",
        said,
        f"{base_rate:,.0f} lines/s (bare wasmtime host reading each message)",
        rate / base_rate,
        f">= {RATE_GOAL:,}/s, none lost below the buffer bound",
        ok,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--baseline"]:
        print(json.dumps(baseline()))
    elif sys.argv[1:2] == ["--goatui"]:
        print(json.dumps(asyncio.run(goatui())))
    else:
        print(run())
