"""A plugin's own error ({"error": "..."}) and an empty result, one rule everywhere.

The rule itself, then the CLI (`call`, `job run`, `widget`), the console (Invoke, Jobs,
history, audit) against a real plugin process on a socket. The gateway's side is in
tests/test_gateway_real.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import one_line
from helpers.console import SIZE, result_text, send, status_text

from goatui.core.calls.history import History
from goatui.core.calls.results import EMPTY_RESULT, check_result, plugin_error
from goatui.core.errors import ExitCode, PluginError
from goatui.core.models import CallResult
from goatui.ui.widgets.result_viewer import ResultViewer

MANIFEST = {
    "name": "erring",
    "routes": [{"method": "POST", "path": "/e", "handler": "plugin_error"}],
    "widgets": [{"id": "sad", "title": "Sad", "handler": "plugin_error"}],
    "jobs": [
        {"id": "broken", "schedule": "@daily", "handler": "plugin_error", "enabled": True},
        {"id": "quiet", "schedule": "@daily", "handler": "empty", "enabled": True},
    ],
}


@pytest.fixture(scope="module")
def erring(module_plugins: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("erring") / "manifest.json"
    path.write_text(json.dumps(MANIFEST))
    return module_plugins.start("erring", TESTPLUGIN_MANIFEST=str(path))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"error": "boom"}', "boom"),
        (b'  {"error":""}\n', ""),
        (b'{"\\u0065rror": "escaped key"}', "escaped key"),
        (b'{"error": "x' + b"y" * 100_000 + b'"}', "x" + "y" * 100_000),
        (b'{"error": "boom", "code": 3}', None),  # more than the one key
        (b'{"error": {"message": "boom"}}', None),  # not a string
        (b'{"error": null}', None),
        (b'[{"error": "boom"}]', None),
        (b'"error"', None),
        (b"", None),
        (b'{"error": "broken', None),
        (b'{"rows": [' + b"1," * 50_000 + b'1], "error": "late"}', None),
    ],
)
def test_the_rule(data: bytes, message: str | None) -> None:
    assert plugin_error(data) == message


def test_check_result_keeps_the_result_and_says_what_failed() -> None:
    ok = CallResult(b'{"errors": []}', 1.0)
    assert check_result(ok, "call f of p") is ok
    with pytest.raises(PluginError) as info:
        check_result(CallResult(b'{"error": "no \\u001b[31mred"}', 4.5), "call f of p", hint="h")
    error = info.value
    assert error.exit_code == ExitCode.REMOTE_ERROR and error.code == "PLUGIN_ERROR"
    assert error.data == b'{"error": "no \\u001b[31mred"}' and error.duration_ms == 4.5
    assert error.line() == "call f of p: the plugin answered with an error: no \\x1b[31mred; h"


# -- the CLI ---------------------------------------------------------------------------


def test_cli_call_plugin_error_exits_1_and_raw_prints_it(erring: Any, cli: Any) -> None:
    socket = ("--socket", str(erring.socket))
    code, out, err = cli("call", "erring", "plugin_error", '{"message": "disk full"}', *socket)
    assert (code, out) == (1, "")
    assert one_line(err) == (
        "goatui: call plugin_error of erring: the plugin answered with an error: disk full; "
        "--raw prints it as the result"
    )
    code, out, err = cli(
        "call", "erring", "plugin_error", '{"message": "disk full"}', "--raw", *socket
    )
    assert (code, json.loads(out), err) == (0, {"error": "disk full"}, "")
    # Anything else is a result, even with an "error" key among others.
    code, out, _ = cli("call", "erring", "echo", '{"error": "x", "n": 1}', *socket)
    assert (code, json.loads(out)) == (0, {"error": "x", "n": 1})


def test_cli_empty_result(erring: Any, cli: Any) -> None:
    socket = ("--socket", str(erring.socket))
    assert cli("call", "erring", "empty", *socket) == (0, "", f"goatui: {EMPTY_RESULT}\n")
    assert cli("job", "run", "erring", "quiet", *socket) == (0, "", f"goatui: {EMPTY_RESULT}\n")


def test_cli_job_run_and_widget(erring: Any, cli: Any) -> None:
    socket = ("--socket", str(erring.socket))
    code, out, err = cli("job", "run", "erring", "broken", *socket)
    assert (code, out) == (1, "")
    assert "job broken of erring: the plugin answered with an error: it failed" in one_line(err)
    code, out, _ = cli("job", "run", "erring", "broken", "--raw", *socket)
    assert (code, json.loads(out)) == (0, {"error": "it failed"})
    code, out, err = cli("widget", "erring", "sad", *socket)
    assert (code, out) == (1, "")
    assert "widget sad of erring: the plugin answered with an error: it failed" in one_line(err)


def test_cli_audit_records_the_plugin_error(erring: Any, cli: Any) -> None:
    cli("call", "erring", "plugin_error", "--socket", str(erring.socket))
    code, out, _ = cli("audit", "--json")
    [entry] = json.loads(out)
    assert code == 0
    assert (entry["outcome"], entry["exit_code"]) == ("error", 1)
    assert "the plugin answered with an error: it failed" in entry["error"]


# -- the console -----------------------------------------------------------------------


async def test_invoke_shows_a_failed_call_with_the_result_one_key_away(
    erring: Any, make_console: Any, eventually: Any, tmp_path: Path
) -> None:
    app = make_console(erring)
    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: app.ctx.monitor.get("erring") is not None, 5, "listed")
        app.show_view("invoke", "erring")
        await pilot.pause()
        await send(pilot, "plugin_error", '{"message": "quota"}')
        await eventually(lambda: status_text(app).startswith("PLUGIN_ERROR"), 5, "failed")
        assert "erring.plugin_error: the plugin answered with an error: quota" in status_text(app)
        assert "quota" in result_text(app) and "v shows the result as it came" in result_text(app)
        await eventually(lambda: len(History().entries()) == 1, 5, "history")
        [entry] = History().entries()
        assert entry.outcome == "error" and "quota" in entry.detail
        app.query_one(ResultViewer).focus()  # where the result keys act (not the args)
        await pilot.press("v")
        await pilot.pause()
        assert json.loads(result_text(app)) == {"error": "quota"}
        assert status_text(app).startswith("PLUGIN_ERROR")
        await send(pilot, "empty")
        await eventually(lambda: status_text(app).startswith("OK"), 5, "empty call")
        assert result_text(app) == EMPTY_RESULT
        await pilot.press("q")


async def test_jobs_view_run_of_a_plugin_error_is_failed_with_its_result(
    erring: Any, make_console: Any, eventually: Any
) -> None:
    from goatui.ui.screens.confirm import ConfirmScreen
    from goatui.ui.screens.job_result import JobResultScreen
    from goatui.ui.views.jobs import JobsView

    app = make_console(erring)
    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: app.ctx.monitor.get("erring") is not None, 5, "listed")
        app.show_view("jobs")
        view = app.query_one(JobsView)
        await eventually(lambda: view.selected() is not None, 5, "jobs listed")
        view.select("erring", "broken")
        await pilot.press("t")
        await eventually(lambda: isinstance(app.screen, ConfirmScreen), 5, "confirm")
        await pilot.press("y")
        key = ("erring", "broken")
        await eventually(lambda: view.runs.last(key) is not None, 5, "the run")
        run = view.runs.last(key)
        assert run is not None and run.outcome == "error"
        assert "the plugin answered with an error: it failed" in run.detail
        await pilot.pause()
        await pilot.press("v")
        await eventually(lambda: isinstance(app.screen, JobResultScreen), 5, "result screen")
        lines = app.screen.query_one(ResultViewer)._lines
        assert json.loads("\n".join(lines)) == {"error": "it failed"}
        await pilot.press("escape", "q")
