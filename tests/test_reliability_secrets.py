"""Exposure: no shell anywhere, and a runtime directory others can write is refused."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

GOATUI = Path(__file__).resolve().parent.parent / "goatui"
SHELL = re.compile(r"shell\s*=\s*True|os\.system\(|os\.popen\(|create_subprocess_shell\(")


def test_no_shell_invocation_anywhere_in_goatui() -> None:
    """Subprocesses get argument lists; nothing from plugins or users reaches a shell."""
    found = [
        f"{path.relative_to(GOATUI.parent)}:{n}: {line.strip()}"
        for path in GOATUI.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if SHELL.search(line)
    ]
    assert found == []


def test_world_writable_runtime_dir_is_refused(plugins_dir) -> None:  # type: ignore[no-untyped-def]
    plugins_dir.add("alpha")
    base = Path(tempfile.mkdtemp(prefix="gw-", dir="/tmp"))
    try:
        base.chmod(0o777)  # no sticky bit: anyone could swap our sockets
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "goatui",
                "ls",
                "--launch",
                "--plugins-dir",
                str(plugins_dir.root),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ, XDG_RUNTIME_DIR=str(base)),
        )
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "others can write to it" in lines[0], result.stderr
        assert list(base.iterdir()) == []  # nothing was created, nothing started
        base.chmod(0o1777)  # the sticky bit (like /tmp) makes it acceptable
        ok = subprocess.run(
            [
                sys.executable,
                "-m",
                "goatui",
                "ls",
                "--launch",
                "--plugins-dir",
                str(plugins_dir.root),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ, XDG_RUNTIME_DIR=str(base)),
        )
        assert ok.returncode == 0, ok.stderr
        assert "alpha" in ok.stdout
        assert list(base.iterdir()) == []  # the run's private dir is gone again
    finally:
        base.chmod(0o700)
        subprocess.run(["rm", "-rf", str(base)], check=False)


# -- the token in the console --------------------------------------------------------


async def test_console_in_gateway_mode_never_writes_or_shows_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers.console import SIZE, send, status_text, table_rows
    from helpers.console import eventually as _eventually
    from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

    from goatui.core.backends.gateway.rest import GatewayBackend
    from goatui.core.calls.history import History
    from goatui.core.config import Config
    from goatui.core.monitor import PluginMonitor
    from goatui.core.session import Session
    from goatui.ui.app import GoatApp

    monkeypatch.chdir(tmp_path)
    with GatewayServer() as gw:
        gw.state.echo_token = True  # its errors quote the token: the console shows ***
        gw.state.log("alpha", "info", "hello")
        backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, timeout=5, probe_timeout=2)
        session = Session(backend=backend, config=Config())
        app = GoatApp(session, monitor=PluginMonitor(backend, interval=5, discover_interval=5))
        screens = []
        async with app.run_test(size=SIZE) as pilot:
            await _eventually(lambda: "alpha" in table_rows(app), 10, "alpha listed")
            app.show_view("invoke", "alpha")
            await pilot.pause()
            statuses = []
            for done, (function, args) in enumerate([("echo", '{"k": 1}'), ("fail", "{}")], 1):
                await send(pilot, function, args)
                await _eventually(lambda n=done: len(History().entries()) == n, 10, function)
                await pilot.pause()
                statuses.append(status_text(app))
                screens.append(app.export_screenshot())
            for view in ("widgets", "jobs", "logs", "plugins"):
                app.show_view(view)
                await pilot.pause(0.3)
                screens.append(app.export_screenshot())
            await pilot.press("q")
        assert all(ADMIN_TOKEN not in screen for screen in screens)
        assert sum(1 for _, _, headers in gw.state.requests if headers) > 0
        assert all(ADMIN_TOKEN not in path for _, path, _ in gw.state.requests)
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    files = [p for base in (tmp_path, runtime) for p in base.rglob("*") if p.is_file()]
    assert statuses[0].startswith("OK") and "gateway error" not in statuses[1], statuses
    assert "(sent: ***)" in statuses[1], statuses
    assert any("history" in str(p) for p in files), files  # the calls were recorded…
    assert [p for p in files if ADMIN_TOKEN.encode() in p.read_bytes()] == []  # …no token


# -- host endpoints never on TCP -----------------------------------------------------


def _listening_tcp_inodes_of_this_process() -> set[str]:
    mine = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            mine.add(target[8:-1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A":  # LISTEN
                listening.add(fields[9])
    return mine & listening


async def test_host_servers_listen_only_on_private_unix_sockets(plugins: Any) -> None:
    from goatui.core.backends.sockets.backend import SocketBackend
    from goatui.core.backends.sockets.discovery import Sources
    from goatui.core.config import Config
    from goatui.core.session import Session

    alpha = plugins.start("alpha")
    before = _listening_tcp_inodes_of_this_process()
    backend = SocketBackend(Sources(sockets=[str(alpha.socket)]))
    session = Session(backend=backend, config=Config(), attach_host=True)
    await session.start()
    try:
        assert session.host is not None and session.runtime is not None
        endpoints = list(session.host.endpoints.values())
        assert endpoints
        assert _listening_tcp_inodes_of_this_process() - before == set()
        for endpoint in endpoints:
            assert stat.S_ISSOCK(endpoint.path.stat().st_mode)
            assert stat.S_IMODE(endpoint.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(session.runtime.path.stat().st_mode) == 0o700
        assert all(a.startswith("unix://") for a in session.attached.values())
    finally:
        await session.close()


# -- a token echoed back by a server -----------------------------------------------------

# Not a JWT, not after "Bearer ", six characters: only knowing it finds it. The quote
# and the backslash are spelled differently in JSON output.
SHORT_TOKEN = 'k3"Y\\z'


def _echoing_gateways(tmp_path: Path) -> tuple[Any, Any, Path]:
    """Two loopback gateways that know SHORT_TOKEN and quote it in every error: `good`
    lists plugins, `bad` fails its plugin list; a config with a context for each, and
    the token in a 0600 file."""
    from helpers.gateway_server import GatewayServer

    good, bad = GatewayServer().start(), GatewayServer().start()
    for server in (good, bad):
        server.state.tokens[SHORT_TOKEN] = "admin"
        server.state.echo_token = True
    bad.state.forced[("GET", "/plugins")] = (
        502,
        "application/json",
        b'{"error": "upstream refused token {bearer}"}',
    )
    token = tmp_path / "short.token"
    token.write_text(SHORT_TOKEN + "\n")
    token.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[contexts.good]\ngateway = "{good.url}"\ntoken_file = "{token}"\n'
        f'[contexts.bad]\ngateway = "{bad.url}"\ntoken_file = "{token}"\n'
    )
    return good, bad, config


@pytest.mark.parametrize("source", ["token-file", "environment", "context"])
def test_a_token_the_gateway_echoes_is_never_shown_or_stored(
    source: str, tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad, config = _echoing_gateways(tmp_path)
    try:
        where = {
            "token-file": ["--gateway", good.url, "--token-file", str(tmp_path / "short.token")],
            "environment": ["--gateway", good.url],
            "context": ["--config", str(config), "--context", "good"],
        }[source]
        if source == "environment":
            monkeypatch.setenv("GOATFLOW_TOKEN", SHORT_TOKEN)
        shown = []
        code, out, err = cli(*where, "call", "alpha", "fail", '{"message": "no"}')
        assert code == 1 and "(sent: ***)" in err, err
        shown.append(out + err)
        bad_where = [w.replace(good.url, bad.url) for w in where]
        if source == "context":
            bad_where[-1] = "bad"
        code, out, err = cli(*bad_where, "ls")
        assert code == 1 and "refused token ***" in err, err
        shown.append(out + err)
        # A fleet lists the failing context with its error in the note column.
        for json_flag in ([], ["--json"]):
            code, out, err = cli("--config", str(config), "--fleet", "ls", *json_flag)
            assert code == 0 and "refused token ***" in out, out
            shown.append(out + err)
    finally:
        good.stop()
        bad.stop()
    assert all(
        SHORT_TOKEN not in text and json.dumps(SHORT_TOKEN)[1:-1] not in text for text in shown
    )
    stored = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert any(p.name == "audit.jsonl" for p in stored), stored  # the call was audited…
    assert [p for p in stored if SHORT_TOKEN.encode() in p.read_bytes()] == []  # …not the token
    audit = (tmp_path / "state" / "goatui" / "audit.jsonl").read_text()
    assert json.dumps(SHORT_TOKEN)[1:-1] not in audit and "***" in audit
