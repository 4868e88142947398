"""The CLI in gateway mode against a real HTTP server on 127.0.0.1.

Exit codes and output are checked in real subprocesses for one case of each kind, and
in-process (`main(argv)`, the same code path minus interpreter start-up) for the long
tables, which keeps the suite fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers.cli import Ran, one_line
from helpers.cli import run_goatui as goatui
from helpers.gateway_server import ADMIN_TOKEN, USER_TOKEN, GatewayServer, free_port


@pytest.fixture
def cli(cli: Callable[..., Ran], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """conftest's in-process CLI, with `env={...}` set for the one run."""

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        with monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            return cli(*args)

    return run


def many(*runs: tuple[tuple[str, ...], dict[str, str]]) -> list[subprocess.CompletedProcess[str]]:
    """Several CLI runs at once (each is a fresh interpreter: run them side by side)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda run: goatui(*run[0], env=run[1]), runs))


def token_file(tmp_path: Path, token: str = ADMIN_TOKEN, mode: int = 0o600) -> Path:
    path = tmp_path / "secrets" / "goatflow.token"
    path.parent.mkdir(exist_ok=True)
    path.write_text(token + "\n")
    path.chmod(mode)
    return path


CLI = Callable[..., tuple[int, str, str]]


def test_real_processes_exit_codes_and_no_token_in_output(
    gw: GatewayServer, tmp_path: Path
) -> None:
    """One real process per kind of outcome, the token from the environment or a file."""
    secret = token_file(tmp_path)
    env = {"GOATFLOW_TOKEN": ADMIN_TOKEN, "GOATFLOW_URL": gw.url}
    by_file = {"GOATFLOW_URL": gw.url}
    file_opt = ("--token-file", str(secret))
    down = {**env, "GOATFLOW_URL": f"http://127.0.0.1:{free_port()}"}
    wrong = {**env, "GOATFLOW_TOKEN": ADMIN_TOKEN + "x"}
    cases: list[tuple[tuple[str, ...], dict[str, str], int, str]] = [
        (("ls",), {**env, "GOATFLOW_URL": gw.url + "/api/v1/"}, 0, ""),
        (("--gateway", gw.url, "call", "alpha", "echo", '{"a": 1}', *file_opt), {}, 0, ""),
        (("call", "beta", "echo", *file_opt), by_file, 1, "'beta' is disabled"),
        (("call", "ghost", "echo"), env, 2, "unknown plugin 'ghost'"),
        (("ls", "--token", ADMIN_TOKEN), env, 2, "never taken on the command line"),
        (("call", "alpha", "slow", '{"seconds": 3}', "--timeout", "0.5"), env, 3, "0.5s"),
        (("ls",), down, 3, "cannot connect to the gateway"),
        (("ls",), wrong, 4, "refused the token in $GOATFLOW_TOKEN (Invalid or expired token)"),
    ]
    results = many(*((args, env) for args, env, _, _ in cases))
    for (args, _, code, text), result in zip(cases, results, strict=True):
        assert result.returncode == code, (args, result.stderr)
        if text:
            assert text in one_line(result), args
        assert ADMIN_TOKEN not in result.stdout + result.stderr, args
    header, alpha, *_ = results[0].stdout.splitlines()
    assert header.split()[:4] == ["NAME", "VERSION", "HEALTH", "LATENCY"]
    assert alpha.split()[:3] == ["alpha", "1.2.3", "ENABLED"]
    assert results[1].stdout == '{\n  "a": 1\n}\n'


def test_ls_json(gw: GatewayServer, cli: CLI) -> None:
    code, stdout, stderr = cli(
        "ls", "--json", "--gateway", gw.url, env={"GOATFLOW_TOKEN": ADMIN_TOKEN}
    )
    assert code == 0, stderr
    rows = {row["name"]: row for row in json.loads(stdout)}
    assert {n: r["health"] for n, r in rows.items()} == {
        "alpha": "ENABLED",
        "beta": "DISABLED",
        "lazy": "NOT_LOADED",
    }
    assert rows["alpha"]["latency_ms"] > 0
    assert rows["alpha"]["where"] == gw.url and rows["alpha"]["manifest"] == "gateway"
    assert rows["lazy"]["manifest"] is None


def test_exit_codes(gw: GatewayServer, cli: CLI) -> None:
    admin = {"GOATFLOW_TOKEN": ADMIN_TOKEN}
    url = ("--gateway", gw.url)
    cases: list[tuple[tuple[str, ...], dict[str, str], int, str]] = [
        ((*url, "call", "alpha", "fail", '{"message": "disk full"}'), admin, 1, "disk full"),
        ((*url, "call", "alpha", "nope"), admin, 1, "answered with an error: unknown function"),
        ((*url, "call", "alpha", "echo"), {"GOATFLOW_TOKEN": "bogus"}, 4, "refused the token"),
        ((*url, "--context", "x", "ls"), admin, 2, "exclude each other"),
        ((*url, "--socket", "/tmp/x.sock", "ls"), admin, 2, "exclude each other"),
        (("--context", "nope", "ls"), admin, 2, "unknown context 'nope' (known: none)"),
        (("--gateway", "ftp://h", "ls"), admin, 2, "invalid gateway URL"),
        ((*url, "--token-file", "/nonexistent/t", "ls"), {}, 2, "cannot read token file"),
    ]
    for args, env, code, text in cases:
        got, _, stderr = cli(*args, env=env)
        assert got == code, (args, stderr)
        assert text in one_line(stderr), args
    gw.state.forced["GET", "/plugins"] = (200, "application/json", b"<html>oops")
    gw.state.forced["POST", "/plugins/alpha/call/echo"] = (
        503,
        "application/json",
        b'{"error": "Plugin system not initialized"}',
    )
    code, _, stderr = cli(*url, "ls", env=admin)
    assert code == 1 and "not valid JSON" in one_line(stderr)
    code, _, stderr = cli(*url, "call", "alpha", "echo", env=admin)
    assert code == 1
    assert "gateway unavailable: Plugin system not initialized" in one_line(stderr)


def test_enable_and_disable(gw: GatewayServer, cli: CLI) -> None:
    admin = {"GOATFLOW_TOKEN": ADMIN_TOKEN, "GOATFLOW_URL": gw.url}
    user = {"GOATFLOW_TOKEN": USER_TOKEN, "GOATFLOW_URL": gw.url}
    assert cli("enable", "beta", "--yes", env=admin) == (0, "beta: enabled\n", "")
    assert gw.state.plugins["beta"]["enabled"] is True
    cases = [
        (("disable", "alpha", "--yes"), user, 4, "admin access required"),
        (("--read-only", "disable", "alpha", "--yes"), admin, 2, "--read-only"),
        (("disable", "alpha"), admin, 2, "pass --yes"),
        (("enable", "ghost", "-y"), admin, 2, "unknown plugin 'ghost'"),
        (("enable", "beta", "--yes", "--socket", "/tmp/none.sock"), admin, 2, "through a gateway"),
    ]
    for args, env, code, text in cases:
        got, _, stderr = cli(*args, env=env)
        assert got == code, (args, stderr)
        assert text in one_line(stderr), args
    assert gw.state.plugins["alpha"]["enabled"] is True


def test_context_from_the_config_file(gw: GatewayServer, tmp_path: Path, cli: CLI) -> None:
    secret = token_file(tmp_path)
    config = tmp_path / "config" / "goatui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[contexts.prod]\ngateway = "{gw.url}"\ntoken_file = "{secret}"\n'
        '[contexts.local]\nsockets = ["/tmp/goatflow-plugin-none.sock"]\n'
    )
    code, stdout, stderr = cli("--context", "prod", "ls", "--json")
    assert code == 0, stderr
    assert len(json.loads(stdout)) == 3
    code, _, stderr = cli("--context", "x", "ls")
    assert code == 2
    assert "unknown context 'x' (known: local, prod)" in one_line(stderr)


def test_token_file_must_be_private(gw: GatewayServer, tmp_path: Path, cli: CLI) -> None:
    secret = token_file(tmp_path, mode=0o644)
    code, _, stderr = cli("--gateway", gw.url, "--token-file", str(secret), "ls")
    assert code == 2
    assert f"fix it: chmod 600 {secret}" in one_line(stderr)
    assert gw.state.requests == []  # nothing was sent


def test_insecure_warns_on_stderr(gw: GatewayServer, cli: CLI) -> None:
    code, _, stderr = cli(
        "--gateway", gw.url, "--insecure", "ls", env={"GOATFLOW_TOKEN": "wrong-token"}
    )
    assert code == 4
    assert stderr.startswith("goatui: warning: TLS verification is off")


def test_token_never_shows_or_lands_in_a_file(gw: GatewayServer, tmp_path: Path, cli: CLI) -> None:
    secret = token_file(tmp_path)
    by_env = {"GOATFLOW_TOKEN": ADMIN_TOKEN, "GOATFLOW_URL": gw.url}
    by_file = {"GOATFLOW_URL": gw.url}
    file_opt = ("--token-file", str(secret))
    wrong = {"GOATFLOW_TOKEN": ADMIN_TOKEN + "x", "GOATFLOW_URL": gw.url}
    down = {"GOATFLOW_TOKEN": ADMIN_TOKEN, "GOATFLOW_URL": f"http://127.0.0.1:{free_port()}"}
    runs: list[tuple[tuple[str, ...], dict[str, str], int]] = [
        (("ls", "--json"), by_env, 0),
        (("ls", "--json", *file_opt), by_file, 0),
        (("call", "alpha", "echo", '{"k": "v"}', *file_opt), by_file, 0),
        (("call", "beta", "echo"), by_env, 1),
        (("call", "ghost", "echo", *file_opt), by_file, 2),
        (("call", "alpha", "fail", "{}"), by_env, 1),
        (("call", "alpha", "slow", '{"seconds": 2}', "--timeout", "0.2"), by_env, 3),
        (("disable", "beta", "--yes", *file_opt), by_file, 0),
        (("ls", "--json"), wrong, 4),
        (("ls", "--json"), down, 3),
        (("--insecure", "ls", "--json"), by_env, 0),
        (("ls", f"--token={ADMIN_TOKEN}"), by_env, 2),
        (("call", "alpha", "echo", "--token", ADMIN_TOKEN), by_env, 2),
    ]
    for args, env, expected in runs:
        code, stdout, stderr = cli(*args, env=env)
        assert code == expected, (args, stderr)
        assert ADMIN_TOKEN not in stdout + stderr, args
    leaks = [
        path
        for base in ("config", "state", "home")
        for path in (tmp_path / base).rglob("*")
        if path.is_file() and ADMIN_TOKEN.encode() in path.read_bytes()
    ]
    assert leaks == []
    # The server saw it, in the header only.
    assert all(ADMIN_TOKEN not in path for _, path, _ in gw.state.requests)


def test_socket_mode_never_imports_httpx(plugins) -> None:
    alpha = plugins.start("alpha")
    code = (
        "import sys\n"
        "from goatui.cli import main\n"
        f"rc = main(['ls', '--json', '--socket', {str(alpha.socket)!r}])\n"
        f"rc |= main(['call', 'alpha', 'echo', '--socket', {str(alpha.socket)!r}])\n"
        "assert 'httpx' not in sys.modules, 'socket mode imported httpx'\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
