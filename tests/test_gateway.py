"""GatewayBackend against a real HTTP server on 127.0.0.1 (tests/helpers/gateway_server.py)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers.gateway_server import (
    ADMIN_TOKEN,
    HOSTILE,
    USER_TOKEN,
    GatewayServer,
    free_port,
    self_signed_cert,
)

from goatui.core.backends.contexts import available_contexts, backend_for_context, select_backend
from goatui.core.backends.gateway.auth import read_token_file, resolve_token
from goatui.core.backends.gateway.rest import GatewayBackend, gateway_base
from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.discovery import Sources
from goatui.core.config import Config
from goatui.core.errors import (
    ExitCode,
    GoatError,
    NotFound,
    PermissionRefused,
    RemoteError,
    ResultTooLarge,
    TimedOut,
    Unreachable,
    UsageError,
)
from goatui.core.models import Health
from goatui.core.sanitize import has_unsafe


def refused(function: Any, *args: Any, **kwargs: Any) -> UsageError:
    """The UsageError function raises (nothing is sent for those)."""
    with pytest.raises(UsageError) as info:
        function(*args, **kwargs)
    return info.value


async def raises(exc_type: type[GoatError], awaitable: object) -> GoatError:
    with pytest.raises(exc_type) as info:
        await awaitable  # type: ignore[misc]
    return info.value


# -- listing and probing ---------------------------------------------------------------


async def test_list_plugins_with_manifests(backend: GatewayBackend, gw: GatewayServer) -> None:
    plugins = {p.name: p for p in await backend.list_plugins()}
    assert list(plugins) == ["alpha", "beta", "lazy"]
    alpha = plugins["alpha"]
    assert alpha.version == "1.2.3"
    assert alpha.target == f"{gw.url}/api/v1/plugins/alpha"
    assert alpha.manifest is not None and alpha.manifest.source == "gateway"
    assert alpha.manifest.jobs[0]["schedule"] == "0 2 * * *"
    assert alpha.manifest.widgets[0]["refresh_sec"] == 30
    assert alpha.handlers() == ["echo", "summary_widget"]
    assert plugins["lazy"].manifest is None
    assert plugins["lazy"].description == "Not loaded (lazy loading enabled)"
    assert backend.label == gw.url


async def test_probe_states_share_one_request(backend: GatewayBackend, gw: GatewayServer) -> None:
    plugins = await backend.list_plugins()
    probes = await asyncio.gather(*(backend.probe(p) for p in plugins * 5))
    assert [p.health for p in probes[:3]] == [Health.ENABLED, Health.DISABLED, Health.NOT_LOADED]
    assert all(p.latency_ms is not None and p.latency_ms > 0 for p in probes)
    # The list and fifteen probes within a second: one GET /plugins.
    assert gw.state.count("GET", "/api/v1/plugins") == 1


async def test_probe_refreshes_after_the_cache_ages(gw: GatewayServer) -> None:
    backend = GatewayBackend(gw.url, token=USER_TOKEN, snapshot_ttl=0.05)
    [alpha, *_] = await backend.list_plugins()
    with gw.state.lock:
        gw.state.plugins["alpha"]["enabled"] = False
    await asyncio.sleep(0.1)
    assert (await backend.probe(alpha)).health == Health.DISABLED
    with gw.state.lock:
        del gw.state.plugins["alpha"]
    await asyncio.sleep(0.1)
    gone = await backend.probe(alpha)
    assert gone.health == Health.UNREACHABLE and "no longer listed" in gone.error
    await backend.close()


async def test_probe_unreachable_gateway() -> None:
    backend = GatewayBackend(f"http://127.0.0.1:{free_port()}", token=USER_TOKEN)
    probe = await backend.probe(_info("alpha"))
    assert probe.health == Health.UNREACHABLE
    assert probe.latency_ms is None
    assert "cannot connect to the gateway" in probe.error
    await backend.close()


async def test_probe_unknown_when_token_refused(gw: GatewayServer) -> None:
    backend = GatewayBackend(gw.url, token="not-a-valid-token")
    probe = await backend.probe(_info("alpha"))
    assert probe.health == Health.UNKNOWN
    assert probe.error == "signed out of the gateway"  # the why is said once, not per row
    [status] = backend.sign_in_status()
    assert status.problem == "the gateway refused the token (Invalid or expired token)"
    await backend.close()


def _info(name: str):  # type: ignore[no-untyped-def]
    from goatui.core.models import PluginInfo

    return PluginInfo(name=name, target="")


# -- calls -----------------------------------------------------------------------------


async def test_call_returns_raw_json_and_keeps_last_duration(
    backend: GatewayBackend, gw: GatewayServer
) -> None:
    assert backend.last_call_ms("alpha") is None
    result = await backend.call("alpha", "echo", b'{"a": 1}')
    assert result.data == b'{"a": 1}'
    assert result.content_type.startswith("application/json")
    assert result.duration_ms > 0
    assert backend.last_call_ms("alpha") == result.duration_ms
    method, path, headers = gw.state.requests[-1]
    assert (method, path) == ("POST", "/api/v1/plugins/alpha/call/echo")
    assert headers["Content-Type"] == "application/json"


async def test_call_quotes_names_into_one_path_segment(
    backend: GatewayBackend, gw: GatewayServer
) -> None:
    await raises(NotFound, backend.call("../plugins/alpha", "x?y=1", b"{}"))
    assert gw.state.requests[-2][1] == "/api/v1/plugins/..%2Fplugins%2Falpha/call/x%3Fy%3D1"


async def test_call_disabled_plugin(backend: GatewayBackend) -> None:
    error = await raises(RemoteError, backend.call("beta", "echo", b"{}"))
    assert error.exit_code == ExitCode.REMOTE_ERROR
    assert "'beta' is disabled" in error.line()


async def test_call_unknown_plugin_is_the_users_input(backend: GatewayBackend) -> None:
    error = await raises(NotFound, backend.call("nope", "echo", b"{}"))
    assert error.exit_code == ExitCode.USAGE
    assert "unknown plugin 'nope'" in error.line() and "alpha, beta, lazy" in error.line()


async def test_call_404_of_a_listed_plugin_is_the_gateways(
    backend: GatewayBackend, gw: GatewayServer
) -> None:
    gw.state.forced["POST", "/plugins/alpha/call/echo"] = (
        404,
        "application/json",
        b'{"error": "plugin not found: alpha"}',
    )
    error = await raises(RemoteError, backend.call("alpha", "echo", b"{}"))
    assert error.exit_code == ExitCode.REMOTE_ERROR
    assert "plugin not found: alpha" in error.line()


async def test_call_400_shows_the_gateways_message(backend: GatewayBackend) -> None:
    error = await raises(RemoteError, backend.call("alpha", "fail", b'{"message": "disk full"}'))
    assert error.exit_code == ExitCode.REMOTE_ERROR
    assert error.line() == "call fail failed: disk full"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (None, "the gateway needs a sign-in (Missing authorization token)"),
        ("wrong", "the gateway refused the token (Invalid or expired token)"),
    ],
)
async def test_auth_failures(gw: GatewayServer, token: str | None, expected: str) -> None:
    backend = GatewayBackend(gw.url, token=token)
    for work in (backend.call("alpha", "echo", b"{}"), backend.list_plugins()):
        error = await raises(PermissionRefused, work)
        assert error.exit_code == ExitCode.AUTH
        assert expected in error.line() and f"goatui login --gateway {gw.url}" in error.line()
    # Once refused, nothing more is sent: there is no way to a token left.
    assert gw.state.count("GET", "/api/v1/plugins") == 0
    await backend.close()


@pytest.mark.parametrize(
    ("status", "content_type", "body", "expected"),
    [
        (
            503,
            "application/json",
            b'{"error": "Plugin system not initialized"}',
            "gateway unavailable: Plugin system not initialized",
        ),
        (502, "text/html", b"<html>Bad Gateway</html>", "gateway error (HTTP 502)"),
        (500, "text/plain", b"", "gateway error (HTTP 500): no details"),
        (200, "application/json", b"{not json", "not valid JSON"),
        (200, "application/json", b'{"items": []}', 'no "plugins" list'),
        (302, "text/html", b"", "redirected"),
        (403, "application/json", b'{"error": "admin access required"}', "admin access required"),
    ],
)
async def test_gateway_failures_are_plain(
    backend: GatewayBackend,
    gw: GatewayServer,
    status: int,
    content_type: str,
    body: bytes,
    expected: str,
) -> None:
    gw.state.forced["GET", "/plugins"] = (status, content_type, body)
    error = await raises(GoatError, backend.list_plugins())
    assert expected in error.line()
    want = ExitCode.AUTH if status == 403 else ExitCode.REMOTE_ERROR
    assert error.exit_code == want


async def test_gateway_text_is_sanitised(backend: GatewayBackend, gw: GatewayServer) -> None:
    gw.state.forced["GET", "/plugins"] = (
        400,
        "application/json",
        json.dumps({"error": HOSTILE}).encode(),
    )
    error = await raises(RemoteError, backend.list_plugins())
    assert "pwned" in error.line()
    assert not has_unsafe(error.line())


async def test_slow_gateway_times_out(gw: GatewayServer) -> None:
    gw.state.delay = 2
    backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, timeout=0.3, probe_timeout=0.3)
    error = await raises(TimedOut, backend.call("alpha", "echo", b"{}", timeout=0.3))
    assert error.exit_code == ExitCode.UNREACHABLE
    assert "within 0.3s" in error.line()
    await raises(TimedOut, backend.list_plugins())
    probe = await backend.probe(_info("alpha"))
    assert probe.health == Health.UNREACHABLE
    await backend.close()


async def test_connection_refused() -> None:
    backend = GatewayBackend(f"http://127.0.0.1:{free_port()}", token=ADMIN_TOKEN)
    error = await raises(Unreachable, backend.call("alpha", "echo", b"{}"))
    assert error.exit_code == ExitCode.UNREACHABLE
    assert "cannot connect to the gateway" in error.line()
    await backend.close()


async def test_result_size_limit(gw: GatewayServer) -> None:
    backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, max_message_mb=1)
    await raises(ResultTooLarge, backend.call("alpha", "big", b'{"size": 2000000}'))
    result = await backend.call("alpha", "big", b'{"size": 1000}')
    assert len(result.data) > 1000
    await backend.close()


async def test_an_endless_answer_is_refused_as_it_streams_in(gw: GatewayServer) -> None:
    """No length announced, and no end: only counting while reading can refuse it."""
    gw.state.endless = {("POST", "/plugins/alpha/call/echo"), ("GET", "/plugins")}
    backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, max_message_mb=1)
    error = await raises(ResultTooLarge, backend.call("alpha", "echo", b"{}"))
    assert "larger than the 1 MiB limit" in error.line()
    listing = await raises(ResultTooLarge, backend.list_plugins())
    assert listing.line().startswith("listing plugins: the answer is larger")
    await backend.close()


# -- widgets -----------------------------------------------------------------------------


async def test_widget_html(backend: GatewayBackend, gw: GatewayServer) -> None:
    html, ms = await backend.widget_html("alpha", "summary_widget", "summary")
    assert html == "<h2>Tickets</h2><p>42 open</p>"
    assert ms > 0 and backend.last_call_ms("alpha") == ms
    assert gw.state.requests[-1][2]["Accept"] == "text/html"
    widgets = await backend.list_widgets()
    assert widgets[0]["plugin_name"] == "alpha" and widgets[0]["refresh_sec"] == 30


async def test_widget_errors(backend: GatewayBackend, gw: GatewayServer) -> None:
    error = await raises(NotFound, backend.widget_html("alpha", "h", "nope"))
    assert "no widget 'nope'" in error.line() and "summary" in error.line()
    error = await raises(NotFound, backend.widget_html("ghost", "h", "summary"))
    assert "unknown plugin 'ghost'" in error.line()
    gw.state.widgets["alpha", "summary"] = "!error template exploded"
    error = await raises(RemoteError, backend.widget_html("alpha", "h", "summary"))
    assert error.exit_code == ExitCode.REMOTE_ERROR
    assert "Widget error: template exploded" in error.line()


# -- admin -------------------------------------------------------------------------------


async def test_enable_disable(backend: GatewayBackend, gw: GatewayServer) -> None:
    beta = next(p for p in await backend.list_plugins() if p.name == "beta")
    assert (await backend.probe(beta)).health == Health.DISABLED
    assert await backend.set_enabled("beta", True) == "enabled"
    # The cached list is dropped: the next probe sees the change at once.
    assert (await backend.probe(beta)).health == Health.ENABLED
    assert await backend.set_enabled("beta", False) == "disabled"
    await raises(NotFound, backend.set_enabled("ghost", True))


async def test_enable_needs_admin_and_write_access(gw: GatewayServer) -> None:
    user = GatewayBackend(gw.url, token=USER_TOKEN)
    error = await raises(PermissionRefused, user.set_enabled("beta", True))
    assert "admin access required" in error.line()
    read_only = GatewayBackend(gw.url, token=ADMIN_TOKEN, read_only=True)
    error = await raises(UsageError, read_only.set_enabled("beta", True))
    assert "read-only" in error.line()
    assert gw.state.count("POST", "/api/v1/plugins/beta/enable") == 1  # only the user's
    await user.close()


async def test_socket_backend_refuses_gateway_only_actions() -> None:
    sockets = SocketBackend(Sources(sockets=[], globs=[]))
    error = await raises(UsageError, sockets.set_enabled("x", True))
    assert "not available with sockets" in error.line()
    assert sockets.log_poller() is None  # sockets keep no log buffer to read
    assert sockets.last_call_ms("x") is None
    assert list(sockets.warnings) == []


# -- the token ---------------------------------------------------------------------------


async def test_token_only_in_the_authorization_header(gw: GatewayServer) -> None:
    backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, timeout=5)
    await backend.list_plugins()
    await backend.call("alpha", "echo", b"{}")
    errors = []
    for work in (backend.call("beta", "echo", b"{}"), backend.call("ghost", "echo", b"{}")):
        try:
            await work
        except GoatError as exc:
            errors.append(exc)
    gw.state.delay = 1
    try:
        await backend.call("alpha", "echo", b"{}", timeout=0.2)
    except GoatError as exc:
        errors.append(exc)
    assert len(errors) == 3
    for _method, path, headers in gw.state.requests:
        assert ADMIN_TOKEN not in path
        assert headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    shown = [repr(backend), str(backend.__dict__), *(repr(e) for e in errors)]
    shown += [e.line() for e in errors] + [str(e.__cause__) for e in errors]
    assert not any(ADMIN_TOKEN in text for text in shown)
    await backend.close()


def test_token_file_permissions(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"{ADMIN_TOKEN}\n")
    token_file.chmod(0o644)
    error = refused(read_token_file, token_file)
    assert f"chmod 600 {token_file}" in error.line()
    assert "mode 644" in error.line() and ADMIN_TOKEN not in error.line()
    token_file.chmod(0o600)
    assert read_token_file(token_file) == ADMIN_TOKEN
    error = refused(read_token_file, tmp_path / "missing")
    assert "cannot read token file" in error.line()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    empty.chmod(0o600)
    assert "is empty" in refused(read_token_file, empty).line()


def test_token_from_environment_and_its_checks() -> None:
    assert resolve_token(None, {}) is None
    assert resolve_token(None, {"GOATFLOW_TOKEN": f" {USER_TOKEN}\n"}) == USER_TOKEN
    error = refused(resolve_token, None, {"GOATFLOW_TOKEN": "two words"})
    assert "not a bearer token" in error.line() and "two words" not in error.line()


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://gf.example.com", "https://gf.example.com"),
        ("https://gf.example.com/", "https://gf.example.com"),
        ("https://gf.example.com/api/v1/", "https://gf.example.com"),
        ("http://10.0.0.5:8080/goatflow", "http://10.0.0.5:8080/goatflow"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_gateway_url_normalised(url: str, base: str) -> None:
    assert gateway_base(url) == base


def test_gateway_url_refusals() -> None:
    error = refused(gateway_base, "https://admin:hunter2@gf.example.com")
    assert "must not carry credentials" in error.line() and "hunter2" not in error.line()
    for bad in ("gf.example.com", "ftp://gf.example.com", "https://", "https://h:99999"):
        refused(gateway_base, bad)
    refused(gateway_base, "https://gf.example.com/?token=x")


def test_warnings_for_insecure_and_cleartext() -> None:
    insecure = GatewayBackend("https://gf.example.com", token="t", insecure=True)
    assert any("TLS verification is off" in w for w in insecure.warnings)
    cleartext = GatewayBackend("http://gf.example.com", token="t")
    assert any("unencrypted" in w for w in cleartext.warnings)
    assert GatewayBackend("http://127.0.0.1:1", token="t").warnings == []
    assert GatewayBackend("https://gf.example.com", token="t").warnings == []


# -- TLS ---------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls_verification(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    with GatewayServer(tls=(cert, key)) as server:
        assert server.url.startswith("https://")
        default = GatewayBackend(server.url, token=ADMIN_TOKEN)
        error = await raises(Unreachable, default.list_plugins())
        assert "not trusted" in error.line() and "--ca-cert" in error.line()
        trusted = GatewayBackend(server.url, token=ADMIN_TOKEN, ca_cert=cert)
        assert len(await trusted.list_plugins()) == 3
        insecure = GatewayBackend(server.url, token=ADMIN_TOKEN, insecure=True)
        assert len(await insecure.list_plugins()) == 3
        for b in (default, trusted, insecure):
            await b.close()
    error = refused(GatewayBackend, "https://h", ca_cert=tmp_path / "no.pem")
    assert "cannot read CA certificate" in error.line()
    refused(GatewayBackend, "https://h", ca_cert=key)
    # OpenSSL would read an endless file for ever: read against a limit first.
    endless = refused(GatewayBackend, "https://h", ca_cert="/dev/zero")
    assert "larger than the 4 MiB limit" in endless.line()


# -- contexts ----------------------------------------------------------------------------


def _config(tmp_path: Path, contexts: dict[str, dict[str, object]]) -> Config:
    return Config(contexts=contexts, path=tmp_path / "config.toml")


def test_contexts_listed_and_built(tmp_path: Path, gw: GatewayServer) -> None:
    token = tmp_path / "prod.token"
    token.write_text(ADMIN_TOKEN)
    token.chmod(0o600)
    config = _config(
        tmp_path,
        {
            "prod": {"gateway": gw.url, "token_file": "prod.token"},
            "local": {"sockets": ["/tmp/goatflow-plugin-a.sock"]},
        },
    )
    contexts = available_contexts(config)
    assert [(c.name, c.kind) for c in contexts] == [("local", "sockets"), ("prod", "gateway")]
    assert contexts[1].token_file == str(token)  # relative to the config file
    assert contexts[1].where == gw.url
    prod = backend_for_context(config, "prod", environ={"GOATFLOW_TOKEN": USER_TOKEN})
    assert isinstance(prod, GatewayBackend)
    # The context's own token file wins over the environment's token.
    assert asyncio.run(_role(prod, gw)) == ADMIN_TOKEN
    local = backend_for_context(config, "local")
    assert isinstance(local, SocketBackend)
    assert local.sources.sockets == ["/tmp/goatflow-plugin-a.sock"]
    error = refused(backend_for_context, config, "staging")
    assert error.exit_code == ExitCode.USAGE
    assert "unknown context 'staging' (known: local, prod)" in error.line()


async def _role(backend: GatewayBackend, gw: GatewayServer) -> str:
    await backend.list_plugins()
    await backend.close()
    return gw.state.requests[-1][2]["Authorization"].removeprefix("Bearer ")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"gateway": "https://h", "sockets": ["/s"]}, "not both"),
        ({}, "needs gateway"),
        ({"gateway": "https://h", "token": "x"}, "unknown key 'token'"),
        ({"sockets": "/s"}, "must be a list of strings, not a string"),
    ],
)
def test_broken_contexts(tmp_path: Path, table: dict[str, object], expected: str) -> None:
    error = refused(available_contexts, _config(tmp_path, {"x": table}))
    assert expected in error.line()


def test_select_backend(tmp_path: Path, gw: GatewayServer) -> None:
    config = _config(tmp_path, {"prod": {"gateway": gw.url}})
    env = {"GOATFLOW_URL": gw.url, "GOATFLOW_TOKEN": USER_TOKEN}
    assert select_backend(config, environ={}) is None
    assert isinstance(select_backend(config, environ=env), GatewayBackend)
    # An explicit --socket beats $GOATFLOW_URL.
    assert select_backend(config, sockets=["/s"], environ=env) is None
    assert isinstance(select_backend(config, context="prod", environ=env), GatewayBackend)
    for kwargs in (
        {"gateway": gw.url, "context": "prod"},
        {"gateway": gw.url, "sockets": ["/s"]},
        {"context": "prod", "sockets": ["/s"]},
    ):
        refused(select_backend, config, environ=env, **kwargs)


def test_no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The autouse fixture keeps the developer's gateway settings out of these tests.
    assert "GOATFLOW_URL" not in os.environ and "GOATFLOW_TOKEN" not in os.environ
