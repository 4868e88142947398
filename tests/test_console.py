"""The console driven through Textual's Pilot against real plugin processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.console import (
    SIZE,
    Eventually,
    drawn_row,
    health_of,
    notifications,
    open_invoke,
    plain,
    result_text,
    send,
    status_text,
    table_rows,
    until_serving,
)
from textual.binding import Binding
from textual.command import CommandList
from textual.widgets import Input, Static, TabbedContent

from goatui.core.calls.history import History, HistoryEntry
from goatui.core.calls.results import classify_result, complete_result
from goatui.core.models import Health
from goatui.ui.app import GoatApp
from goatui.ui.screens.help import HelpScreen
from goatui.ui.screens.save import SavePrompt
from goatui.ui.views.invoke import InvokeView
from goatui.ui.views.plugins import PluginsView
from goatui.ui.widgets.plugin_table import PluginTable
from goatui.ui.widgets.result_viewer import ResultViewer
from goatui.ui.widgets.row_table import RowTable


@pytest.fixture
def own_alpha(plugins: Any, manifest_file: Path) -> Any:
    """An alpha of this test's own, for tests that stop it or change its health."""
    return plugins.start("alpha", TESTPLUGIN_MANIFEST=str(manifest_file))


# -- Plugins view ----------------------------------------------------------------------


async def test_table_shows_each_plugin_with_health_words_latency_and_detail(
    plugins: Any, alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    bare = plugins.start("bare", TESTPLUGIN_HEALTH="none")
    app = make_console(alpha, bare, fast=True)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha")
        await eventually(lambda: "UNKNOWN" in health_of(app, "bare"), 5, "bare probed")
        await eventually(lambda: len(table_rows(app)["alpha"]["trend"]) >= 2, 3, "a trend")
        rows = table_rows(app)
        assert rows["alpha"]["version"] == "9.9.9"
        assert rows["alpha"]["health"] == "● SERVING"
        assert rows["bare"]["health"] == "◆ UNKNOWN"  # a word, never colour alone
        last, p50 = rows["alpha"]["latency"].split(" / ")
        assert float(last) > 0 and float(p50) > 0
        assert set(rows["alpha"]["trend"]) <= set("▁▂▃▄▅▆▇█")
        assert rows["alpha"]["since"].endswith("s")
        detail = plain(app.query_one("#detail-body", Static))
        for expected in ("test plugin alpha", str(alpha.socket), "/echo", "echo", "cache:read"):
            assert expected in detail
        assert "PENDING → SERVING" in detail  # the state history
        assert app.sub_title == "sockets · 2 plugins"
        assert app.ctx.monitor.running
    # Leaving the console closes the session: monitor stopped, channels closed.
    assert app._closed and not app.ctx.monitor.running


async def test_state_changes_show_promptly_with_toasts_and_a_killed_plugin_recovers(
    own_alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    alpha = own_alpha
    app = make_console(alpha, fast=True)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha")
        await app.ctx.backend.call("alpha", "set_health", b'{"serving": false}')
        await eventually(lambda: "NOT_SERVING" in health_of(app, "alpha"), 2, "NOT_SERVING")
        await pilot.pause()
        assert "NOT_SERVING" in drawn_row(app, "alpha")
        # Why (issue #17): which health check answered so, in the row and the detail,
        # with the last probes, their times and latencies.
        # Polled or streamed, whichever came first.
        answered = {
            'grpc.health.v1 Check(service="plugin") answered NOT_SERVING',
            'grpc.health.v1 Watch(service="plugin") streamed NOT_SERVING',
        }
        assert table_rows(app)["alpha"]["error"] in answered
        detail = plain(app.query_one("#detail-body", Static))
        assert 'last answer from grpc.health.v1 Check(service="plugin")' in detail

        def newest_probe() -> str:
            detail = plain(app.query_one("#detail-body", Static))
            return detail.split("newest first, last 5 kept", 1)[1].splitlines()[1]

        # Streamed first, the newest probe may still be the SERVING one: the next sees it.
        await eventually(lambda: "▲ NOT_SERVING" in newest_probe(), 3, "a probe sees it")
        probes = newest_probe()
        assert " ms " in probes and probes[2] == ":"
        await eventually(
            lambda: any("alpha: SERVING → NOT_SERVING" in n for n in notifications(app)), 3, "told"
        )
        await app.ctx.backend.call("alpha", "set_health", b'{"serving": true}')
        await eventually(lambda: health_of(app, "alpha") == "● SERVING", 2, "SERVING again")
        await pilot.pause()
        drawn = drawn_row(app, "alpha")
        # The health cell; the last error stays, dimmed (from before it recovered).
        assert "● SERVING" in drawn and "▲ NOT_SERVING" not in drawn, drawn

        alpha.kill()
        await eventually(lambda: "UNREACHABLE" in health_of(app, "alpha"), 3, "unreachable")
        await pilot.pause()
        await eventually(lambda: any("→ UNREACHABLE" in n for n in notifications(app)), 3, "told")
        error = table_rows(app)["alpha"]["error"]
        assert len(error) > 40  # longer than the column: whole in the detail, wrapped
        detail = " ".join(plain(app.query_one("#detail-body", Static)).split())
        assert f"last error {error}" in detail
        alpha.start()  # the same socket
        await eventually(lambda: health_of(app, "alpha") == "● SERVING", 6, "recovered")
        await pilot.pause()
        await eventually(
            lambda: any("UNREACHABLE → SERVING" in n for n in notifications(app)), 3, "told"
        )


async def test_enter_or_a_click_on_the_selected_plugin_opens_its_invoke(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha")
        await pilot.press("enter")
        await pilot.pause()
        view = app.query_one(InvokeView)
        assert app.query_one(TabbedContent).active == "invoke"
        assert view.plugin_select.value == "alpha" and app.focused is view.function_input
        app.show_view("plugins")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "plugins"
        # Line 0 is the header, 1 alpha, already under the cursor (a click elsewhere only
        # moves the cursor: tests/test_row_table.py).
        await pilot.click(PluginTable, offset=(2, 1))
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "invoke"


async def test_s_sorts_by_health_then_latency_then_name_again(
    plugins: Any, alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    bare = plugins.start("bare", TESTPLUGIN_HEALTH="none")
    app = make_console(alpha, bare, fast=True)
    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: "UNKNOWN" in health_of(app, "bare"), 5, "bare probed")
        await until_serving(pilot, eventually, "alpha")
        table = app.query_one(PluginTable)
        assert [table.get_cell(k, "name").plain for k in table.rows] == ["alpha", "bare"]
        assert table.selected_key == app.ctx.monitor.get("alpha").key  # type: ignore[union-attr]
        await pilot.press("s")
        await pilot.pause()
        # Worst first; the cursor stays on its plugin, now the second row.
        assert [table.get_cell(k, "name").plain for k in table.rows] == ["bare", "alpha"]
        assert [c.label for c in table.columns][:3] == ["Name", "Version", "Health ▼"]
        assert table.selected_key == app.ctx.monitor.get("alpha").key  # type: ignore[union-attr]
        await pilot.press("s")
        await pilot.pause()
        assert table.columns[3].label == "ms last/p50 ▼"
        await pilot.press("s")
        await pilot.pause()
        assert [c.label for c in table.columns][:4] == ["Name", "Version", "Health", "ms last/p50"]
        assert [table.get_cell(k, "name").plain for k in table.rows] == ["alpha", "bare"]


async def test_filter_narrows_as_you_type_enter_keeps_it_escape_clears(
    plugins: Any, alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    beta = plugins.start("beta")
    app = make_console(alpha, beta)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha", "beta")
        await pilot.press("slash")
        assert isinstance(app.focused, Input) and app.focused.id == "plugins-filter"
        await pilot.press("b", "e")
        await pilot.pause()
        assert list(table_rows(app)) == ["beta"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.focused, RowTable)
        assert list(table_rows(app)) == ["beta"]  # kept
        assert app.query_one(PluginsView).filter_text == "be"
        await pilot.press("escape")
        await pilot.pause()
        assert sorted(table_rows(app)) == ["alpha", "beta"]
        assert app.query_one(PluginsView).filter_text == ""


# -- Invoke ----------------------------------------------------------------------------


async def test_invoke_shows_results_and_errors_and_records_both(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        assert view.plugin == "alpha"
        await pilot.press(*"ech", "right")  # completion from the manifest's handlers
        assert view.function_input.value == "echo"
        await pilot.press("tab")
        assert app.focused is view.args_area
        view.args_area.load_text('{"greeting": "hello",\n "n": 42}')
        await pilot.press("ctrl+r")
        await eventually(lambda: status_text(app).startswith("OK"), 5, "call done")
        status = status_text(app)
        assert "alpha.echo" in status and " ms · " in status and "B · json" in status
        assert '"greeting": "hello"' in result_text(app)
        history = History()
        await eventually(lambda: History().entries(), 3, "history written")
        (entry,) = history.entries()
        assert (entry.plugin, entry.function, entry.outcome) == ("alpha", "echo", "ok")
        assert json.loads(entry.args) == {"greeting": "hello", "n": 42}

        # A failing handler: its gRPC code and message, recorded as an error.
        await send(pilot, "fail", '{"message": "disk on fire"}')
        await eventually(lambda: status_text(app).startswith("UNKNOWN"), 5, "error shown")
        assert "disk on fire" in status_text(app)
        assert "disk on fire" in result_text(app)  # whole there, however narrow the status
        await eventually(lambda: len(History().entries()) == 2, 3, "error recorded")
        assert History().entries()[-1].outcome == "error"


async def test_invalid_args_point_at_line_and_column_and_send_nothing(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "echo", '{\n  "a": 1,\n  "b": }')
        await pilot.pause()
        status = status_text(app)
        assert status.startswith("INVALID ARGS") and "line 3, column 8" in status
        assert "^" in result_text(app) and '"b": }' in result_text(app)
        assert app.focused is view.args_area
        assert view.args_area.cursor_location == (2, 7)
        assert not [w for w in app.workers if w.group == "invoke"]  # nothing was sent
        assert History().entries() == []


async def test_escape_cancels_a_call_in_flight_then_leaves(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "slow", '{"seconds": 20}')
        await eventually(lambda: view.calling, 3, "call in flight")
        # Sent: the result has the keys. The UI stays responsive while the plugin
        # works: keys still move focus.
        assert app.focused is view.viewer
        await pilot.press("shift+tab")
        assert app.focused is view.args_area
        await pilot.press("escape")
        await eventually(lambda: status_text(app).startswith("CANCELLED"), 3, "cancelled")
        assert app.query_one(TabbedContent).active == "invoke"
        await eventually(lambda: History().entries(), 3, "history written")
        assert History().entries()[0].outcome == "cancelled"
        await pilot.press("escape")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "plugins"


async def test_up_and_down_recall_calls_from_the_history_file(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    # Written by an earlier console (recording is checked in the tests above).
    history = History()
    history.append(HistoryEntry.make("alpha", "echo", '{"first": 1}', 1.0, 2.0, "ok"))
    history.append(HistoryEntry.make("other", "nope", "{}", 2.0, 2.0, "ok"))
    history.append(HistoryEntry.make("alpha", "text", '{"text": "second"}', 3.0, 2.0, "ok"))
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        await pilot.press(*"dra")
        await pilot.press("up")
        assert view.function_input.value == "text"
        assert view.args_area.text == '{"text": "second"}'
        await pilot.press("up")  # only this plugin's calls
        assert view.function_input.value == "echo"
        assert view.args_area.text == '{"first": 1}'
        await pilot.press("down", "down")
        assert view.function_input.value == "dra"  # back to what was being typed


async def test_results_copy_and_save_under_the_cwd(
    alpha: Any,
    make_console: Any,
    eventually: Eventually,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_console(alpha)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "binary")
        await eventually(lambda: status_text(app).startswith("OK"), 5, "call done")
        assert "binary" in status_text(app) and "|....goat" in result_text(app)
        view.viewer.focus()
        await pilot.press("c")
        assert copied and "ff fe 00 01" in copied[0]
        await pilot.press("s")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, SavePrompt)
        default = Path(prompt.query_one(Input).value)
        assert default.parent == tmp_path and default.name.startswith("goatui-alpha-binary-")
        await pilot.press("enter")
        await eventually(lambda: default.exists(), 3, "file written")
        assert default.read_bytes() == b"\xff\xfe\x00\x01goat\x1b[31m"
        await pilot.pause()
        assert any(str(default) in n for n in notifications(app))


async def test_result_keys_jump_without_animating(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    """An animated scroll is frames that each draw every line: keys jump (issue #9)."""
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "echo", json.dumps({"items": list(range(300))}))
        await eventually(lambda: status_text(app).startswith("OK"), 10, "echo call")
        viewer = view.viewer
        viewer.focus()
        await pilot.pause()
        # Straight from each key's action: an animated scroll would not have moved yet.
        viewer.action_scroll_end()
        assert viewer.scroll_y == viewer.max_scroll_y > 0
        viewer.action_scroll_home()
        assert viewer.scroll_y == 0
        viewer.action_page_down()
        assert viewer.scroll_y == viewer.scrollable_content_region.height
        viewer.action_scroll_up()
        assert viewer.scroll_y == viewer.scrollable_content_region.height - 1
        await pilot.press("end")  # and through the key binding
        assert viewer.scroll_y == viewer.max_scroll_y


async def test_huge_results_are_capped_until_show_all(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "big", '{"mb": 3}')
        await eventually(lambda: status_text(app).startswith("OK"), 10, "big call")
        assert "a: show all" in status_text(app)
        view.viewer.focus()
        await pilot.press("end", "a")
        await pilot.pause()
        assert "a: show all" not in status_text(app)
        assert sum(map(len, app.query_one(ResultViewer)._lines)) > 3 * 1024 * 1024


async def test_a_long_json_result_shows_its_head_then_counts_the_rest(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    rows = list(range(12_000))  # 12,004 lines pretty-printed: past the 5,000 shown first
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "echo", json.dumps({"rows": rows}))
        await eventually(lambda: "of 12,004 lines" in status_text(app), 10, "the rest counted")
        viewer = app.query_one(ResultViewer)
        assert len(viewer.lines) == 5000 and "a: show all" in status_text(app)
        assert view._last is not None and view._last.view.complete
        viewer.focus()
        await pilot.press("c")
        assert app.clipboard.count("\n") == 12_003  # the whole result, not its head

        # `a` before the rest is ready: shown as soon as it is.
        head = classify_result(json.dumps({"rows": rows}).encode(), head=(100, 10**6))
        viewer.show_result(head)
        assert len(viewer.lines) == 100
        viewer.complete(complete_result(head), everything=True)
        assert len(viewer.lines) == 12_004


async def test_plugin_text_is_shown_literally_never_as_markup_or_escapes(
    plugins: Any, make_console: Any, eventually: Eventually
) -> None:
    evil = plugins.start("evil", TESTPLUGIN_NAME="evil\x1b[31m[b]x[/b]")
    app = make_console(evil)
    async with app.run_test(size=SIZE) as pilot:
        name = "evil\\x1b[31m[b]x[/b]"
        await until_serving(pilot, eventually, name)
        await pilot.press("i")
        await pilot.pause()
        await send(pilot, "hostile")
        await eventually(lambda: status_text(app).startswith("OK"), 5, "call done")
        shown = result_text(app)
        assert "\x1b" not in shown and "\x07" not in shown and "[bold red]markup[/]" in shown


# -- everywhere ------------------------------------------------------------------------


async def test_read_only_refuses_invoking_visibly(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    app = make_console(alpha, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha")
        assert "READ-ONLY" in plain(app.query_one("#read-only-banner", Static))
        await pilot.press("i")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "plugins"
        assert any("read-only" in n for n in notifications(app))
        await pilot.press("2")
        await pilot.pause()
        view = app.query_one(InvokeView)
        assert "read-only" in plain(app.query_one("#invoke-read-only", Static))
        view.plugin_select.value = "alpha"
        await send(pilot, "echo")
        await pilot.pause()
        assert notifications(app).count("read-only: invoking is disabled") == 2
        assert not [w for w in app.workers if w.group == "invoke"]


async def test_number_keys_switch_views(alpha: Any, make_console: Any) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        assert app.query_one(TabbedContent).active == "invoke"
        await pilot.press("escape")
        assert app.query_one(TabbedContent).active == "plugins"
        await pilot.press("3")
        assert app.query_one(TabbedContent).active == "widgets"
        app.show_view("plugins")
        await pilot.pause()
        await pilot.press("1")
        assert app.query_one(TabbedContent).active == "plugins"
    # 4 and 5 the same way (pressing them would mostly time the other views' mounting).
    actions = {b.key: b.action for b in app.BINDINGS if isinstance(b, Binding)}
    assert actions["4"] == "show_view('jobs')" and actions["5"] == "show_view('logs')"


async def test_help_lists_every_key_and_every_binding_has_an_id(
    alpha: Any, make_console: Any
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_screen = app.screen
        shown = plain(help_screen.query_one("#help-keys", Static))
        for _title, bindings in app.help_sections():
            for binding in bindings:
                assert help_screen.key_display(binding).split(", ")[0] in shown
                assert binding.id is None or binding.id in shown
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
    # Every binding the operator may rebind ([keys]) has an id.
    from goatui.ui.keymap import known_bindings

    assert len(known_bindings(GoatApp.BINDINGS)) > 60
    import importlib

    from goatui.ui.keymap import _BINDING_CLASSES

    for where in _BINDING_CLASSES:
        module, _, name = where.partition(":")
        owner = getattr(importlib.import_module(module), name)
        for binding in [*GoatApp.BINDINGS, *owner.BINDINGS]:
            assert isinstance(binding, Binding) and binding.id, (owner, binding)


async def test_palette_offers_invoking_a_plugin(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "alpha")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"alpha")
        hits = lambda: app.screen.query_one(CommandList).option_count  # noqa: E731
        await eventually(hits, 3, "palette hits")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "invoke"
        assert app.query_one(InvokeView).plugin == "alpha"


async def test_chosen_theme_is_saved_and_loaded(
    alpha: Any, make_console: Any, eventually: Eventually, tmp_path: Path
) -> None:
    config = tmp_path / "config" / "goatui" / "config.toml"
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "textual-light"
        await eventually(lambda: config.exists(), 3, "config written")
        await pilot.pause()
    assert 'theme = "textual-light"' in config.read_text()
    from goatui.core.config import load_config

    app = make_console(alpha)
    app.ctx.session.config = load_config()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"


def test_health_states_all_have_a_word_and_a_tone() -> None:
    from goatui.ui.format import status_label, tone

    for health in Health:
        assert health.value in status_label(health.value)
        assert tone(health.value) in ("success", "error", "warning", "muted")


async def test_functions_called_before_are_offered_with_their_last_args_and_a_call_ticks(
    alpha: Any, make_console: Any, eventually: Eventually
) -> None:
    """Handlers outside the manifest (slow) are found from the history, start from their
    last args, and a call in flight says how long it has taken against its deadline."""
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "slow", '{"seconds": 1.5}')
        await eventually(lambda: "of 30s" in status_text(app), 3, "the elapsed time")
        first = status_text(app)
        assert first.startswith("calling alpha.slow … ")
        await eventually(lambda: status_text(app) != first, 3, "ticking")
        await eventually(lambda: status_text(app).startswith("OK"), 5, "done")
        await eventually(lambda: "slow" in (view._handlers or []), 5, "offered")
        assert view._handlers[:2] == ["echo", "fail"]  # the manifest's first

        view.function_input.value = ""
        view.args_area.load_text("{}")
        await pilot.pause()
        view.function_input.value = "slow"
        await pilot.pause()
        assert json.loads(view.args_area.text) == {"seconds": 1.5}
        # Changed by hand, the args are kept whatever function is typed.
        view.args_area.load_text('{"mine": 1}')
        view.function_input.value = "echo"
        await pilot.pause()
        assert json.loads(view.args_area.text) == {"mine": 1}


async def test_keys_operators_bring_from_k9s_and_vim(
    plugins: Any, sock_dir: Path, eventually: Eventually
) -> None:
    """Issue #17: names in natural order; g G j k on the table; d the detail alone
    (escape back to the table); l the Logs view filtered to the plugin; the `:` command
    line to a view, a plugin or the plugins matching; digits from an empty function
    field."""
    from helpers.console import QUIET_MONITOR

    from goatui.core.backends.sockets.backend import SocketBackend
    from goatui.core.backends.sockets.discovery import Sources
    from goatui.core.config import Config
    from goatui.core.monitor import PluginMonitor
    from goatui.core.session import Session
    from goatui.ui.views.logs import LogsView
    from goatui.ui.widgets.command_line import CommandLine
    from goatui.ui.widgets.plugin_detail import PluginDetail

    plugins.start_fleet("fleet", 10)
    backend = SocketBackend(Sources(globs=[f"{sock_dir}/goatflow-plugin-*.sock"]))
    session = Session(backend=backend, config=Config())
    app = GoatApp(session, monitor=PluginMonitor(backend, **QUIET_MONITOR))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        view = app.query_one(PluginsView)

        def selected() -> str:
            state = view.selected()
            return state.name if state else ""

        await eventually(lambda: len(view.visible_states()) == 10, 10, "the fleet")
        await pilot.pause()
        assert [s.name for s in view.visible_states()][:3] == ["fleet-1", "fleet-2", "fleet-3"]
        await pilot.press("G")
        assert selected() == "fleet-10"
        await pilot.press("g", "j", "j", "k")
        assert selected() == "fleet-2"

        detail = app.query_one(PluginDetail)
        await pilot.press("d")
        assert app.screen.maximized is detail and app.focused is detail
        await pilot.press("escape")
        assert app.screen.maximized is None and app.focused is view.table
        await pilot.press("j")
        assert selected() == "fleet-3"

        await pilot.press("l")
        assert app.query_one(TabbedContent).active == "logs"
        assert app.query_one(LogsView).filter.plugins == {"fleet-3"}

        async def command(text: str) -> None:
            await pilot.press("colon")
            line = app.query_one(CommandLine)
            assert app.focused is line
            line.value = text  # (typed: one pilot key each costs a refresh)
            await pilot.press("enter")
            await pilot.pause()

        await command("4")
        assert app.query_one(TabbedContent).active == "jobs"
        await command("inv")
        assert app.query_one(TabbedContent).active == "invoke"
        # The function field is empty: digits switch views; with text, they are text.
        await pilot.press("3")
        assert app.query_one(TabbedContent).active == "widgets"
        await pilot.press("2", "e", "3")
        assert app.query_one(TabbedContent).active == "invoke"
        assert app.query_one(InvokeView).function_input.value == "e3"
        await pilot.press("escape", "escape")
        assert app.query_one(TabbedContent).active == "plugins"
        await command("fleet-10")  # a whole name: that plugin
        assert selected() == "fleet-10" and not view.filter_text
        await command("eet-")  # part of several names: the plugins that match
        assert view.filter_text == "eet-" and len(view.visible_states()) == 10
        await command("nothing-here")
        assert "no view, command or plugin matches 'nothing-here'" in notifications(app)


def test_the_command_line_resolves_views_commands_and_plugins() -> None:
    from goatui.ui.widgets.command_line import Command, resolve

    views = GoatApp.VIEWS
    names = ["billing", "fleet-1", "fleet-10", "inventory"]
    assert resolve("logs", views, names) == Command("view", "logs")
    assert resolve("4", views, names) == Command("view", "jobs")
    assert resolve("Inv", views, names) == Command("view", "invoke")  # a view first
    assert resolve("inventory", views, names) == Command("plugin", "inventory")
    assert resolve("fleet-1", views, names) == Command("plugin", "fleet-1")  # whole name
    assert resolve("bil", views, names) == Command("plugin", "billing")
    assert resolve("fleet", views, names) == Command("filter", "fleet")
    assert resolve("ctx prod", views, names) == Command("context", "prod")
    assert resolve("ctx", views, names) == Command("context", "")
    assert resolve("help", views, names) == Command("help")
    assert resolve("q", views, names) == Command("quit")
    assert resolve("zzz", views, names) == Command("unknown", "zzz")
