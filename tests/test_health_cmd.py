"""`goatui health`: exit codes a readiness check can rely on, against real plugins and
the real loopback gateway."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from helpers.gateway_server import ADMIN_TOKEN, GatewayServer, free_port

CLI = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """conftest's in-process CLI, without colour (the states are read as plain text)."""
    monkeypatch.setenv("NO_COLOR", "1")
    return cli


def states(out: str) -> dict[str, str]:
    return {line.split()[0]: line.split()[1] for line in out.splitlines()}


def test_sockets(plugins, cli: CLI) -> None:  # type: ignore[no-untyped-def]
    alpha = plugins.start("alpha")
    gamma = plugins.start("gamma")
    mute = plugins.start("mute", TESTPLUGIN_HEALTH="none")
    sockets = [arg for p in (alpha, gamma, mute) for arg in ("--socket", str(p.socket))]

    code, out, err = cli("health", "alpha", "gamma", *sockets)
    assert (code, states(out), err) == (0, {"alpha": "SERVING", "gamma": "SERVING"}, "")
    assert out.splitlines()[0].endswith(" ms")
    # Every plugin when none is named; one without a health service is not up.
    code, out, _ = cli("health", *sockets)
    assert (code, states(out)["mute"]) == (1, "UNKNOWN")
    assert cli("health", "alpha", "--quiet", *sockets)[:2] == (0, "")

    cli("call", "gamma", "set_health", '{"serving": false}', *sockets)
    code, out, _ = cli("health", "alpha", "gamma", *sockets)
    assert (code, states(out)) == (1, {"alpha": "SERVING", "gamma": "NOT_SERVING"})

    gamma.kill()
    code, out, _ = cli("health", "alpha", "gamma", *sockets)
    assert (code, states(out)["gamma"]) == (3, "UNREACHABLE")  # 3 beats 1
    assert "cannot connect to the plugin" in out.splitlines()[1]  # why, when not up

    # A name nobody registered: a typo (2), unless some socket could not be asked.
    code, out, err = cli("health", "nope", "--socket", str(alpha.socket))
    assert (code, out) == (2, "")
    assert "unknown plugin 'nope' (known: alpha)" in err
    code, out, _ = cli("health", "nope", *sockets)
    assert (code, states(out)) == (3, {"nope": "NOT_FOUND"})  # gamma may be nope
    # With --wait, a missing plugin is waited for, then reported.
    started = time.monotonic()
    code, out, _ = cli(
        "health", "nope", "--wait", "0.4", "--interval", "0.1", "--socket", str(alpha.socket)
    )
    assert (code, states(out)) == (3, {"nope": "NOT_FOUND"})
    assert 0.3 < time.monotonic() - started < 5

    for args in (("--wait", "-1"), ("--interval", "0")):
        code, _, err = cli("health", *args, *sockets)
        assert code == 2 and err.startswith(f"goatui: argument {args[0]}: must be")


def test_wait_until_a_plugin_comes_up(plugins, sock_dir, cli: CLI) -> None:  # type: ignore[no-untyped-def]
    late = sock_dir / "goatflow-plugin-late.sock"
    starter = threading.Timer(0.5, lambda: plugins.start("late"))
    starter.start()
    try:
        started = time.monotonic()
        code, out, _ = cli("health", "--wait", "15", "--interval", "0.1", "--socket", str(late))
    finally:
        starter.join()
    assert (code, states(out)) == (0, {"late": "SERVING"})
    assert time.monotonic() - started < 10


def test_gateway(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    with GatewayServer() as gw:
        url = ("--gateway", gw.url)
        code, out, _ = cli(*url, "health", "alpha")
        assert (code, states(out)) == (0, {"alpha": "ENABLED"})
        code, out, _ = cli(*url, "health")
        assert code == 1
        assert states(out) == {"alpha": "ENABLED", "beta": "DISABLED", "lazy": "NOT_LOADED"}
        monkeypatch.setenv("GOATFLOW_TOKEN", "bogus")
        code, out, err = cli(*url, "health", "--wait", "5")
        assert (code, out) == (4, "") and "refused the token" in err  # no waiting for that
        monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
        with gw.state.lock:
            gw.state.plugins.clear()
        code, out, err = cli(*url, "health")
        assert (code, out, err) == (3, "", "no plugins found\n")
    down = ("--gateway", f"http://127.0.0.1:{free_port()}")
    code, _, err = cli(*down, "health", "--wait", "0.3", "--interval", "0.1")
    assert code == 3 and "cannot connect to the gateway" in err


def test_a_real_process_and_the_help() -> None:
    env = dict(os.environ, NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-m", "goatui", "health", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert result.returncode == 0
    for line in (
        "0  every plugin is up",
        "1  a plugin answered but is not up",
        "3  a plugin is unreachable",
    ):
        assert line in result.stdout
    with GatewayServer() as gw:
        result = subprocess.run(
            [sys.executable, "-m", "goatui", "--gateway", gw.url, "health", "beta", "-q"],
            capture_output=True,
            text=True,
            env=dict(env, GOATFLOW_TOKEN=ADMIN_TOKEN),
            timeout=30,
        )
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")
