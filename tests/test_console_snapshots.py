"""Snapshots of the console's main screens, against real plugins, made deterministic.

The monitor's clock is fixed, and once every plugin has been probed the monitor is
stopped and what varies from run to run (latencies, socket paths under /tmp) is
replaced by fixed values before the screenshot. Update with `--snapshot-update`.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from goatui.ui.app import GoatApp
from goatui.ui.views.invoke import InvokeView
from goatui.ui.views.plugins import PluginsView

FIXED_NOW = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
LATENCIES = [0.61, 0.58, 0.72, 1.4, 0.66, 0.59, 0.63, 2.1, 0.64, 0.6]
MANIFEST = {
    "name": "alpha",
    "routes": [
        {"method": "GET", "path": "/api/plugins/alpha/items", "handler": "echo"},
        {"method": "POST", "path": "/api/plugins/alpha/fail", "handler": "fail"},
    ],
    "widgets": [{"id": "alpha-w", "title": "Alpha", "handler": "widget_json", "size": "small"}],
    "jobs": [{"id": "nightly", "schedule": "0 3 * * *", "handler": "text", "enabled": True}],
    "permissions": ["cache:read", "db:read"],
}


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Clock times in the screenshots do not depend on the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def pair(module_plugins: Any) -> tuple[Any, Any]:
    manifest = module_plugins.sock_dir / "snap-manifest.json"
    manifest.write_text(json.dumps(MANIFEST))
    alpha = module_plugins.start("alpha", TESTPLUGIN_MANIFEST=str(manifest))
    bare = module_plugins.start("bare", TESTPLUGIN_HEALTH="none")
    return alpha, bare


async def frozen(pilot: Pilot[Any]) -> None:
    """Wait for every plugin's first state, stop the monitor, pin what varies."""
    app = pilot.app
    assert isinstance(app, GoatApp)
    monitor = app.ctx.monitor
    deadline = time.monotonic() + 10
    while not monitor.states or any(s.health is None for s in monitor.states.values()):
        assert time.monotonic() < deadline, "plugins not probed in time"
        await pilot.pause(0.05)
    await monitor.stop()
    for state in monitor.states.values():
        state.latencies.clear()
        state.latencies.extend(LATENCIES)
        probes = [replace(p, at=FIXED_NOW, latency_ms=LATENCIES[-1]) for p in state.recent]
        state.recent.clear()
        state.recent.extend(probes)
        state.info = replace(state.info, target=f"/run/goatflow/{state.name}.sock")
        state.version += 1
    for field in app.screen.query("Input, TextArea"):
        field.cursor_blink = False  # type: ignore[attr-defined]  # a blinking cursor varies
    app.clear_notifications()
    app.query_one(PluginsView).redraw()
    await pilot.pause()


def console(make_console: Any, pair: tuple[Any, Any], **options: Any) -> GoatApp:
    app: GoatApp = make_console(*pair, clock=lambda: FIXED_NOW, **options)
    return app


def test_plugins_80x24(snap_compare: Any, make_console: Any, pair: tuple[Any, Any]) -> None:
    assert snap_compare(console(make_console, pair), terminal_size=(80, 24), run_before=frozen)


def test_plugins_120x40_filtered(
    snap_compare: Any, make_console: Any, pair: tuple[Any, Any]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await frozen(pilot)
        await pilot.press("slash", "a", "l", "enter")

    app = console(make_console, pair)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_invoke_invalid_args_80x24(
    snap_compare: Any, make_console: Any, pair: tuple[Any, Any]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await frozen(pilot)
        await pilot.press("i", *"echo")
        pilot.app.query_one(InvokeView).args_area.load_text('{\n  "id": 7,\n  "name": }')
        await pilot.press("ctrl+r")

    app = console(make_console, pair)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_invoke_result_80x24(snap_compare: Any, make_console: Any, pair: tuple[Any, Any]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await frozen(pilot)
        await pilot.press("i", *"echo")
        view = pilot.app.query_one(InvokeView)
        view.args_area.load_text('{"items": [1, 2, 3], "ok": true, "note": null}')
        await pilot.press("ctrl+r")
        while view._last is None:
            await pilot.pause(0.05)
        # The call's duration is the one thing that varies: pin it.
        view._last = replace(view._last, duration_ms=1.25)
        view._show(everything=False)

    app = console(make_console, pair)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_help_80x24(snap_compare: Any, make_console: Any, pair: tuple[Any, Any]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await frozen(pilot)
        await pilot.press("question_mark")

    app = console(make_console, pair)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
