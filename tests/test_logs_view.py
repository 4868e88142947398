"""The Logs view (key 5) in the pilot, on real plugin processes goatui launches and hosts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.console import FAST_MONITOR, QUIET_MONITOR
from helpers.wasm import DEMO
from textual.widgets import Checkbox, Select

from goatui.core.monitor import PluginMonitor
from goatui.core.sanitize import UNSAFE_CODEPOINTS
from goatui.ui.app import GoatApp
from goatui.ui.screens.attach_host import AttachHostScreen
from goatui.ui.views.logs import LogsView

SIZE = (160, 40)
HOSTILE = "\x1b[2J\x1b]0;pwned\x07[bold red]markup[/]"


def launched_console(plugins_dir: Path) -> GoatApp:
    from goatui.cli.common import build_session
    from goatui.cli.parser import build_parser
    from goatui.core.config import Config

    options = build_parser().parse_args(["--launch", "--plugins-dir", str(plugins_dir)])
    session = build_session(options, Config())
    return GoatApp(session, monitor=PluginMonitor(session.backend, **FAST_MONITOR))


async def call(app: GoatApp, plugin: str, function: str, args: dict[str, Any]) -> Any:
    result = await app.ctx.backend.call(plugin, function, json.dumps(args).encode())
    return json.loads(result.data)


def lines(view: LogsView) -> list[str]:
    return list(view.log_widget.lines)


async def test_logs_view_follows_filters_exports_and_traces(
    plugins_dir: Any, eventually: Any, tmp_path: Path
) -> None:
    plugins_dir.add("alpha", say=HOSTILE)
    plugins_dir.add("beta")
    app = launched_console(plugins_dir.root)
    async with app.run_test(size=SIZE) as pilot:
        session = app.ctx.session
        await eventually(lambda: len(session.attached) == 2, 10, "both plugins hosted")
        await pilot.press("5")
        view = app.query_one(LogsView)
        await eventually(lambda: any("host attached" in line for line in lines(view)), 3)
        # Plugin text is shown escaped, never interpreted.
        assert any("\\x1b[2J" in line for line in lines(view))
        assert not any(ord(ch) in UNSAFE_CODEPOINTS for line in lines(view) for ch in line)

        # A firehose from two plugins at once: every line arrives, in order, in batches.
        await call(app, "alpha", "log", {"count": 1000, "level": "warning"})
        await call(app, "beta", "log", {"count": 500, "level": "debug"})
        await eventually(lambda: sum(" line " in line for line in lines(view)) == 1500, 5)
        alpha = [line for line in lines(view) if " alpha " in line and " line " in line]
        assert [int(line.rsplit("seq=", 1)[1]) for line in alpha] == list(range(1000))
        assert all(" WARNING " in line for line in alpha)

        # Filter by minimum level (l cycles: any, debug, info, warn...; D I W E pick one,
        # again: any level) and by plugin.
        await pilot.press("l")
        assert view.filter.min_level == "debug"
        await pilot.press("E", "E")
        assert view.filter.min_level is None
        await pilot.press("W")
        assert view.filter.min_level == "warn"
        assert lines(view) and all(" beta " not in line for line in lines(view))
        await pilot.press("escape")
        assert view.filter.is_empty
        view.query_one("#logs-plugin", Select).value = "beta"
        await pilot.pause()
        assert lines(view) and all(" beta " in line for line in lines(view))

        # Text search (plain text ignores case); x makes it a regex.
        view.search_input.value = "SEQ=49"
        await pilot.pause()
        seqs = {line.rsplit("seq=", 1)[1] for line in lines(view)}
        assert seqs == {"49", *map(str, range(490, 500))}
        regex = view.query_one("#logs-regex", Checkbox)
        assert (str(regex.label), regex.BUTTON_INNER) == ("regex: off", " ")  # NO_COLOR too
        await pilot.press("x")
        assert (str(regex.label), regex.BUTTON_INNER) == ("regex: on", "X")
        view.search_input.value = r"seq=4\d$"
        await pilot.pause()
        assert view.filter.regex and len(lines(view)) == 10

        # Export: the filtered view, as JSON Lines, and the operator is told where.
        view.export_dir = tmp_path
        await pilot.press("e")
        await eventually(lambda: getattr(view, "last_export", None) is not None, 3, "export")
        exported = [json.loads(x) for x in view.last_export.read_text().splitlines()]
        assert [e["fields"]["seq"] for e in exported] == [str(n) for n in range(40, 50)]
        assert all(e["plugin"] == "beta" and e["level"] == "debug" for e in exported)
        assert any(str(view.last_export) in n.message for n in app._notifications)

        # Host-call trace.
        await pilot.press("t")
        await pilot.pause()
        trace = list(view.trace_widget.lines)
        assert view.trace_widget.display
        assert sum(" Log " in line for line in trace) >= 1500
        assert all(" ok " in line for line in trace if " Log " in line)

        # Pause holds new lines back; resuming catches up. Clear empties the view.
        await pilot.press("escape")
        await pilot.press("p")
        shown = len(lines(view))
        await call(app, "beta", "log", {"count": 5})
        await pilot.pause(0.3)
        assert len(lines(view)) == shown
        await pilot.press("p")
        await eventually(lambda: len(lines(view)) == shown + 5, 3, "resumed")
        await pilot.press("c")
        assert lines(view) == []
        await call(app, "beta", "log", {"count": 2})
        await eventually(lambda: len(lines(view)) == 2, 3, "after clear")
        assert session.launcher is not None
        pids = [p.pid for p in session.launcher.plugins.values() if p.pid]
    # Quitting the console stops what it launched and removes its private directory.
    assert session.runtime is not None and not session.runtime.path.exists()
    assert len(pids) == 2
    await eventually(lambda: not any(Path(f"/proc/{p}").exists() for p in pids), 5, "no orphans")


async def test_console_attaches_only_after_the_warning(plugins: Any, eventually: Any) -> None:
    """Beside a WASM plugin, which goatui hosts already: only alpha is offered."""
    from goatui.cli.common import build_session
    from goatui.cli.parser import build_parser
    from goatui.core.config import Config

    alpha = plugins.start("alpha")
    options = build_parser().parse_args(["--socket", str(alpha.socket), "--wasm", str(DEMO)])
    session = build_session(options, Config())
    app = GoatApp(session, monitor=PluginMonitor(session.backend, **QUIET_MONITOR))
    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: len(app.ctx.live_plugins()) == 2, 10, "alpha and the WASM")
        await pilot.press("5")
        assert await call(app, "alpha", "has_host", {}) == {"host": False}
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AttachHostScreen)
        assert app.screen.candidates == ["alpha"]
        await pilot.press("enter")  # Cancel has the focus
        await pilot.pause()
        assert not isinstance(app.screen, AttachHostScreen)
        assert await call(app, "alpha", "has_host", {}) == {"host": False}

        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#attach-plugin", Select).value = "alpha"
        await pilot.click("#attach-yes")
        await eventually(lambda: "alpha" in app.ctx.session.attached, 5, "attached")
        assert await call(app, "alpha", "has_host", {}) == {"host": True}
        view = app.query_one(LogsView)
        await eventually(lambda: any("host attached" in x for x in lines(view)), 3)


async def test_logs_view_reads_the_gateway_buffer(eventually: Any) -> None:
    """Through a gateway, the view shows GoatFlow's own log buffer (polled)."""
    from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

    from goatui.core.backends.gateway.rest import GatewayBackend
    from goatui.core.config import Config
    from goatui.core.session import Session

    with GatewayServer() as gw:
        gw.state.log("alpha", "warn", "disk almost full", disk="/var")
        gw.state.log("alpha", "info", HOSTILE)
        backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, timeout=5)
        session = Session(backend=backend, config=Config())
        app = GoatApp(session, monitor=PluginMonitor(backend, **FAST_MONITOR))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5")
            view = app.query_one(LogsView)
            await eventually(lambda: len(lines(view)) == 2, 5, "gateway entries")
            # goatui is no host here: no host-call keys, in the footer or the help.
            offered = {key for key, b in app.screen.active_bindings.items() if b.enabled}
            assert not {"t", "a"} & offered
            keys = str(app.help_sections())
            assert "Host calls" not in keys and "Attach host" not in keys
            assert "Enable / disable" in keys and "Sign in" in keys
            first, second = lines(view)
            assert " alpha " in first and " WARN " in first
            assert first.endswith("disk almost full  disk=/var")
            assert "\\x1b" in second
