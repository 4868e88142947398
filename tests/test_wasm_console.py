"""WASM plugins in the console (Textual's pilot): every view, R, reloading on a change
of the file, and a looping plugin that must not block anything."""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.console import (
    QUIET_MONITOR,
    SIZE,
    Eventually,
    notifications,
    open_invoke,
    plain,
    result_text,
    send,
    status_text,
    table_rows,
    until_serving,
)
from helpers.wasm import DEMO, REACTOR, faults_module
from rich.console import Console
from textual.message import Message
from textual.widgets import Static, TabbedContent
from textual.worker import Worker

from goatui.core.backends.wasm.backend import WasmBackend
from goatui.core.config import Config
from goatui.core.errors import TimedOut
from goatui.core.monitor import PluginMonitor
from goatui.core.session import Session
from goatui.ui.app import GoatApp
from goatui.ui.views.jobs import JobsView
from goatui.ui.views.logs import LogsView
from goatui.ui.views.widgets import WidgetsView
from goatui.ui.widgets.plugin_detail import PluginDetail


@pytest.fixture
def wasm_console() -> Callable[..., GoatApp]:
    """The console on WASM plugin files (nothing else), its monitor quiet."""

    def make(*files: Path, timeout: float = 30.0) -> GoatApp:
        backend = WasmBackend([str(f) for f in files], load_timeout=10, watch_interval=0.1)
        session = Session(backend=backend, config=Config(timeout=timeout))
        return GoatApp(session, monitor=PluginMonitor(backend, **QUIET_MONITOR))

    return make


async def test_plugins_view_shows_the_module_and_its_manifest(
    wasm_console: Callable[..., GoatApp], eventually: Eventually
) -> None:
    app = wasm_console(DEMO)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "ticket-stats")
        row = table_rows(app)["ticket-stats"]
        assert (row["version"], row["health"]) == ("1.0.0", "● SERVING")
        detail = plain(app.query_one(PluginDetail).query_one("#detail-body", Static))
        assert "loaded inside goatui (WASM has no health service)" in detail
        assert "a WebAssembly module goatui runs (R reloads it" in detail
        assert "widget      ticket-overview “Tickets” → overview_widget" in detail
        assert "job         recount  */10 * * * * → recount" in detail
        # Known without a round trip: its probes say so, not "no answer".
        assert "● SERVING  no round trip" in detail and "no answer" not in detail


async def test_invoke_completes_handlers_and_shows_the_host_call_timeline(
    wasm_console: Callable[..., GoatApp], eventually: Eventually
) -> None:
    app = wasm_console(DEMO)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoke(pilot, eventually, "ticket-stats")
        # The function field completes from these.
        state = app.ctx.monitor.get("ticket-stats")
        assert state is not None
        assert state.info.handlers() == ["summary", "hello", "assets", "overview_widget", "recount"]
        await send(pilot, "hello", '{"name": "Ada"}')
        await eventually(lambda: status_text(app).startswith("OK"), 10, "the answer")
        assert '"message": "Hello, Ada!"' in result_text(app)
        timeline = app.query_one("#invoke-timeline", Static)
        await eventually(lambda: timeline.display, 5, "the timeline")
        assert "translate" in plain(timeline) and "greeting" in plain(timeline)

        # Its log lines in the Logs view, attributed to the call.
        await pilot.press("5")
        logs = app.query_one(LogsView)
        await eventually(
            lambda: any("greeted Ada" in line for line in logs.log_widget.lines), 5, "the log"
        )
        assert any("call=hello" in line for line in logs.log_widget.lines)


async def test_widgets_and_jobs_views(
    wasm_console: Callable[..., GoatApp], eventually: Eventually
) -> None:
    app = wasm_console(DEMO)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "ticket-stats")
        widgets = app.query_one(WidgetsView)
        await eventually(lambda: len(widgets.panels) == 1, 5, "the panel")
        await pilot.press("3")
        panel = widgets.panels[0]
        await eventually(lambda: panel.memory.last is not None, 10, "the widget")
        await pilot.pause()
        console = Console(file=io.StringIO(), width=panel.size.width, record=True)
        console.print(panel.render())
        assert "Open tickets · Support" in console.export_text()

        jobs = app.query_one(JobsView)
        await pilot.press("4")
        await eventually(lambda: jobs.table.row_count == 1, 5, "the job")
        assert jobs.select("ticket-stats", "recount")
        await pilot.press("t", "y")
        key = ("ticket-stats", "recount")
        await eventually(lambda: jobs.runs.last(key) is not None, 10, "the run")
        run = jobs.runs.last(key)
        assert run is not None and run.outcome == "ok" and run.result == b'{"open":19,"limit":10}'


async def test_r_reloads_and_a_changed_file_reloads_by_itself(
    wasm_console: Callable[..., GoatApp], eventually: Eventually, tmp_path: Path
) -> None:
    module = tmp_path / "plugin.wasm"
    shutil.copy(DEMO, module)
    app = wasm_console(module)
    async with app.run_test(size=SIZE) as pilot:
        await until_serving(pilot, eventually, "ticket-stats")
        # The keys offered (footer and help) are the ones that work for a WASM plugin:
        # R reloads it; nothing to stop, enable, or attach a host to.
        offered = {key for key, b in app.screen.active_bindings.items() if b.enabled}
        assert "R" in offered and not {"S", "e"} & offered
        keys = str(app.help_sections())
        assert "Host calls" in keys and "Attach host" not in keys and "Sign in" not in keys
        await pilot.press("R")
        await eventually(
            lambda: "reloaded ticket-stats from plugin.wasm" in notifications(app), 5, "R"
        )

        # The author rebuilds: another module lands where the file was.
        shutil.copy(REACTOR, module)
        said = "reloaded reactor-test from plugin.wasm: the file changed on disk"
        await eventually(lambda: said in notifications(app), 10, "the reload")
        app.ctx.monitor.refresh()
        await eventually(lambda: "reactor-test" in table_rows(app), 10, "the new name")
        assert "ticket-stats" not in table_rows(app)
        # Said in the log stream too.
        assert any(e.message == said for e in app.ctx.session.logs)


async def test_a_looping_plugin_blocks_nothing(
    wasm_console: Callable[..., GoatApp], eventually: Eventually, tmp_path: Path
) -> None:
    app = wasm_console(faults_module(tmp_path), timeout=2.0)
    seen: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, TabbedContent.TabActivated) and message.pane.id == "plugins":
            seen.append("switched to plugins")
        elif isinstance(message, Worker.StateChanged) and message.worker.group == "invoke":
            seen.append(f"call {message.state.name.lower()}")

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        view = await open_invoke(pilot, eventually, "faults")
        seen.clear()
        view.function_input.value = "spin"
        view.action_send()  # not through the pilot: it waits for an idle process
        await eventually(lambda: "call running" in seen, 5, "the call")
        # A key while the plugin spins on its thread: handled at once.
        app.set_focus(None)
        await pilot.press("1")
        await eventually(lambda: "timed out after 2s" in status_text(app), 10, "the deadline")
        assert seen[:3] == ["call pending", "call running", "switched to plugins"]
        await pilot.press("2")
        # And the next call works.
        await send(pilot, "echo", '{"again": true}')
        await eventually(lambda: status_text(app).startswith("OK"), 10, "the next call")
        assert '"again": true' in result_text(app)


async def test_the_monitor_does_not_spin_on_a_plugin_without_a_health_stream(
    eventually: Eventually, plugins: object
) -> None:
    """Mixed with socket plugins (which have Health.Watch), a WASM plugin has none: the
    monitor must probe it on its cadence, not ask for a stream again after every probe."""
    from goatui.core.backends.contexts import sockets_backend, with_wasm

    alpha = plugins.start("alpha")
    backend = with_wasm(sockets_backend([str(alpha.socket)]), [str(DEMO)], None, Config())
    assert backend is not None
    session = Session(backend=backend, config=Config())
    await session.start()
    monitor = PluginMonitor(backend, interval=0.2, discover_interval=5)
    await monitor.start()
    try:
        await eventually(lambda: len(monitor.states) == 2, 10, "both plugins")
        wasm = monitor.get("ticket-stats")
        assert wasm is not None
        await eventually(lambda: wasm.probes >= 3, 5, "a few probes")
        await asyncio.sleep(0.6)  # what a spin would fill with thousands of probes
        assert wasm.probes < 12
        assert wasm.watch_supported is False
    finally:
        await monitor.stop()
        await session.close()


async def test_closing_stops_a_looping_call(eventually: Eventually, tmp_path: Path) -> None:
    """Quitting (q, SIGTERM, Ctrl-C) must not wait for a looping plugin's deadline."""
    backend = WasmBackend([str(faults_module(tmp_path))])
    session = Session(backend=backend, config=Config())
    await session.start()
    await backend.list_plugins()
    spin = asyncio.create_task(backend.call("faults", "spin", b"{}", 60))
    await eventually(lambda: backend.busy, 10, "the call running")
    await session.close()
    # Stopped by the close, long before its own 60 s deadline.
    with pytest.raises(TimedOut):
        await asyncio.wait_for(spin, 20)
