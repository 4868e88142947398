"""Keys typed in a burst act in the order typed, where the operator was looking.

A laggy SSH link delivers several keys at once. Textual alone ran a field's bindings
(backspace, ctrl+u, tab) after the characters queued behind them, and sent letters
typed right after a view switch to the view being left, where `q` quits (goatui.ui.keys).
`type_burst` queues every key before the app handles the first, as such a link does;
Pilot's `press` would wait for each key to be handled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.console import (
    QUIET_MONITOR,
    SIZE,
    console_session,
    open_invoke,
    plain,
    result_text,
    status_text,
    until_serving,
)
from textual import events
from textual.keys import key_to_character
from textual.widgets import TabbedContent

from goatui.core.monitor import PluginMonitor
from goatui.ui.app import GoatApp
from goatui.ui.screens.help import HelpScreen
from goatui.ui.views.invoke import InvokeView
from goatui.ui.widgets.function_input import FunctionInput
from goatui.ui.widgets.plugin_table import PluginTable

KEY_NAMES = {"/": "slash", ":": "colon", "?": "question_mark", " ": "space"}


def type_burst(app: GoatApp, *keys: str) -> None:
    for key in keys:
        name = KEY_NAMES.get(key, key)  # "/" is the key "slash"
        app.post_message(events.Key(name, key_to_character(name)))


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


# -- no sequence of keys leaves the console deaf ----------------------------------------

# Keys an operator might press anywhere, minus the ones that end the console (q, ctrl+c,
# ctrl+q) or hand the keys to the command palette (where Enter may pick "Quit").
RANDOM_KEYS = (
    *"12345",
    *"/aAcdDeEfghijklmnNprRsStuvwWxyY:?",
    "escape",
    "enter",
    "tab",
    "shift+tab",
    "up",
    "down",
    "left",
    "right",
    "pageup",
    "end",
    "home",
    "backspace",
    "space",
    "ctrl+r",
    "ctrl+s",
    "ctrl+o",
)
# The bug from issue #17, then seeded random ones: the same every run.
LOGS_BUG = ("5", "slash", "a", "enter", "t", "t", "escape")
SEQUENCES = 8
LENGTH = 12


def key_sequences() -> list[tuple[str, ...]]:
    import random

    rng = random.Random(17)
    sequences = [LOGS_BUG]
    for _ in range(SEQUENCES):
        start = rng.choice("12345")  # every view, as the starting point
        keys = tuple(rng.choice(RANDOM_KEYS) for _ in range(LENGTH))
        sequences.append((start, *keys))
    return sequences


async def test_no_sequence_of_keys_leaves_the_console_deaf(
    plugins: Any, eventually: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """After any keys, escape (as often as dialogs are stacked) and the view keys work.

    `5` then `1`: the Logs view focuses no text field, so both are view switches
    wherever the keys left the console. Its own plugin: `a` may attach the host to it.
    """
    monkeypatch.chdir(tmp_path)  # `s` and `e` save files in the working directory
    alpha = plugins.start("alpha")
    session = console_session(alpha.socket)
    app = GoatApp(session, monitor=PluginMonitor(session.backend, **QUIET_MONITOR), lazy_views=True)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha")
        for sequence in key_sequences():
            type_burst(app, *sequence)
            await keys_handled(pilot, eventually)
            type_burst(app, *["escape"] * 4, "5")
            await keys_handled(pilot, eventually)
            assert app.screen is app.get_default_screen() or not app.screen.is_modal, sequence
            assert app.query_one(TabbedContent).active == "logs", sequence
            type_burst(app, "1")
            await keys_handled(pilot, eventually)
            assert app.query_one(TabbedContent).active == "plugins", sequence
            assert app.focused is app.query_one(PluginTable), sequence


async def keys_handled(pilot: Any, eventually: Any) -> None:
    app = pilot.app
    await pilot.pause()
    await eventually(lambda: not app.holding_keys(), 10, "typed-ahead keys delivered")
    await pilot.pause()


async def test_the_config_keys_rebind_by_id_and_the_help_shows_the_keys_in_force(
    alpha: Any, eventually: Any, tmp_path: Path
) -> None:
    from textual.widgets import Static

    from goatui.core.config import load_config
    from goatui.ui.screens.help import HelpScreen

    path = tmp_path / "config.toml"
    path.write_text('[keys]\n"app.view.logs" = "f5"\n"plugins.sort" = "o"\n"no.such" = "z"\n')
    session = console_session(alpha.socket)
    session.config = load_config(path)
    app = GoatApp(session, monitor=PluginMonitor(session.backend, **QUIET_MONITOR))
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha")
        assert any("'no.such'" in n.message for n in app._notifications)
        await pilot.press("5")  # no longer the Logs view's key
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "plugins"
        await pilot.press("f5")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "logs"
        await pilot.press("1", "o")
        await pilot.pause()
        assert app.query_one("#plugins-view").order_by == "health"  # type: ignore[attr-defined]
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = plain(app.screen.query_one("#help-keys", Static)).splitlines()
        logs_row = next(row for row in rows if "app.view.logs" in row)
        assert logs_row.split()[0] == "f5"


async def test_keys_typed_as_a_dialog_closes_reach_the_screen_below(
    alpha: Any, make_console: Any, eventually: Any
) -> None:
    """ "?" then "q q" in one burst: the first q closes the help, the second quits.

    In a real terminal the second q waited for the help screen's next refresh, which
    Textual never runs once that screen is dismissed (`TypedAheadKeys.after_refresh`);
    test_console_e2e_flows.py::test_the_logs_view_keeps_taking_keys_after_host_calls_only
    hits that race in tmux, where Pilot's timing does not."""
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await eventually(lambda: isinstance(app.screen, HelpScreen), 5, "the help")
        type_burst(app, "q", "q")
        await eventually(lambda: app.return_code == 0, 5, "quit by the second q")
