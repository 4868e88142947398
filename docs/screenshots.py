"""The README's screenshots: the console on the demo plugins, saved as SVG.

Run with `make screenshots` (python -m docs.screenshots). The demo plugins are launched
as `goatui demo` launches them; the console runs headless at 120x36, and each view is
saved under docs/screenshots/. Config and state go to a temporary directory, so the
operator's own theme and call history stay out of the pictures (and untouched).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"
SIZE = (120, 36)
TIMEOUT_S = 20.0
TREND_SAMPLES = 10


async def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: {what} did not happen within {TIMEOUT_S:g}s")
        await asyncio.sleep(0.05)


async def take(out: Path) -> list[Path]:
    from goatui.cli.cmd_demo import demo_session
    from goatui.core.config import Config
    from goatui.core.monitor import PluginMonitor
    from goatui.ui.app import GoatApp
    from goatui.ui.views.invoke import InvokeView

    options = argparse.Namespace(read_only=False, max_message_mb=None, db=None, timeout=None)
    session = demo_session(options, Config())
    # Probed often, so the trend column has a few bars by the time of the picture.
    app = GoatApp(session, monitor=PluginMonitor(session.backend, interval=0.25))
    saved: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)

    def save(name: str) -> None:
        app.clear_notifications()  # toasts are moments, not the screen
        app.save_screenshot(filename=name, path=str(out))
        saved.append(out / name)

    async with app.run_test(size=SIZE) as pilot:
        monitor = app.ctx.monitor
        await _until(
            lambda: (
                len(monitor.states) >= 3
                and all(
                    # A WASM plugin's latency is its last call's: none before a call.
                    s.health is not None
                    and (len(s.latencies) >= TREND_SAMPLES or s.probes >= TREND_SAMPLES)
                    for s in monitor.states.values()
                )
            ),
            "the demo plugins' first probes",
        )
        await pilot.pause()
        save("plugins.svg")

        await pilot.press("2")
        view = app.query_one(InvokeView)
        view.prepare("analytics")
        view.function_input.value = "list_reports"
        await pilot.press("ctrl+r")
        await _until(lambda: view._last is not None, "the list_reports result")
        view.viewer.focus()
        await pilot.pause()
        save("invoke.svg")

        # Split view: the plugin's log tail beside Invoke, and the host calls the last
        # call made (its timeline) above the result.
        view.function_input.focus()
        await pilot.press("ctrl+s")
        view.function_input.value = "run_report"
        view.args_area.load_text('{"id": "ticket-volume"}')
        await pilot.press("ctrl+r")
        timeline = app.query_one("#invoke-timeline")
        await _until(lambda: timeline.display, "the run_report host-call timeline")
        await pilot.pause()
        save("split.svg")

        # The same call twice, then `d`: what changed between the two results.
        await pilot.press("ctrl+s")  # the tail closed: the diff gets the whole width
        view.function_input.value = "generate_daily_report"
        view.args_area.load_text("{}")
        kept = len(view._kept)
        for count in (1, 2):
            await pilot.press("ctrl+r")
            done = kept + count
            await _until(lambda n=done: len(view._kept) >= n, "a generate_daily_report result")
        view.viewer.focus()
        await pilot.press("d")
        await _until(lambda: type(app.screen).__name__ == "DiffScreen", "the diff screen")
        await pilot.pause()
        save("diff.svg")
    await app.close_session()
    return saved


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="goatui-shots-") as home:
        os.environ["XDG_CONFIG_HOME"] = str(Path(home) / "config")
        os.environ["XDG_STATE_HOME"] = str(Path(home) / "state")
        os.environ.pop("GOATUI_CONFIG", None)
        for path in asyncio.run(take(OUT)):
            print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
