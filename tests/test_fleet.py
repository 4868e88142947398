"""A fleet: several contexts (real plugin sockets and a real loopback gateway) as one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.gateway_server import ADMIN_TOKEN, GatewayServer, free_port

from goatui.core.backends.contexts import fleet_for_contexts
from goatui.core.backends.fleet import FleetBackend, FleetLogPoller
from goatui.core.config import load_config
from goatui.core.errors import NotFound, Unreachable, UsageError
from goatui.core.models import Health


@pytest.fixture(scope="module")
def local_plugins(module_plugins):  # type: ignore[no-untyped-def]
    """alpha and gamma on sockets, shared by the module's tests (they only read)."""
    return module_plugins.start("alpha"), module_plugins.start("gamma")


@pytest.fixture
def config_file(tmp_path: Path, local_plugins, gw: GatewayServer) -> Path:  # type: ignore[no-untyped-def]
    """Contexts: `local` (sockets: alpha, gamma), `prod` (the gateway: alpha, beta,
    lazy) and `down` (a gateway nobody answers)."""
    alpha, gamma = local_plugins
    token = tmp_path / "prod.token"
    token.write_text(ADMIN_TOKEN)
    token.chmod(0o600)
    path = tmp_path / "config.toml"
    path.write_text(
        f'[contexts.local]\nsockets = ["{alpha.socket}", "{gamma.socket}"]\n'
        f'[contexts.prod]\ngateway = "{gw.url}"\ntoken_file = "{token}"\n'
        f'[contexts.down]\ngateway = "http://127.0.0.1:{free_port()}"\ntoken_file = "{token}"\n'
    )
    return path


def fleet(config_file: Path, *names: str) -> FleetBackend:
    return fleet_for_contexts(load_config(config_file), names)


async def test_names_where_and_routing(config_file: Path, gw: GatewayServer) -> None:
    backend = fleet(config_file, "local", "prod")
    try:
        infos = {p.name: p for p in await backend.list_plugins()}
        # alpha is in both contexts: both copies are qualified; the rest keep their names.
        assert {n: p.where for n, p in infos.items()} == {
            "alpha@local": "local",
            "gamma": "local",
            "alpha@prod": "prod",
            "beta": "prod",
            "lazy": "prod",
        }
        assert backend.label == "fleet (local, prod)"
        health = {n: (await backend.probe(p)).health for n, p in infos.items()}
        assert health["alpha@local"] is Health.SERVING
        assert health["alpha@prod"] is Health.ENABLED and health["beta"] is Health.DISABLED

        result = await backend.call("alpha@local", "echo", b'{"via": "socket"}')
        assert json.loads(result.data) == {"via": "socket"}
        assert gw.state.count("POST", "/api/v1/plugins/alpha/call/echo") == 0
        result = await backend.call("alpha@prod", "echo", b'{"via": "gateway"}')
        assert json.loads(result.data) == {"via": "gateway"}
        assert gw.state.count("POST", "/api/v1/plugins/alpha/call/echo") == 1
        assert backend.last_call_ms("alpha@prod") is not None
        # NAME@CONTEXT always works, colliding or not.
        assert (await backend.call("gamma@local", "echo", b"{}")).data == b"{}"
        with pytest.raises(UsageError, match="several contexts") as ambiguous:
            await backend.call("alpha", "echo", b"{}")
        assert "alpha@local, alpha@prod" in ambiguous.value.line()
        with pytest.raises(NotFound, match="unknown plugin 'nope' in the fleet"):
            await backend.call("nope", "echo", b"{}")

        assert await backend.set_enabled("beta", True) == "enabled"
        with pytest.raises(UsageError, match="not available with sockets"):
            await backend.set_enabled("gamma", False)
        html, _ = await backend.widget_html("alpha@prod", "summary_widget", "summary")
        assert "42 open" in html
    finally:
        await backend.close()


async def test_a_context_that_is_down(config_file: Path) -> None:
    backend = fleet(config_file, "local", "down")
    try:
        infos = {p.name: p for p in await backend.list_plugins()}
        assert set(infos) == {"alpha", "gamma", "@down"}
        probe = await backend.probe(infos["@down"])
        assert probe.health is Health.UNREACHABLE and "cannot connect" in probe.error
        assert (await backend.probe(infos["alpha"])).health is Health.SERVING
        # A name not found while a context is down may live there: unreachable, not unknown.
        with pytest.raises(Unreachable, match="context down"):
            await backend.call("nope", "echo", b"{}")
    finally:
        await backend.close()
    only_down = fleet(config_file, "down")
    with pytest.raises(Unreachable):
        await only_down.list_plugins()
    await only_down.close()
    with pytest.raises(UsageError, match="named twice"):
        fleet(config_file, "local", "local")


# -- the command line ----------------------------------------------------------------------


def test_cli_fleet(config_file: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = ("--config", str(config_file))
    code, out, err = cli(*config, "--context", "local", "--context", "prod", "ls")
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split()[:5] == ["NAME", "WHERE", "VERSION", "HEALTH", "LATENCY"]
    assert {tuple(r.split()[:2]) for r in rows} == {
        ("alpha@local", "local"),
        ("gamma", "local"),
        ("alpha@prod", "prod"),
        ("beta", "prod"),
        ("lazy", "prod"),
    }
    code, out, _ = cli(*config, "--fleet", "ls", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["@down"]["health"] == "UNREACHABLE" and rows["@down"]["where"] == "down"
    assert rows["alpha@prod"]["where"] == "prod"
    code, out, _ = cli(*config, "--fleet", "call", "alpha@prod", "echo", '{"x": 1}')
    assert (code, json.loads(out)) == (0, {"x": 1})
    code, _, err = cli(*config, "--fleet", "call", "alpha", "echo")
    assert code == 2 and "name one: alpha@local, alpha@prod" in err
    # One --context is a plain context, as before: no WHERE column.
    code, out, _ = cli(*config, "--context", "local", "ls")
    assert out.splitlines()[0].split()[:2] == ["NAME", "VERSION"]

    token = tmp_path / "prod.token"
    for args, says in [
        (("--fleet", "--context", "local", "ls"), "--fleet and --context exclude each other"),
        (("--fleet", "--token-file", str(token), "ls"), "not a fleet's"),
        (("--fleet", "--gateway", "http://x", "ls"), "exclude each other"),
        (("--context", "local", "--context", "nope", "ls"), "unknown context 'nope'"),
    ]:
        code, _, err = cli(*config, *args)
        assert code == 2 and says in err, args


# -- logs across the fleet ---------------------------------------------------------------


@pytest.fixture
def with_stage(config_file: Path, tmp_path: Path) -> Iterator[tuple[Path, GatewayServer]]:
    """The config plus `stage`: a second real gateway with the same plugins as prod."""
    with GatewayServer() as stage:
        token = tmp_path / "prod.token"
        config_file.write_text(
            config_file.read_text()
            + f'[contexts.stage]\ngateway = "{stage.url}"\ntoken_file = "{token}"\n'
        )
        yield config_file, stage


async def test_fleet_log_poller_merges_every_gateway(
    with_stage: tuple[Path, GatewayServer], gw: GatewayServer
) -> None:
    config, stage = with_stage
    backend = fleet(config, "local", "prod", "stage", "down")
    try:
        poller = backend.log_poller()
        assert isinstance(poller, FleetLogPoller)
        assert set(poller.pollers) == {"prod", "stage", "down"}  # sockets keep no buffer
        gw.state.log("alpha", "info", "prod first")
        stage.state.log("beta", "warn", "stage first")
        gw.state.log("beta", "info", "prod second")
        entries, failures = await poller.poll_round()
        # By time across contexts, named as the fleet names them.
        assert [(e["plugin"], e["message"]) for e in entries] == [
            ("alpha@prod", "prod first"),
            ("beta@stage", "stage first"),
            ("beta@prod", "prod second"),
        ]
        [down] = failures
        assert isinstance(down, Unreachable) and down.line().startswith("context down: ")
        stage.state.log("lazy", "error", "only new ones")
        entries, failures = await poller.poll_round()
        assert [(e["plugin"], e["message"]) for e in entries] == [("lazy@stage", "only new ones")]
    finally:
        await backend.close()
    sockets_only = fleet(config, "local")
    assert sockets_only.log_poller() is None
    await sockets_only.close()


def test_cli_fleet_logs(with_stage: tuple[Path, GatewayServer], gw: GatewayServer, cli) -> None:  # type: ignore[no-untyped-def]
    config, stage = with_stage
    gw.state.log("alpha", "info", "from prod")
    stage.state.log("alpha", "info", "from stage")
    fleet_args = ("--config", str(config), "--context", "prod", "--context", "stage")
    code, out, err = cli(*fleet_args, "logs", "--json")
    assert (code, err) == (0, "")
    assert [(e["plugin"], e["message"]) for e in map(json.loads, out.splitlines())] == [
        ("alpha@prod", "from prod"),
        ("alpha@stage", "from stage"),
    ]
    # --plugin takes the fleet's names.
    code, out, _ = cli(*fleet_args, "logs", "--json", "--plugin", "alpha@stage")
    assert [json.loads(line)["message"] for line in out.splitlines()] == ["from stage"]
    # A context that is down: what could be read, then its one line and exit code.
    code, out, err = cli("--config", str(config), "--fleet", "logs")
    assert code == 3 and "from prod" in out and "from stage" in out
    assert err.startswith("goatui: context down: ") and len(err.splitlines()) == 1
    sockets_only = config.with_name("sockets.toml")
    sockets_only.write_text(
        '[contexts.a]\nsockets = ["/tmp/a.sock"]\n[contexts.b]\nsockets = ["/tmp/b.sock"]\n'
    )
    code, _, err = cli("--config", str(sockets_only), "--fleet", "logs")
    assert code == 2 and "only gateway contexts keep a log buffer" in err


def test_cli_fleet_logs_follow(with_stage: tuple[Path, GatewayServer], gw: GatewayServer) -> None:
    config, stage = with_stage
    gw.state.log("alpha", "info", "before")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "goatui", "--config", str(config)),
            *("--context", "prod", "--context", "stage", "logs", "-f", "--json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, NO_COLOR="1"),
    )
    # A goatui that never prints must fail the test, not hang it: readline() then ends.
    stop_waiting = threading.Timer(60, process.kill)
    stop_waiting.start()
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        assert (first["plugin"], first["message"]) == ("alpha@prod", "before")
        stage.state.log("beta", "error", "while following")
        later = json.loads(process.stdout.readline())  # the next poll, within ~2 s
        assert (later["plugin"], later["level"], later["message"]) == (
            "beta@stage",
            "error",
            "while following",
        )
    finally:
        stop_waiting.cancel()
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert (process.returncode, err) == (143, "")  # SIGTERM (128 + 15), quietly
