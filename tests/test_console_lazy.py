"""The real console (`lazy_views=True`) mounts only the Plugins view at start.

The other views follow once the rows are drawn, or at once when the operator asks for
one first (issue #9: most of the start-up time went to views not yet visible).
"""

from __future__ import annotations

import asyncio
from typing import Any

from helpers.console import QUIET_MONITOR, console_session
from textual.widgets import TabbedContent

from goatui.core.monitor import PluginMonitor
from goatui.ui.app import GoatApp
from goatui.ui.views.base import View
from goatui.ui.views.invoke import InvokeView
from goatui.ui.views.logs import LogsView

SIZE = (120, 40)


def lazy_console(*sockets: Any) -> GoatApp:
    session = console_session(*sockets)
    monitor = PluginMonitor(session.backend, **QUIET_MONITOR)
    return GoatApp(session, monitor=monitor, lazy_views=True)


async def test_every_view_is_mounted_after_the_first_rows(plugins: Any, eventually: Any) -> None:
    alpha = plugins.start("alpha")
    app = lazy_console(alpha.socket)
    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: len(app.query(View)) == len(app.VIEWS), 10, "all views")
        await pilot.press("5")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "logs"
        assert app.focused is not None and app.query_one(LogsView) in app.focused.ancestors


async def test_a_view_asked_for_before_its_turn_is_mounted_and_prepared(
    plugins: Any, eventually: Any
) -> None:
    alpha = plugins.start("alpha")
    app = lazy_console(alpha.socket)
    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: app.ctx.monitor.get("alpha") is not None, 5, "alpha found")
        app.show_view("invoke", plugin="alpha")  # likely before the background mount
        await eventually(lambda: len(app.query(InvokeView)) == 1, 10, "invoke mounted")
        await pilot.pause()
        view = app.query_one(InvokeView)
        await eventually(lambda: view.plugin == "alpha", 5, "alpha preselected")
        assert app.query_one(TabbedContent).active == "invoke"
        assert len(app.query(InvokeView)) == 1  # mounted once, whoever asked first


async def test_quitting_while_views_mount_exits_without_a_traceback(plugins: Any) -> None:
    # Ctrl-C right after the first rows: the other views were still mounting, and a
    # Select mounting during the teardown raised NoMatches, shown as a traceback.
    alpha = plugins.start("alpha")
    for delay in (0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16):
        app = lazy_console(alpha.socket)
        async with app.run_test(size=SIZE):
            app.show_view("logs")
            await asyncio.sleep(delay)
            app.exit(return_code=0)
        assert app.return_code == 0, delay
