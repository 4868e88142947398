"""Notices in the console: one per cause, paced per plugin, never over the title row."""

from __future__ import annotations

from typing import Any

from helpers.console import SIZE, eventually, notifications
from textual.widgets import TabbedContent, Tabs
from textual.widgets._toast import Toast

from goatui.core.notices import PER_PLUGIN


async def test_toasts_never_cover_the_title_row_or_the_tabs(make_console: Any) -> None:
    """However many there are (a mass event is one notice: tests/test_notices.py and the
    tmux test of a fleet going down)."""
    app = make_console()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for index in range(30):
            app.notify(f"notice {index}", timeout=30)
        await pilot.pause()

        def toasts_top() -> int | None:
            shown = [t.region.y for t in app.screen.query(Toast) if t.region.bottom > 0]
            return min(shown) if len(shown) >= 5 else None

        await eventually(lambda: toasts_top() is not None, 5, "the toasts shown")
        assert toasts_top() > app.query_one(Tabs).region.bottom  # type: ignore[operator]


async def test_a_health_watch_flood_raises_few_notices_and_keys_still_act(
    plugins: Any, make_console: Any, eventually: Any
) -> None:
    flood = plugins.start("flood", TESTPLUGIN_FLAP="1")
    app = make_console(flood)
    async with app.run_test(size=SIZE) as pilot:

        def told() -> list[str]:
            return [n for n in notifications(app) if "flood" in n]

        await eventually(lambda: (s := app.ctx.monitor.get("flood")) and s.flips > 2000, 10)
        await eventually(lambda: any(" changes in " in t for t in told()), 10, "a count told")
        await pilot.press("5")
        await pilot.press("1")
        assert app.query_one(TabbedContent).active == "plugins"
        # Thousands of changes: a few notices, then one per 10 s with a count.
        state = app.ctx.monitor.get("flood")
        assert state is not None and state.flips > 2000
        assert len(told()) <= PER_PLUGIN, told()
