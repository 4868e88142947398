"""Faults (issue #8): plugins killed, hung or replaced; sockets that are wrong; results
that are huge or strange; gateways that misbehave. In the CLI (real processes) and the
console (Pilot), each ending in one clear line and the documented exit code.

What other suites already prove is cited in docs/RELIABILITY.md, not repeated here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import one_line
from helpers.cli import run_goatui as goatui
from helpers.console import SIZE, health_of, open_invoke, result_text, send, status_text
from textual.widgets import TabbedContent

from goatui.core.calls.history import History
from goatui.core.sanitize import UNSAFE_CODEPOINTS
from goatui.ui.views.invoke import InvokeView

Eventually = Callable[..., Any]
MiB = 1024 * 1024


def wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} not created in {timeout:g}s"
        time.sleep(0.01)


# -- a plugin killed mid-call ----------------------------------------------------------


def test_cli_call_ends_within_2s_of_the_plugin_dying(plugins: Any, tmp_path: Path) -> None:
    alpha = plugins.start("alpha")
    mark = tmp_path / "in-handler"
    args = json.dumps({"seconds": 60, "mark": str(mark)})
    call = subprocess.Popen(
        [sys.executable, "-m", "goatui", "call", "alpha", "slow", args, "--socket", alpha.target],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(mark)
        alpha.kill()
        killed = time.monotonic()
        _out, err = call.communicate(timeout=30)
        elapsed = time.monotonic() - killed
    finally:
        call.kill()
    assert call.returncode == 3, err
    assert "plugin went away" in one_line(err)
    assert elapsed < 2, f"the call ended {elapsed:.2f}s after the plugin died"


async def test_console_call_ends_and_only_that_row_goes_unreachable(
    plugins: Any, make_console: Any, eventually: Eventually, tmp_path: Path
) -> None:
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    mark = tmp_path / "in-handler"
    app = make_console(alpha, beta, fast=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "slow", json.dumps({"seconds": 60, "mark": str(mark)}))
        await eventually(mark.exists, 10, "call in the handler")
        alpha.kill()
        killed = time.monotonic()
        await eventually(lambda: "went away" in status_text(app), 5, "call ended")
        assert time.monotonic() - killed < 2
        assert "UNAVAILABLE" in status_text(app)  # the gRPC code, then the message
        await eventually(lambda: "UNREACHABLE" in health_of(app, "alpha"), 5, "row unreachable")
        await pilot.pause()
        assert health_of(app, "beta") == "● SERVING"
        result = await app.ctx.backend.call("beta", "echo", b'{"still": "here"}')
        assert json.loads(result.data) == {"still": "here"}


# -- a hung plugin (SIGSTOP) -----------------------------------------------------------


def test_cli_call_to_a_hung_plugin_says_it_did_not_answer(plugins: Any, cli: Any) -> None:
    """A hung plugin accepts connections (the kernel does) and says nothing: that is what
    goatui says, at the call's deadline, or at Register's (3 s) when it needed the
    plugin's name first (it used to say "not found … cannot connect; is it running?")."""
    alpha = plugins.start("alpha")
    alpha.pause()
    try:
        by_socket = cli("call", "alpha", "echo", "--timeout", "1", "--socket", alpha.target)
        by_name = cli("call", "zzz", "echo", "--socket", alpha.target)
    finally:
        alpha.resume()
    assert by_socket.returncode == 3
    assert one_line(by_socket.stderr) == (
        "goatui: call echo timed out after 1s: the plugin accepted the connection but did not"
        " answer; is it hung? check the plugin, or restart it"
    )
    assert by_name.returncode == 3
    assert one_line(by_name.stderr) == (
        f"goatui: plugin 'zzz' not found: Register timed out after 3s: {alpha.socket} accepted"
        " the connection but did not answer; is it hung? check the plugin, or restart it"
    )


async def test_console_answers_keys_while_a_plugin_is_hung(
    plugins: Any, make_console: Any, eventually: Eventually
) -> None:
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    app = make_console(alpha, beta, fast=True)
    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: "SERVING" in health_of(app, "beta"), 5, "serving")
        alpha.pause()
        try:
            tabs = app.query_one(TabbedContent)
            for key, view in [("2", "invoke"), ("escape", "plugins")] * 2:
                before = app.screen._compositor.render_update(full=True)
                await pilot.press(key)
                await pilot.pause()
                assert tabs.active == view
                assert app.screen._compositor.render_update(full=True) != before
            await eventually(lambda: "UNREACHABLE" in health_of(app, "alpha"), 6, "hung seen")
            await pilot.press("2")
            await pilot.pause()
            assert tabs.active == "invoke"
            await pilot.press(*"ech")
            assert app.query_one(InvokeView).function_input.value.startswith("ech")
            assert health_of(app, "beta") == "● SERVING"
        finally:
            alpha.resume()


# -- sockets that are wrong ------------------------------------------------------------


def test_cli_socket_problems_each_get_a_clear_line(plugins: Any, sock_dir: Path) -> None:
    plain = sock_dir / "plain.sock"
    plain.write_text("")
    dangling = plugins.start("dangling")
    dangling.kill()  # SIGKILL leaves the socket file behind
    cases = [
        (plain, 3, "is not a socket"),
        (dangling.socket, 3, "cannot connect to the plugin"),
        (sock_dir / "absent.sock", 3, "no socket at"),
    ]
    for path, code, text in cases:
        result = goatui("call", "x", "echo", "--timeout", "5", "--socket", str(path))
        assert result.returncode == code, (path, result.stderr)
        assert text in one_line(result.stderr), path


def _as_nobody() -> tuple[str, ...] | None:
    """A command prefix that runs as the unprivileged user `nobody`, if that works here."""
    if shutil.which("setpriv") is None:
        return None
    prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    try:
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", "import goatui.cli"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return prefix if probe.returncode == 0 else None


@pytest.mark.parametrize("name", ["locked", "named-otherwise"])
def test_cli_socket_without_permission(tmp_path: Path, name: str) -> None:
    """As root, file permissions are bypassed: the CLI runs as `nobody` instead.

    Exit 4 whether the socket's name gives the plugin away or goatui had to ask it.
    """
    if os.geteuid() != 0:
        prefix: tuple[str, ...] = ()
    else:
        found = _as_nobody()
        if found is None:
            pytest.skip("running as root and cannot run goatui as nobody (setpriv)")
        prefix = found
    directory = Path(tempfile_dir())
    try:
        path = directory / "goatflow-plugin-locked.sock"
        state = directory / "state"
        state.mkdir()
        state.chmod(0o777)
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.listen()
        os.chmod(path, 0o600)
        try:
            # This test's config and state dirs are root's: point nobody elsewhere.
            elsewhere = {"XDG_CONFIG_HOME": "/nonexistent", "XDG_STATE_HOME": str(state)}
            result = goatui(
                "call", name, "echo", "--socket", str(path), prefix=prefix, env=elsewhere
            )
        finally:
            server.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    assert result.returncode == 4, result.stderr
    assert "no permission to connect to" in one_line(result.stderr)


def tempfile_dir() -> str:
    """A short directory others may enter (the socket inside is what is locked)."""
    import tempfile

    path = tempfile.mkdtemp(prefix="gp-", dir="/tmp")
    os.chmod(path, 0o755)
    return path


# -- results: huge, over the limit, strange --------------------------------------------


@pytest.mark.parametrize("mb", [8, 63])
def test_cli_large_results_arrive_whole(plugins: Any, mb: int) -> None:
    """Up to the documented 64 MiB limit (63 MiB of payload plus the JSON around it)."""
    alpha = plugins.start("alpha")
    result = goatui("call", "alpha", "big", json.dumps({"mb": mb}), "--socket", alpha.target)
    assert result.returncode == 0, result.stderr[-500:]
    assert len(json.loads(result.stdout)["data"]) == mb * MiB


def test_cli_result_over_the_limit_names_limit_and_option(plugins: Any) -> None:
    alpha = plugins.start("alpha")
    over = goatui("call", "alpha", "big", '{"mb": 65}', "--socket", alpha.target)
    assert over.returncode == 1
    line = one_line(over.stderr)
    assert "64 MiB limit" in line and "--max-message-mb" in line
    small = goatui(
        "call", "alpha", "big", '{"mb": 2}', "--max-message-mb", "1", "--socket", alpha.target
    )
    assert small.returncode == 1 and "1 MiB limit" in one_line(small.stderr)


async def test_console_large_result_whole_and_over_the_limit_explained(
    plugins: Any, eventually: Eventually
) -> None:
    from goatui.core.backends.sockets.backend import SocketBackend
    from goatui.core.backends.sockets.discovery import Sources
    from goatui.core.config import Config
    from goatui.core.monitor import PluginMonitor
    from goatui.core.session import Session
    from goatui.ui.app import GoatApp

    alpha = plugins.start("alpha")
    backend = SocketBackend(Sources(sockets=[str(alpha.socket)]), max_message_mb=10)
    session = Session(backend=backend, config=Config())
    app = GoatApp(session, monitor=PluginMonitor(backend, interval=5, discover_interval=5))
    async with app.run_test(size=SIZE) as pilot:
        await open_invoke(pilot, eventually, "alpha")
        await send(pilot, "big", '{"mb": 8}')
        await eventually(lambda: status_text(app).startswith("OK"), 20, "8 MiB result")
        assert "8.0 MiB" in status_text(app)
        await send(pilot, "big", '{"mb": 11}')
        await eventually(lambda: "limit" in status_text(app), 20, "over the limit")
        assert "10 MiB limit" in status_text(app) and "--max-message-mb" in status_text(app)
        assert app.is_running


STRANGE = [
    ("binary", "{}", "00000000  ff fe 00 01"),
    ("nested", '{"depth": 100000}', "[[[["),
    ("text", json.dumps({"text": "x\x1b[2J", "repeat": 1_000_000}), "x\\x1b[2Jx\\x1b[2J"),
]


def test_cli_shows_strange_results_safely(plugins: Any) -> None:
    """Not UTF-8, 100k levels of nesting, a 6 MB single line with escapes: no crash."""
    alpha = plugins.start("alpha")
    for function, args, expected in STRANGE:
        result = goatui("call", "alpha", function, args, "--socket", alpha.target)
        assert result.returncode == 0, (function, result.stderr[-500:])
        assert expected in result.stdout[:200], function
        assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in result.stdout), function
        assert "Traceback" not in result.stderr


async def test_console_shows_strange_results_safely(
    plugins: Any, make_console: Any, eventually: Eventually
) -> None:
    alpha = plugins.start("alpha")
    app = make_console(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoke(pilot, eventually, "alpha")
        long_line = json.dumps({"text": "y", "repeat": 10 * MiB})
        cases = [*STRANGE, ("text", long_line, "yyyy")]
        for done, (function, args, expected) in enumerate(cases, start=1):
            await send(pilot, function, args)
            await eventually(lambda n=done: len(History().entries()) == n, 20, function)
            await eventually(lambda: status_text(app).startswith("OK"), 20, function)
            await pilot.pause()
            shown = result_text(app)
            assert expected in shown[:200], function
            assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in shown), function
            screen = app.export_screenshot()
            assert "\x07" not in screen and "\x9b" not in screen
            assert app.is_running


# -- gateway faults --------------------------------------------------------------------


class BrokenGateway:
    """A loopback HTTP server that closes the connection mid-response, every time."""

    def __init__(self, *, reset: bool) -> None:
        self.reset = reset
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 5000\r\n\r\n{"plugins": [{"na'
                )
                if self.reset:  # RST instead of FIN
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")

    def close(self) -> None:
        self.server.close()


@pytest.fixture(params=[False, True], ids=["closed", "reset"])
def broken_gateway(request: pytest.FixtureRequest) -> Iterator[BrokenGateway]:
    server = BrokenGateway(reset=request.param)
    yield server
    server.close()


def test_cli_gateway_closing_mid_response(
    broken_gateway: BrokenGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOATFLOW_TOKEN", "t0k3n-reliability")
    for args in (("ls",), ("call", "alpha", "echo")):
        result = goatui(*args, "--gateway", broken_gateway.url, "--timeout", "5")
        assert result.returncode == 3, (args, result.stderr)
        line = one_line(result.stderr)
        assert "gateway" in line, line
