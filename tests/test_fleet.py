"""A fleet: several contexts (real plugin sockets and a real loopback gateway) as one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gateway_server import ADMIN_TOKEN, GatewayServer, free_port

from goatui.core.config import load_config
from goatui.core.errors import NotFound, Unreachable, UsageError
from goatui.core.fleet import FleetBackend, fleet_for_contexts
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

        gw.state.log("alpha", "info", "from prod")
        gw.state.log("beta", "error", "beta broke")
        logs = await backend.logs()  # sockets keep no log buffer: only prod's
        assert [(e["plugin"], e["message"]) for e in logs] == [
            ("beta", "beta broke"),
            ("alpha@prod", "from prod"),
        ]
        assert [e["message"] for e in await backend.logs("alpha@prod")] == ["from prod"]
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
