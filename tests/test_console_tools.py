"""The console's tools in the pilot, on real plugin processes (and the loopback gateway).

Restart / stop of launched plugins, enable / disable through a gateway, the context
switcher, search and JSONPath on a result, copy as a command, history replay and diffs,
the host-call timeline under a result, and the audit log they all write.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from helpers.console import FAST_MONITOR
from rich.console import Console
from textual.widgets import Static

from goatui.core.audit import AuditLog
from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.discovery import Sources, read_plugins_dir
from goatui.core.config import Config, load_config
from goatui.core.monitor import PluginMonitor
from goatui.core.session import Session
from goatui.ui.app import GoatApp
from goatui.ui.screens.audit import AuditScreen
from goatui.ui.screens.confirm import ConfirmScreen
from goatui.ui.screens.contexts import ContextScreen
from goatui.ui.screens.diff import DiffScreen
from goatui.ui.screens.history import HistoryScreen
from goatui.ui.views.invoke import InvokeView
from goatui.ui.views.plugins import PluginsView
from goatui.ui.widgets.log_tail import LogTail
from goatui.ui.widgets.plugin_detail import PluginDetail
from goatui.ui.widgets.result_viewer import ResultViewer
from goatui.ui.widgets.row_table import RowTable
from goatui.ui.widgets.search_bar import SearchBar

SIZE = (120, 40)
FAST: dict[str, Any] = dict(FAST_MONITOR)


def notes(app: GoatApp) -> str:
    return "\n".join(n.message for n in app._notifications)


def static_text(widget: Static) -> str:
    """What a Static shows, as plain text (whatever renderable it holds)."""
    console = Console(width=200, file=io.StringIO(), color_system=None)
    content = widget.content
    if isinstance(content, str):
        return content
    console.print(content)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def audit_actions() -> list[tuple[str, str, str]]:
    return [(e.action, e.target, e.outcome) for e in AuditLog().read()]


def launched_console(plugins_dir: Path) -> GoatApp:
    """goatui launches (and hosts) every plugin in plugins_dir, as `--launch` does."""
    installed = read_plugins_dir(str(plugins_dir))
    backend = SocketBackend(Sources(sockets=[], globs=[], plugins_dir=str(plugins_dir)))
    session = Session(backend=backend, config=Config(), to_launch=list(installed.values()))
    return GoatApp(session, monitor=PluginMonitor(session.backend, **FAST))


async def wait_serving(app: GoatApp, eventually: Any, name: str) -> None:
    await eventually(
        lambda: (s := app.ctx.monitor.get(name)) is not None and s.status == "SERVING",
        10,
        f"{name} serving",
    )


async def test_restart_stop_and_the_timeline_of_a_launched_plugin(
    plugins_dir: Any, eventually: Any
) -> None:
    plugins_dir.add("alpha")
    app = launched_console(plugins_dir.root)
    async with app.run_test(size=SIZE) as pilot:
        session = app.ctx.session
        await wait_serving(app, eventually, "alpha")
        await eventually(lambda: "alpha" in session.attached, 10, "alpha hosted")
        await pilot.pause()
        detail = app.query_one(PluginDetail)

        def detail_text() -> str:
            return static_text(detail.query_one("#detail-body", Static))

        first_pid = session.launcher.plugins["alpha"].pid  # type: ignore[union-attr]

        # The host calls alpha makes while serving a call are listed under the result.
        await pilot.press("i")
        view = app.query_one(InvokeView)
        view.function_input.value = "host"
        view.args_area.load_text(json.dumps({"method": "CacheGet", "request": {"key": "k1"}}))
        await pilot.press("ctrl+r")
        timeline = app.query_one("#invoke-timeline", Static)
        await eventually(lambda: timeline.display, 5, "timeline shown")
        assert "CacheGet" in static_text(timeline)
        assert "host calls while serving" in static_text(timeline)

        # ctrl+s: the plugin's log tail beside Invoke, following new lines.
        tail = app.query_one(LogTail)
        view.screen.set_focus(view.default_focus())
        await pilot.press("ctrl+s")
        assert tail.shown and tail.plugin == "alpha"
        view.function_input.value = "log"
        view.args_area.load_text(json.dumps({"count": 3, "level": "warning"}))
        await pilot.press("ctrl+r")
        await eventually(
            lambda: sum(" line " in line for line in tail.log_widget.lines) == 3, 5, "tail"
        )
        await pilot.press("ctrl+s")
        assert not tail.shown
        await pilot.press("escape")  # back to the plugins

        await pilot.press("R")
        await eventually(
            lambda: session.launcher.plugins["alpha"].pid not in (None, first_pid),
            10,
            "restarted",
        )
        await wait_serving(app, eventually, "alpha")

        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "alpha" in static_text(app.screen.query_one("#confirm-question", Static))
        await pilot.press("y")
        await eventually(lambda: not session.launcher.plugins["alpha"].running, 10, "stopped")
        app.query_one(PluginsView).redraw()
        await eventually(lambda: "exit code" in detail_text(), 5, "exit code shown")
        await eventually(
            lambda: {("restart", "alpha", "ok"), ("stop", "alpha", "ok")} <= set(audit_actions()),
            5,
            "audited",
        )
        assert ("invoke", "alpha/host", "ok") in audit_actions()


async def test_lifecycle_refused_for_plugins_goatui_did_not_launch(
    plugins: Any, make_console: Any, eventually: Any
) -> None:
    alpha = plugins.start("alpha")
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await wait_serving(app, eventually, "alpha")
        await pilot.pause()
        # goatui launched nothing and this is no gateway: R, S and e are not offered
        # (not in the footer, not in the help) and do nothing.
        active = app.screen.active_bindings
        assert not {"R", "S", "e"} & {k for k, b in active.items() if b.enabled}
        assert "Enable / disable" not in str(app.help_sections())
        await pilot.press("R", "S", "e")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and not notes(app)


async def test_search_query_copy_history_and_diff(
    plugins: Any, make_console: Any, eventually: Any
) -> None:
    alpha = plugins.start("alpha")
    app = make_console(alpha)
    rows = [{"id": i, "name": f"row{i}", "count": i * 10} for i in range(15)]
    async with app.run_test(size=SIZE) as pilot:
        await wait_serving(app, eventually, "alpha")
        await pilot.pause()
        await pilot.press("i")
        view = app.query_one(InvokeView)
        viewer = app.query_one(ResultViewer)
        view.function_input.value = "echo"
        view.args_area.load_text(json.dumps({"rows": rows}))
        await pilot.press("ctrl+r")
        await eventually(lambda: view._last is not None, 5, "a result")
        await pilot.pause()

        # `/` searches the result: matches marked, n / N step, the match kept in view.
        viewer.focus()
        await pilot.press("slash")
        bar = app.query_one(SearchBar)
        assert bar.has_class("-open")
        bar.input.value = "row1"  # typed: each change searches again
        await pilot.pause()
        # row1 and row10..row14: six matches, the first one current.
        assert len(viewer.matches) == 6
        status = static_text(bar.query_one("#search-bar-status", Static))
        assert status == "1/6"
        await pilot.press("enter")
        assert app.focused is viewer
        await pilot.press("n", "n")
        assert viewer.match_index == 2
        line = viewer.matches[2][0]
        top = viewer.scroll_offset.y
        assert top <= line - 1 < line + 1 < top + viewer.scrollable_content_region.height
        await pilot.press("N")
        assert viewer.match_index == 1
        await pilot.press("escape")  # the whole result again, marks gone
        assert not viewer.matches and not bar.has_class("-open")

        # `$` narrows with JSONPath; a bad expression is said, not raised.
        await pilot.press("dollar_sign")
        bar.input.value = "$.rows["
        await pilot.press("enter")
        assert "invalid JSONPath" in static_text(bar.query_one("#search-bar-status", Static))
        assert viewer.query_text == ""
        bar.input.value = "$.rows[?(@.count > 120)].name"
        await pilot.press("enter")
        assert viewer.narrowed
        assert json.loads("\n".join(viewer.lines)) == ["row13", "row14"]
        await pilot.press("escape")
        assert not viewer.narrowed and len(viewer.lines) > 50

        # `y` copies the call as a goatui command line (the socket named).
        await pilot.press("y")
        copied = app.clipboard
        assert copied.startswith("goatui --socket ") and " call alpha echo " in copied
        assert str(alpha.socket) in copied
        await pilot.press("Y")  # curl lines need a gateway: not offered here
        assert app.clipboard == copied

        # A second call of the same function: `d` diffs it with the first.
        view.args_area.load_text(json.dumps({"rows": [*rows[:5], {"id": 99}]}))
        await pilot.press("ctrl+r")
        await eventually(lambda: len(view._kept) == 2, 5, "second result")
        viewer.focus()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        body = app.screen.query_one("#diff-body", Static)
        await eventually(lambda: "$.rows" in static_text(body), 5, "diff shown")
        assert "change" in static_text(app.screen.query_one("#diff-hint", Static))
        await pilot.press("escape")

        # `h`: the history; m on two kept results diffs them; Enter loads a call into
        # the editor (to change it), ctrl+r sends it again at once.
        await eventually(lambda: len(app.ctx.history.entries()) == 2, 5, "history written")
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("m", "down", "m")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        await pilot.press("escape")
        await pilot.press("down")  # the older call (rows 0..14)
        await pilot.press("enter")
        await pilot.pause()
        assert json.loads(view.args_area.text) == {"rows": rows}
        assert app.focused is view.args_area and len(view._kept) == 2  # loaded, not sent
        view.action_history()  # (h would type into the editor, which has the focus)
        await pilot.pause()
        await pilot.press("down", "ctrl+r")
        await eventually(lambda: len(view._kept) == 3, 5, "sent again")
        invokes = [a for a in audit_actions() if a[0] == "invoke"]
        await eventually(lambda: len([a for a in audit_actions() if a[0] == "invoke"]) == 3, 5)
        assert invokes[0][1] == "alpha/echo"

        # The audit screen lists what was done.
        app.action_audit()
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
        table = app.screen.query_one(RowTable)
        await eventually(lambda: table.row_count == 3, 5, "audit rows")


async def test_history_replay_is_refused_in_read_only(
    plugins: Any, make_console: Any, eventually: Any
) -> None:
    from goatui.core.calls.history import HistoryEntry

    alpha = plugins.start("alpha")
    app = make_console(alpha, read_only=True)
    app.ctx.history.append(HistoryEntry.make("alpha", "echo", "{}", 1.0, 1.0, "ok", "OK"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_serving(app, eventually, "alpha")
        app.show_history()
        await pilot.pause()
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "read-only" in notes(app)
        assert app.query_one(InvokeView)._last is None


async def test_gateway_enable_disable_warnings_and_curl(eventually: Any) -> None:
    from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

    from goatui.core.backends.gateway.rest import GatewayBackend

    with GatewayServer() as gw:
        backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, timeout=5, insecure=True)
        session = Session(backend=backend, config=Config())
        app = GoatApp(session, monitor=PluginMonitor(backend, **FAST))
        async with app.run_test(size=SIZE) as pilot:
            warning = app.query_one("#gateway-warnings", Static)
            assert warning.display and "TLS verification is off" in static_text(warning)
            await eventually(lambda: app.ctx.monitor.get("alpha") is not None, 5, "listed")
            await eventually(
                lambda: app.ctx.monitor.get("alpha").status == "ENABLED",  # type: ignore[union-attr]
                5,
            )
            await pilot.pause()
            table = app.query_one(PluginsView).table
            keys = table.rows
            table.move_cursor(row=keys.index(app.ctx.monitor.get("alpha").key))  # type: ignore[union-attr]
            enable = app.screen.active_bindings["e"]  # in the footer, through a gateway
            assert enable.enabled and enable.binding.show
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            assert "Disable plugin alpha" in static_text(
                app.screen.query_one("#confirm-question", Static)
            )
            await pilot.press("y")
            await eventually(lambda: gw.state.plugins["alpha"]["enabled"] is False, 5, "disabled")
            await eventually(lambda: ("disable", "alpha", "ok") in audit_actions(), 5, "audited")

            # Y: curl against the gateway, the token only as $GOATFLOW_TOKEN.
            await pilot.press("2")
            view = app.query_one(InvokeView)
            view.prepare("alpha")
            view.function_input.value = "echo"
            app.query_one(ResultViewer).focus()
            await pilot.press("Y")
            copied = app.clipboard
            assert copied.startswith("curl ") and "$GOATFLOW_TOKEN" in copied
            assert ADMIN_TOKEN not in copied and ADMIN_TOKEN not in notes(app)
            assert f"{gw.url}/api/v1/plugins/alpha/call/echo" in copied


async def test_context_switch_rebuilds_backend_and_monitor(
    plugins: Any, eventually: Any, tmp_path: Path
) -> None:
    """Contexts added to the file after the start are offered (issue #17), and after the
    switch no view shows the old context's data unmarked, though the new context has a
    plugin of the same name: Invoke's result, the Logs view's lines, the Jobs view's
    runs and the Widgets view's panels. `:ctx NAME` reads the file again too."""
    from goatui.ui.views.jobs import JobsView
    from goatui.ui.views.widgets import WidgetsView
    from goatui.ui.widgets.command_line import CommandLine

    def manifest(handler: str) -> str:
        path = tmp_path / f"{handler}.json"
        widget = {"id": "w", "title": "W", "handler": handler}
        job = {"id": "nightly", "schedule": "0 3 * * *", "handler": "echo"}
        path.write_text(json.dumps({"name": "alpha", "widgets": [widget], "jobs": [job]}))
        return str(path)

    alpha = plugins.start("alpha", TESTPLUGIN_MANIFEST=manifest("widget_json"))
    # Another alpha: the same name in the other context, its widget slow to answer.
    other = plugins.start("other", TESTPLUGIN_NAME="alpha", TESTPLUGIN_MANIFEST=manifest("slow"))
    path = tmp_path / "config.toml"
    path.write_text(f'[contexts.one]\nsockets = ["{alpha.socket}"]\n')
    config = load_config(path)
    backend = SocketBackend(Sources(sockets=[str(alpha.socket)]))
    session = Session(backend=backend, config=config)
    app = GoatApp(session, monitor=PluginMonitor(backend, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await wait_serving(app, eventually, "alpha")
        invoke = app.query_one(InvokeView)
        app.show_view("invoke", "alpha")
        invoke.function_input.value = "fail"
        await pilot.press("ctrl+r")
        await eventually(lambda: "it broke" in plain_status(app), 5, "alpha's error")
        # A job run here, and the widget as this alpha shows it.
        jobs = app.query_one(JobsView)
        app.show_view("jobs")
        await eventually(lambda: jobs.select("alpha", "nightly"), 5, "the job")
        await pilot.press("t", "y")
        await eventually(lambda: jobs.runs.last(("alpha", "nightly")), 5, "the job's run")
        widgets = app.query_one(WidgetsView)
        app.show_view("widgets")

        def widget_text() -> str:
            panel = widgets.panel("alpha", "w")
            if panel is None:
                return ""
            console = Console(file=io.StringIO(), width=80, record=True)
            console.print(panel.render())
            return console.export_text()

        await eventually(lambda: "Hello" in widget_text(), 5, "the widget")

        with path.open("a") as file:
            file.write(f'[contexts.two]\nsockets = ["{other.socket}"]\n')
        old_monitor = app.ctx.monitor
        await pilot.press("ctrl+o")
        await eventually(lambda: isinstance(app.screen, ContextScreen), 5, "the switcher")
        assert [c.name for c in app.screen.contexts] == ["one", "two"]  # type: ignore[attr-defined]
        await pilot.press("down", "enter")  # "two"
        await eventually(lambda: app.ctx.monitor is not old_monitor, 5, "new monitor")
        assert not old_monitor.running
        assert app.ctx.backend is not backend and app.ctx.backend.label == "sockets (two)"
        await wait_serving(app, eventually, "alpha")
        assert app.ctx.monitor.get("alpha").info.target.endswith(other.socket.name)  # type: ignore[union-attr]
        assert "sockets (two)" in app.sub_title
        # Invoke: alpha's error is gone; the Logs: a line marks where the old lines end.
        assert "it broke" not in plain_status(
            app
        ) and "switched to context sockets (two)" in plain_status(app)
        assert "it broke" not in "\n".join(invoke.viewer.lines)
        marks = [e.message for e in session.logs if e.plugin == "goatui"]
        assert any("context switched from sockets to sockets (two)" in m for m in marks), marks
        # Jobs: the run was the other alpha's; Widgets: nothing the other alpha showed.
        await eventually(lambda: jobs.select("alpha", "nightly"), 5, "the job again")
        assert jobs.runs.last(("alpha", "nightly")) is None
        await eventually(lambda: widgets.panel("alpha", "w") is not None, 5, "its panel")
        assert "Hello" not in widget_text()  # the other alpha's, not yet answered

        # `:ctx NAME` names a context added to the file after the switcher was open.
        with path.open("a") as file:
            file.write(f'[contexts.three]\nsockets = ["{alpha.socket}"]\n')
        old_monitor = app.ctx.monitor
        await pilot.press("colon")
        app.query_one(CommandLine).value = "ctx three"
        await pilot.press("enter")
        await eventually(lambda: app.ctx.monitor is not old_monitor, 5, "switched again")
        assert app.ctx.backend.label == "sockets (three)"


def plain_status(app: GoatApp) -> str:
    return str(app.query_one("#invoke-status", Static).content)


def PluginsView_names(app: GoatApp) -> list[str]:
    view = app.query_one(PluginsView)
    return [s.name for s in view.visible_states()]


async def test_fleet_shows_where_each_plugin_lives(
    plugins: Any, eventually: Any, tmp_path: Path
) -> None:
    from goatui.core.backends.fleet import FleetBackend

    alpha = plugins.start("alpha")
    beta = plugins.start("beta")
    fleet = FleetBackend(
        {
            "east": SocketBackend(Sources(sockets=[str(alpha.socket)])),
            "west": SocketBackend(Sources(sockets=[str(beta.socket)])),
        }
    )
    app = GoatApp(Session(backend=fleet, config=Config()), monitor=PluginMonitor(fleet))
    async with app.run_test(size=SIZE) as pilot:
        await wait_serving(app, eventually, "beta")
        await pilot.pause()
        table = app.query_one(PluginsView).table
        labels = [c.label for c in table.columns]
        assert labels[:2] == ["Name", "Where"]
        where = {
            table.get_cell(key, "name").plain: table.get_cell(key, "where").plain
            for key in table.rows
        }
        assert where == {"alpha": "east", "beta": "west"}


def test_demo_session_honours_db(tmp_path: Path) -> None:
    import argparse
    import sqlite3

    import pytest

    from goatui.cli.cmd_demo import demo_session
    from goatui.core.errors import UsageError

    def options(db: str | None) -> argparse.Namespace:
        return argparse.Namespace(read_only=False, max_message_mb=None, db=db, timeout=None)

    session = demo_session(options(str(tmp_path / "demo.db")), Config())
    assert session.db_path == (tmp_path / "demo.db").resolve()
    # Without --db, the demo's own small ticket database, in its private directory.
    own = demo_session(options(None), Config())
    assert own.db_path == own.private_dir() / "demo.db"
    with sqlite3.connect(own.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM tickets WHERE status = 'open'").fetchone() == (9,)
    own.abandon()
    with pytest.raises(UsageError):
        demo_session(options(str(tmp_path / "missing" / "demo.db")), Config())


async def test_context_switch_to_a_gateway_follows_its_log_buffer(
    plugins: Any, eventually: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Logs view polls the new gateway after a switch, not only at mount."""
    from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

    alpha = plugins.start("alpha")
    with GatewayServer() as gw:
        gw.state.log("alpha", "warn", "from the gateway buffer")
        monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
        config = Config(contexts={"gw": {"gateway": gw.url}}, path=tmp_path / "config.toml")
        backend = SocketBackend(Sources(sockets=[str(alpha.socket)]))
        session = Session(backend=backend, config=config)
        app = GoatApp(session, monitor=PluginMonitor(backend, **FAST))
        async with app.run_test(size=SIZE) as pilot:
            await wait_serving(app, eventually, "alpha")
            await pilot.press("5")
            await eventually(lambda: app._mounted_view("logs") is not None, 5, "logs view")
            app.switch_context("gw")
            await eventually(
                lambda: any(e.message == "from the gateway buffer" for e in session.logs),
                10,
                "the gateway's log entry",
            )


async def test_fleet_logs_view_follows_every_gateway(
    eventually: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each gateway context's buffer, under the fleet's names; a context down is named."""
    from helpers.gateway_server import ADMIN_TOKEN, GatewayServer, free_port

    from goatui.core.backends.fleet import FleetBackend
    from goatui.core.backends.gateway.rest import GatewayBackend
    from goatui.ui.views.logs import LogsView

    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    with GatewayServer() as east, GatewayServer() as west:
        east.state.log("alpha", "info", "east says")
        west.state.log("beta", "warn", "west says")
        fleet = FleetBackend(
            {
                "east": GatewayBackend(east.url, token=ADMIN_TOKEN, timeout=5),
                "west": GatewayBackend(west.url, token=ADMIN_TOKEN, timeout=5),
                "gone": GatewayBackend(
                    f"http://127.0.0.1:{free_port()}", token=ADMIN_TOKEN, timeout=1
                ),
            }
        )
        session = Session(backend=fleet, config=Config())
        app = GoatApp(session, monitor=PluginMonitor(fleet, **FAST))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5")
            await eventually(lambda: len(list(session.logs)) >= 2, 10, "both buffers")
            assert {(e.plugin, e.message) for e in session.logs} == {
                ("alpha@east", "east says"),
                ("beta@west", "west says"),
            }
            view = app.query_one(LogsView)
            await eventually(lambda: "context gone" in view._gateway_error, 10, "gone named")


async def test_quitting_while_host_of_plugins_goatui_did_not_start_warns_first(
    plugins: Any, eventually: Any
) -> None:
    alpha = plugins.start("alpha")
    backend = SocketBackend(Sources(sockets=[str(alpha.socket)]))
    session = Session(backend=backend, config=Config())
    app = GoatApp(session, monitor=PluginMonitor(backend, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await wait_serving(app, eventually, "alpha")
        await session.attach("alpha")
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        said = static_text(app.screen.query_one("#confirm-question", Static))
        assert "host of alpha, which it did not start" in said
        # What to do is said whole: the detail wraps inside the dialog (it was cut at
        # its edge, one line long), and the dialog's footer lists the dialog's keys.
        detail = app.screen.query_one("#confirm-detail", Static)
        assert "restart it, or have GoatFlow re-attach" in static_text(detail)
        dialog = app.screen.query_one("#confirm-dialog").region
        assert detail.region.height >= 2 and dialog.contains_region(detail.region)
        from goatui.ui.widgets.footer import GoatFooter

        assert app.screen.query_one(GoatFooter).region.bottom == SIZE[1]
        footer = {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show}
        assert footer == {"yes", "no"}
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, ConfirmScreen)
        await pilot.press("q", "y")
        await eventually(lambda: not app.is_running, 5, "quit")
