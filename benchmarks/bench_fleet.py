"""The console watching 1,000 plugins (probes every 2 s): CPU, memory, keys, state changes.

CPU and RSS: the real `goatui` console on a pseudo-terminal (120x40), so drawing and
writing frames count, watching 100 sockets served by one bench process (see
fleet_server). After every plugin is listed and the first probes and Health.Watch
streams have settled, user+system CPU (/proc/PID/stat) is read over WINDOW_S seconds;
RSS (/proc/PID/status VmRSS) is sampled every second and the largest kept. An idle
Python process (`time.sleep`) is measured over the same window as the baseline.

Key latency: a second run, the same console in Textual's pilot (headless, 160x50,
App.run_test in a subprocess), same fleet: from a key press to the screen update that
shows it (benchmarks.pilot), for row moves in the 1,000-row table and view switches,
while probes keep arriving. Then state changes: a plugin on screen (the first row) and
one far out of view (the last) are made NOT_SERVING and SERVING again, each timed from
the plugin's answer to the screen update showing it: the row's health cell for the
first, a notification naming the plugin for the other.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_cli_call import goatui_command
from benchmarks.support import (
    REPO,
    PtyProcess,
    Result,
    bench_env,
    cpu_seconds,
    rss_mib,
    running_fleet,
)

COUNT = 1000
SETTLE_S = 5.0
WINDOW_S = 20.0
CPU_GOAL = 10.0  # % of one core
RSS_GOAL = 300.0  # MiB
KEY_GOAL_MS = 100.0
CHANGE_GOAL_S = 2.0


def usage_over(pids: list[int], seconds: float) -> list[tuple[float, float]]:
    """(% of one core, max RSS MiB) of each process over the same window."""
    cpu_before = [cpu_seconds(pid) for pid in pids]
    peaks = [rss_mib(pid) for pid in pids]
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        time.sleep(1.0)
        peaks = [max(peak, rss_mib(pid)) for peak, pid in zip(peaks, pids, strict=True)]
    elapsed = time.monotonic() - started
    used = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    return [(100 * cpu / elapsed, peak) for cpu, peak in zip(used, peaks, strict=True)]


def console_usage(env: dict[str, str]) -> tuple[tuple[float, float], tuple[float, float]]:
    console = PtyProcess([*goatui_command()], env, watch=[f"{COUNT} plugins"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"], env=env)
    try:
        console.seen_at(f"{COUNT} plugins", timeout=300)
        time.sleep(SETTLE_S)
        ours, baseline = usage_over([console.process.pid, idle.pid], WINDOW_S)
    finally:
        console.stop()
        idle.kill()
        idle.wait()
    return ours, baseline


async def pilot_latency(config: str) -> dict[str, Any]:
    """Run in a subprocess: the console in the pilot, keys timed to the screen."""
    from textual.widgets import TabbedContent

    from benchmarks.pilot import ScreenWatch, console_app, summary
    from goatui.cli.common import build_session, load_options_config
    from goatui.cli.parser import build_parser
    from goatui.core.models import Health
    from goatui.ui.widgets.plugin_table import PluginTable

    options = build_parser().parse_args(["--config", config])
    app = console_app(build_session(options, load_options_config(options)))
    async with app.run_test(size=(160, 50), notifications=True):
        watch = ScreenWatch(app)
        table = app.query_one(PluginTable)
        await watch.shown(lambda: table.row_count >= COUNT, timeout=300)
        await asyncio.sleep(SETTLE_S)
        tabs = app.query_one(TabbedContent)
        samples = []
        for _ in range(20):
            row = table.cursor_row
            samples.append(await watch.key("down", lambda row=row: table.cursor_row == row + 1))
            await asyncio.sleep(0.15)
        # Digits switch views, except in Invoke, where they are typed: escape leaves it.
        switches = [("5", "logs"), ("1", "plugins"), ("2", "invoke"), ("escape", "plugins")]
        for key, view in switches * 2:
            samples.append(await watch.key(key, lambda view=view: tabs.active == view))
            await asyncio.sleep(0.3)
        await pilot_key_home(watch, table)
        monitor = app.ctx.monitor
        changes = []
        for name in ("p000", f"p{COUNT - 1:03d}"):
            state = monitor.get(name)
            assert state is not None
            for health in (Health.NOT_SERVING, Health.SERVING):
                changes.append(await state_change(watch, app, table, state.key, name, health))
                await asyncio.sleep(0.5)
        return {"keys": summary(samples), "changes_s": changes}


async def pilot_key_home(watch: Any, table: Any) -> None:
    await watch.key("home", lambda: table.cursor_row == 0)


async def state_change(watch: Any, app: Any, table: Any, key: str, name: str, health: Any) -> float:
    """Seconds from the plugin answering set_health to the screen showing the change."""
    import time

    import grpc.aio

    from goatui.proto import plugin_pb2, plugin_pb2_grpc

    word = health.value

    def on_screen() -> bool:
        if key in table.rows_in_view():
            line = table.rows.index(key) - int(table.scroll_y) + 1
            return word in table.render_line(line).text
        return any(
            name in str(toast.render()) and word in str(toast.render())
            for toast in app.screen.query("Toast")
        )

    async with grpc.aio.insecure_channel(f"unix://{key}") as channel:
        stub = plugin_pb2_grpc.PluginServiceStub(channel)
        args = json.dumps({"serving": health == "SERVING"}).encode()
        await stub.Call(plugin_pb2.CallRequest(function="set_health", args=args), timeout=10)
    answered = time.perf_counter()
    return await watch.shown(on_screen, timeout=30) - answered


def run() -> Result:
    with running_fleet(COUNT) as sockets, tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        config = scratch / "goatui.toml"
        config.write_text(
            f'globs = ["{sockets[0].parent}/goatflow-plugin-*.sock"]\nprobe_interval = 2.0\n'
        )
        env = bench_env(scratch, GOATUI_CONFIG=str(config))
        (cpu, rss), (idle_cpu, idle_rss) = console_usage(env)
        pilot = json.loads(
            subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_fleet", "--pilot", str(config)],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            ).stdout
        )
    keys, changes = pilot["keys"], pilot["changes_s"]
    slowest = max(changes)
    ok = (
        cpu <= CPU_GOAL
        and rss <= RSS_GOAL
        and keys["p95_ms"] <= KEY_GOAL_MS
        and slowest <= CHANGE_GOAL_S
    )
    return Result(
        f"console watching {COUNT:,} plugins (2 s probes)",
        f"{cpu:.1f}% of a core, {rss:.0f} MiB RSS; keys p95 {keys['p95_ms']:.0f} ms "
        f"(max {keys['max_ms']:.0f}); state changes on screen in "
        + ", ".join(f"{c:.2f}" for c in changes)
        + " s",
        f"idle Python: {idle_cpu:.1f}% of a core, {idle_rss:.0f} MiB",
        float("nan"),
        f"<= {CPU_GOAL:g}% of a core, <= {RSS_GOAL:g} MiB; keys <= {KEY_GOAL_MS:g} ms (p95); "
        f"a state change on screen <= {CHANGE_GOAL_S:g} s",
        ok,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pilot"]:
        print(json.dumps(asyncio.run(pilot_latency(sys.argv[2]))))
    else:
        print(run())
