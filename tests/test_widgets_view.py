"""The Widgets view (key 3) in the pilot and in a snapshot, against real plugin processes.

"Now" is frozen through the monitor's clock, the zone fixed with TZ and the duration
text through the view's `duration_text` hook, so subtitles are the same on every run.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

import goatui.core.widgets.dashboard as core_widgets
from goatui.core.sanitize import UNSAFE_CODEPOINTS
from goatui.ui.views.widgets import WidgetPanel, WidgetsView

FROZEN = datetime(2026, 3, 14, 21, 10, tzinfo=UTC).timestamp()
SIZE = (100, 30)

WIDGETS: list[dict[str, Any]] = [
    {"id": "hello", "title": "Hello", "handler": "widget_json", "size": "medium", "order": 1},
    {"id": "raw", "title": "Raw", "handler": "widget_raw", "size": "small", "order": 2},
    {"id": "broken", "title": "Broken", "handler": "echo", "size": "small", "order": 3},
    {"id": "failing", "title": "Failing", "handler": "fail", "location": "admin_home"},
    {
        "id": "evil",
        "title": "\x1b]0;x\x07[b]Evil[/b]",
        "handler": "widget_hostile",
        "location": "admin_home",
        "description": "hostile \x1b[2J",
    },
]


@pytest.fixture(scope="module")
def board(module_plugins: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("widgets-view") / "manifest.json"
    path.write_text(json.dumps({"name": "board", "version": "9.9.9", "widgets": WIDGETS}))
    return module_plugins.start("board", TESTPLUGIN_MANIFEST=str(path))


@pytest.fixture(autouse=True)
def utc_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")


async def open_widgets(pilot: Any, eventually: Any, count: int = len(WIDGETS)) -> WidgetsView:
    """Switch to the view and wait until every panel has its first answer."""
    view = pilot.app.query_one(WidgetsView)
    await eventually(lambda: len(view.panels) == count, 5, "the panels")
    await pilot.press("3")
    await eventually(
        lambda: all(p.memory.last is not None and not p.fetching for p in view.panels),
        5,
        "every widget fetched",
    )
    await pilot.pause()
    return view


def shown(view: WidgetsView, widget_id: str) -> WidgetPanel:
    panel = view.panel("board", widget_id)
    assert panel is not None, widget_id
    return panel


def text_of(panel: WidgetPanel) -> str:
    console = Console(file=io.StringIO(), width=max(1, panel.size.width), record=True)
    console.print(panel.render())
    return console.export_text()


def flat(panel: WidgetPanel) -> str:
    """The panel's text with line breaks and runs of spaces as single spaces."""
    return " ".join(text_of(panel).split())


def console(make_console: Any, *running: Any, **options: Any) -> Any:
    # Probing slowly keeps the process idle, which is what the pilot waits for after
    # every key; the first discovery still happens at once.
    app = make_console(*running, **{"interval": 5.0, "discover_interval": 5.0, **options})
    app.animation_level = "none"  # the tab switch animates; nothing here is about it
    return app


async def test_panels_grouped_errors_apart_hostile_inert_and_keys(
    board: Any, make_console: Any, eventually: Any
) -> None:
    app = console(make_console, board, clock=lambda: FROZEN)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_widgets(pilot, eventually)
        headings = [str(s.content) for s in view.query(".widgets-location").results(Static)]
        assert headings == ["dashboard · 3 widgets", "admin_home · 2 widgets"]
        assert [p.spec.id for p in view.panels] == ["hello", "raw", "broken", "failing", "evil"]
        # Sizes as width hints: medium (6/12) + small (4/12) share a row; the next wraps.
        hello, raw, broken = shown(view, "hello"), shown(view, "raw"), shown(view, "broken")
        assert hello.region.y == raw.region.y < broken.region.y
        assert hello.outer_size.width > raw.outer_size.width
        assert str(hello.border_title) == "Hello"
        assert "updated 21:10:00" in str(hello.border_subtitle)
        assert text_of(hello).split() == ["Hello", "from", "json"]
        assert text_of(raw).split() == ["•", "raw", "one", "•", "raw", "two"]
        # Neither result form: an error in that panel only, with the raw start.
        assert broken.has_class("-error") and not hello.has_class("-error")
        assert "neither" in flat(broken) and "it starts: {}" in flat(broken)
        assert "failed 21:10:00" in str(broken.border_subtitle)
        failing = shown(view, "failing")
        assert failing.has_class("-error") and "it broke" in flat(failing)

        # Hostile text: escaped, markup not applied, in the title, body and tooltip.
        evil = shown(view, "evil")
        title = evil._border_title
        assert title is not None and title.plain == "\\x1b]0;x\\x07[b]Evil[/b]"
        assert "[bold red]markup[/]" in flat(evil) and "kept" in flat(evil)
        for text in (text_of(evil), str(evil.tooltip)):
            assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in text)

        # Focus starts on the first panel; arrows and tab move between panels.
        assert app.focused is hello

        async def press(key: str) -> str:
            await pilot.press(key)
            focused = app.focused
            assert isinstance(focused, WidgetPanel)
            return focused.spec.id

        assert await press("left") == "hello"  # nothing before the first
        assert await press("right") == "raw"
        assert await press("down") == "broken"
        assert await press("up") == "hello"  # the nearest panel above
        assert await press("down") == "broken"
        assert await press("down") == "failing"
        assert await press("tab") == "evil"
        assert view.query_one("#widgets-scroll").can_focus is False


async def test_r_refreshes_the_focused_panel_and_resize_rerenders(
    board: Any, make_console: Any, eventually: Any
) -> None:
    now = [FROZEN]
    app = console(make_console, board, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        view = await open_widgets(pilot, eventually)
        hello, raw = shown(view, "hello"), shown(view, "raw")
        before, raw_before = hello.memory.last, raw.memory.last
        now[0] = FROZEN + 65
        await pilot.press("r")
        await eventually(lambda: hello.memory.last is not before, 5, "hello refreshed")
        await pilot.pause()
        assert "updated 21:11:05" in str(hello.border_subtitle)
        assert raw.memory.last is raw_before  # only the focused one
        await pilot.press("R")
        await eventually(lambda: raw.memory.last is not raw_before, 5, "all refreshed")
        await eventually(lambda: not any(p.fetching for p in view.panels), 5, "all landed")

        # Narrower than 80 columns: stacked, re-rendered from the cached HTML.
        fetched, width = hello.memory.last, hello.outer_size.width
        await pilot.resize_terminal(70, 30)
        await pilot.pause()
        assert view.has_class("-stacked")
        assert hello.outer_size.width > width  # every panel takes the full width now
        assert raw.region.y > hello.region.y
        assert hello.memory.last is fetched  # re-rendered, not refetched
        assert text_of(hello).split() == ["Hello", "from", "json"]


async def test_nothing_fetched_while_hidden_and_timers_pause(
    module_plugins: Any,
    tmp_path: Any,
    make_console: Any,
    eventually: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(core_widgets, "MIN_REFRESH_S", 0.2)
    manifest = {
        "widgets": [
            {
                "id": "count",
                "title": "Count",
                "handler": "widget_counter",
                "refreshable": True,
                "refresh_sec": 0.3,
            }
        ]
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    ticker = module_plugins.start("ticker", TESTPLUGIN_MANIFEST=str(path))
    bare = module_plugins.start("bare")  # sends no manifest: named in the header
    app = console(make_console, ticker, bare)
    async with app.run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(WidgetsView)
        header = view.query_one("#widgets-header", Static)
        await eventually(lambda: len(view.panels) == 1, 5, "the panel")
        await eventually(lambda: "no manifest: bare" in str(header.content), 5, "the note")
        panel = view.panels[0]
        await asyncio.sleep(0.4)
        assert panel.memory.last is None  # the view was never shown: no calls
        await pilot.press("3")
        await eventually(lambda: panel.memory.last is not None, 5, "the first fetch")
        first = panel.memory.last
        await eventually(lambda: panel.memory.last is not first, 5, "an automatic refresh")
        assert panel.spec.refresh_s == 0.3  # clamped to the (lowered) floor only
        await pilot.press("1")
        await eventually(lambda: not panel.fetching, 5, "the last fetch to land")
        hidden = panel.memory.last
        await asyncio.sleep(0.7)
        assert panel.memory.last is hidden  # paused while hidden
        await pilot.press("3")  # stale by now: fetched at once
        await eventually(lambda: panel.memory.last is not hidden, 2, "a refresh on show")


def test_snapshot(board: Any, make_console: Any, snap_compare: Any) -> None:
    app = console(make_console, board, clock=lambda: FROZEN)

    async def run_before(pilot: Any) -> None:
        view = pilot.app.query_one(WidgetsView)
        view.duration_text = lambda ms: "4 ms"
        for _ in range(250):
            if len(view.panels) == len(WIDGETS):
                break
            await asyncio.sleep(0.02)
        await pilot.press("3")
        for _ in range(250):
            if all(p.memory.last is not None and not p.fetching for p in view.panels):
                break
            await asyncio.sleep(0.02)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
