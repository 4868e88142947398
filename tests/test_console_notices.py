"""Notices in the console: one per cause, paced per plugin, never over the title row."""

from __future__ import annotations

import time
from typing import Any

from helpers.console import SIZE, eventually, record_notices
from textual.widgets import TabbedContent, Tabs
from textual.widgets._toast import Toast

from goatui.core.notices import PER_PLUGIN, PER_PLUGIN_S


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
    told = record_notices(app)  # all of them: a toast on screen expires
    async with app.run_test(size=SIZE) as pilot:

        def about_flood() -> list[tuple[float, str]]:
            return [(at, text) for at, text in told if "flood" in text]

        await eventually(lambda: (s := app.ctx.monitor.get("flood")) and s.flips > 2000, 20)
        # Thousands of changes are told as counts, never one by one.
        await eventually(
            lambda: any(" changes in " in text for _, text in about_flood()), 10, "a count told"
        )
        await pilot.press("5")
        await pilot.press("1")
        assert app.query_one(TabbedContent).active == "plugins"
        state = app.ctx.monitor.get("flood")
        assert state is not None and state.flips > 2000
        # A few notices, then one per PER_PLUGIN_S: never more than PER_PLUGIN in a window.
        times = [at for at, _ in about_flood()]
        for first in times:
            within = [at for at in times if first <= at < first + PER_PLUGIN_S]
            assert len(within) <= PER_PLUGIN, about_flood()


async def test_notices_due_already_are_told_and_later_ones_too(make_console: Any) -> None:
    """A change whose notice is due before it is scheduled (the event loop was busy):
    told at once, and the notices after it still come (a 0 s timer killed them all)."""
    app = make_console()
    told = record_notices(app)
    async with app.run_test(size=SIZE):
        for name in ("late", "later"):
            app._notices.add(name, "SERVING", "UNREACHABLE", "", time.monotonic() - 5)
            app._schedule_notices()
            await eventually(lambda n=name: any(n in text for _, text in told), 5, name)
