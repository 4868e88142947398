"""A 20 MB JSON result in the result viewer vs pretty-printing it with json.dumps.

goatui: the console in Textual's pilot (headless, 160x50, in a subprocess) calls a
plugin (fleet_server's big_json: ~20 MiB of report-like records) from the Invoke view;
timed from the moment the backend hands the result bytes over to the first screen update
showing the result (classifying, pretty-printing, laying out and drawing included).
Baseline, in the same process: `json.dumps(value, indent=2)` of the already parsed
value, the least any pretty-printer of it must do. Three calls and three baselines,
medians. Then scrolling: page down, end, home and line moves in the result, first as
shown (the preview) and then after `a` (the whole document), each key timed to the
screen update that shows the move (benchmarks.pilot).
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

from benchmarks.support import REPO, Result, bench_env, running_fleet

MB = 20
CALLS = 3
FIRST_SCREEN_GOAL = 2.0
SCROLL_GOAL_MS = 50.0  # p95: three frames at 60 Hz


async def measure(socket: str) -> dict[str, Any]:
    """Subprocess: the console's Invoke view, a big result, then scrolling."""
    from benchmarks.pilot import ScreenWatch, console_app, summary
    from goatui.cli.common import build_session, load_options_config
    from goatui.cli.parser import build_parser
    from goatui.ui.views.invoke import InvokeView

    options = build_parser().parse_args(["--socket", socket, "--timeout", "120"])
    session = build_session(options, load_options_config(options))
    arrived: list[float] = []
    call = session.backend.call

    async def timed_call(*args: Any, **kwargs: Any) -> Any:
        result = await call(*args, **kwargs)
        arrived.append(time.perf_counter())
        return result

    session.backend.call = timed_call  # type: ignore[method-assign]
    app = console_app(session)
    async with app.run_test(size=(160, 50)) as pilot:
        watch = ScreenWatch(app)
        await watch.shown(lambda: bool(app.ctx.monitor.states), timeout=60)
        await pilot.press("2")
        await app.ensure_view("invoke")
        await pilot.pause()
        view = app.query_one(InvokeView)
        view.update_plugins()
        view.plugin_select.value = "p000"
        view.function_input.value = "big_json"
        view.args_area.load_text(json.dumps({"mb": MB}))
        viewer = view.viewer
        first_screens = []
        for _ in range(CALLS):
            view.viewer.show_message("(waiting)")
            await pilot.pause()
            shown = asyncio.ensure_future(
                watch.shown(lambda: viewer.line_count > 1 and not view.calling, timeout=300)
            )
            view.action_send()
            first_screens.append(await shown - arrived[-1])
        data = (
            await session.backend.call("p000", "big_json", json.dumps({"mb": MB}).encode())
        ).data
        value = json.loads(data)
        baselines = []
        for _ in range(CALLS):
            started = time.perf_counter()
            json.dumps(value, indent=2)
            baselines.append(time.perf_counter() - started)
        viewer.focus()
        await pilot.pause()
        scrolls = await scroll(watch, viewer)
        started = time.perf_counter()
        everything = asyncio.ensure_future(
            watch.shown(lambda: view._shown is not None and view._shown.complete, timeout=300)
        )
        await pilot.press("a")
        show_all = await everything - started
        viewer.focus()
        await pilot.pause()
        scrolls += await scroll(watch, viewer)
        return {
            "size": len(data),
            "lines": viewer.line_count,
            "first_screen": statistics.median(first_screens),
            "baseline": statistics.median(baselines),
            "show_all": show_all,
            "scroll": summary(scrolls),
        }


async def scroll(watch: Any, viewer: Any) -> list[float]:
    samples = []
    keys = ["pagedown"] * 5 + ["end", "home"] + ["down"] * 5 + ["pagedown"] * 3 + ["end"]
    for key in keys:
        before = viewer.scroll_offset.y
        samples.append(await watch.key(key, lambda before=before: viewer.scroll_offset.y != before))
        await asyncio.sleep(0.1)
    return samples


def run() -> Result:
    with running_fleet(1) as [socket], tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_result_viewer", "--measure", str(socket)],
            cwd=REPO,
            env=bench_env(Path(tmp)),
            capture_output=True,
            text=True,
            timeout=600,
        )
    if done.returncode != 0:
        raise RuntimeError(f"bench_result_viewer failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = report["first_screen"] / report["baseline"]
    scroll = report["scroll"]
    ok = ratio <= FIRST_SCREEN_GOAL and scroll["p95_ms"] <= SCROLL_GOAL_MS
    return Result(
        f"a {report['size'] / 1024 / 1024:.0f} MiB JSON result in the result viewer",
        f"first screen {report['first_screen'] * 1000:.0f} ms; scroll keys p95 "
        f"{scroll['p95_ms']:.0f} ms (max {scroll['max_ms']:.0f}), also after `a` showed all "
        f"{report['lines']:,} lines in {report['show_all'] * 1000:.0f} ms",
        f"{report['baseline'] * 1000:.0f} ms (json.dumps indent=2 of the parsed value)",
        ratio,
        f"<= {FIRST_SCREEN_GOAL:g}x; scrolling p95 <= {SCROLL_GOAL_MS:g} ms",
        ok,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        print(json.dumps(asyncio.run(measure(sys.argv[2]))))
    else:
        print(run())
