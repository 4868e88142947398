"""Keys typed in a burst act in the order typed, where the operator was looking.

A laggy SSH link delivers several keys at once. Textual alone ran a field's bindings
(backspace, ctrl+u, tab) after the characters queued behind them, and sent letters
typed right after a view switch to the view being left, where `q` quits (goatui.ui.keys).
`type_burst` queues every key before the app handles the first, as such a link does;
Pilot's `press` would wait for each key to be handled.
"""

from __future__ import annotations

from typing import Any

from helpers.console import (
    QUIET_MONITOR,
    SIZE,
    console_session,
    open_invoke,
    result_text,
    status_text,
    until_serving,
)
from textual import events

from goatui.core.monitor import PluginMonitor
from goatui.ui.app import GoatApp
from goatui.ui.views.invoke import InvokeView
from goatui.ui.widgets.function_input import FunctionInput


def type_burst(app: GoatApp, *keys: str) -> None:
    for key in keys:
        character = key if len(key) == 1 else {"space": " "}.get(key)
        app.post_message(events.Key(key, character))


async def settle(pilot: Any, rounds: int = 10) -> None:
    for _ in range(rounds):
        await pilot.pause()


async def test_editing_keys_act_in_order_within_and_across_fields(
    alpha: Any, make_console: Any, eventually: Any
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        view.args_area.load_text("")
        type_burst(app, *"xx", "ctrl+u", *"ecx", "backspace", *"ho", "tab", *'{"n":1}', "ctrl+r")
        await eventually(lambda: status_text(app).startswith("OK"), 5, "call done")
        assert view.function_input.value == "echo"
        assert view.args_area.text == '{"n":1}'
        assert "alpha.echo" in status_text(app) and '"n": 1' in result_text(app)


async def test_letters_typed_after_a_view_switch_reach_the_new_view(
    alpha: Any, make_console: Any, eventually: Any
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha")
        type_burst(app, "i", *"query")  # q on the plugins table quits
        await settle(pilot)
        assert app.is_running
        view = app.query_one(InvokeView)
        assert app.focused is view.function_input
        assert view.function_input.value == "query"

        # And back: escape leaves Invoke; the `2` typed next switches views again, and
        # what follows replaces the field's text (selected when the field is focused).
        type_burst(app, "escape", "2", *"ping")
        await settle(pilot)
        assert app.focused is view.function_input and view.function_input.value == "ping"


async def test_letters_wait_for_a_view_still_mounting(plugins: Any, eventually: Any) -> None:
    alpha = plugins.start("alpha")
    session = console_session(alpha.socket)
    app = GoatApp(session, monitor=PluginMonitor(session.backend, **QUIET_MONITOR), lazy_views=True)
    async with app.run_test(size=SIZE):
        # As soon as the row exists: the Invoke view is most likely not mounted yet.
        await eventually(lambda: app.ctx.monitor.get("alpha") is not None, 5, "alpha found")
        type_burst(app, "i", *"query")

        def typed() -> str:
            # The view is in the DOM a moment before its widgets are.
            fields = app.query(FunctionInput)
            return fields.first().value if fields else ""

        await eventually(lambda: typed() == "query", 10, "query typed")
        assert app.is_running and app.focused is app.query_one(InvokeView).function_input
