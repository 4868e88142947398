"""Gateway mode against GoatFlow as it really runs (GATEWAY_API.md, "How the real server
behaves"), on a real HTTP server on 127.0.0.1 (tests/helpers/gateway_server.py): sign-in
with tokens that live a second, refresh without admin rights, `gf_` tokens, lazy plugins
that load on a call (under another name), the list in random order, 404 widgets,
`{"error"}` and empty results, jobs without `enabled`.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Ran, one_line, run_goatui
from helpers.gateway_server import (
    ADMIN_TOKEN,
    API_TOKEN,
    LOGIN_ATTEMPTS,
    PASSWORD,
    GatewayServer,
    User,
    plugin_entry,
)

from goatui.core.backends.gateway.rest import GatewayBackend
from goatui.core.backends.gateway.store import SignInStore, sign_ins_dir
from goatui.core.errors import ExitCode, PermissionRefused
from goatui.core.models import Health

CLI = Callable[..., Ran]
LIFETIME = 1.0  # seconds a token lives here (GoatFlow: 900)


@pytest.fixture
def gw() -> Iterator[GatewayServer]:
    with GatewayServer() as server:
        server.state.token_lifetime = LIFETIME
        yield server


@pytest.fixture
def cli(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """conftest's in-process CLI, with `stdin=` text for the one run."""

    def run(*args: str, stdin: str = "") -> Ran:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stdin", io.StringIO(stdin))
            return cli(*args)

    return run


def login(cli: CLI, gw: GatewayServer, user: str = "ops", password: str = PASSWORD) -> Ran:
    return cli(
        "--gateway", gw.url, "login", "--user", user, "--password-stdin", stdin=password + "\n"
    )


def issued_tokens(gw: GatewayServer) -> list[str]:
    """Every token the server handed out: access and refresh tokens."""
    with gw.state.lock:
        return [*gw.state.access_tokens, *gw.state.refresh_tokens]


def stored(gw: GatewayServer) -> dict[str, Any]:
    path = SignInStore().path_for(gw.url)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def until_expired(gw: GatewayServer) -> None:
    """Wait (with a deadline) until every token the server issued has expired."""
    from goatui.core.backends.gateway.auth import token_claims

    with gw.state.lock:
        last = gw.state.access_tokens[-1]
    expiry = float(token_claims(last)["exp"])
    deadline = time.monotonic() + LIFETIME + 5
    while time.time() <= expiry:
        assert time.monotonic() < deadline, "the token did not expire"
        time.sleep(0.02)


# -- sign-in ---------------------------------------------------------------------------


def test_login_stores_a_private_sign_in_that_every_command_uses(
    gw: GatewayServer, cli: CLI
) -> None:
    gw.state.token_lifetime = 30  # not about expiry: no refresh however slow the run
    url = ("--gateway", gw.url)
    code, _, err = cli(*url, "ls")
    assert code == 4 and "the gateway needs a sign-in" in one_line(err)
    assert f"goatui login --gateway {gw.url}" in err

    assert login(cli, gw) == (0, f"signed in to {gw.url} as ops (an admin)\n", "")
    path = SignInStore().path_for(gw.url)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sign_ins_dir().stat().st_mode) == 0o700
    document = stored(gw)
    assert (document["gateway"], document["user"], document["admin"]) == (gw.url, "ops", True)
    assert PASSWORD not in path.read_text()

    code, out, err = cli(*url, "ls")
    assert (code, err) == (0, "") and "alpha" in out
    assert gw.state.issued == [("login", "ops", True)]

    path.chmod(0o644)  # someone loosened it: refused like a token file, nothing sent
    code, _, err = cli(*url, "ls")
    assert code == 2 and "stored sign-in" in one_line(err) and "chmod 600" in err
    path.chmod(0o600)

    assert cli(*url, "logout") == (
        0,
        f"signed out of {gw.url}: its stored sign-in is forgotten\n",
        "",
    )
    assert not path.exists()
    assert cli(*url, "ls")[0] == 4
    code, _, err = cli(*url, "logout")
    assert code == 0 and "not signed in" in err


def test_a_password_the_gateway_echoes_is_never_shown(gw: GatewayServer, cli: CLI) -> None:
    """A careless server quoting the password in its refusal: said as ***."""
    gw.state.forced[("POST", "/auth/login")] = (
        401,
        "application/json",
        b'{"error": "no user with password {password}"}',
    )
    code, out, err = login(cli, gw, password="s3cr3t-Pass")
    assert code == 4 and "no user with password ***" in one_line(err), err
    assert "s3cr3t-Pass" not in out + err


def test_login_refusals(gw: GatewayServer, cli: CLI) -> None:
    url = ("--gateway", gw.url)
    gw.state.users["gone"] = User("gone", disabled=True)
    code, out, err = login(cli, gw, password="wrong")
    assert (code, out) == (4, "")
    assert "GoatFlow refused the login or the password (Invalid credentials)" in one_line(err)
    code, _, err = login(cli, gw, user="gone")
    assert code == 4 and "the account is disabled (User account is disabled)" in one_line(err)
    for _ in range(LOGIN_ATTEMPTS):
        login(cli, gw, password="wrong")
    code, _, err = login(cli, gw)  # the right password, but too late
    assert code == 4 and "too many failed sign-ins" in one_line(err)
    # Nothing was sent for these: the password never comes from argv or a guess.
    before = len(gw.state.requests)
    code, _, err = cli(*url, "login", "--user", "ops", "--password", PASSWORD)
    assert code == 2 and PASSWORD not in err and "never taken on the command line" in err
    code, _, err = cli(*url, "login", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "pass --user LOGIN" in one_line(err)
    code, _, err = cli(*url, "login", "--user", "ops")  # stdin is no terminal
    assert code == 2 and "--password-stdin" in one_line(err)
    code, _, err = cli("login", "--user", "ops", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "needs a gateway" in one_line(err)
    assert len(gw.state.requests) == before


def test_explicit_tokens_win_over_the_sign_in(
    gw: GatewayServer, cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw.state.token_lifetime = 30  # not about refreshing
    assert login(cli, gw, user="dev")[0] == 0
    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    assert cli("--gateway", gw.url, "logs")[0] == 0  # admin: the environment's token
    token_file = tmp_path / "t"
    token_file.write_text(API_TOKEN)
    token_file.chmod(0o600)
    code, _, err = cli("--gateway", gw.url, "ls", "--token-file", str(token_file))
    assert code == 4  # the file's, before the environment's
    assert "personal API token (gf_...)" in one_line(err) and "goatui login" in err
    monkeypatch.delenv("GOATFLOW_TOKEN")
    code, _, err = cli("--gateway", gw.url, "logs")
    assert code == 4 and "dev is not a GoatFlow admin" in one_line(err)
    # Signing in while a token is set says which one is used.
    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    code, _, err = login(cli, gw)
    assert code == 0 and "is used before this sign-in" in err


def test_a_personal_api_token_is_named_as_such(
    gw: GatewayServer, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOATFLOW_TOKEN", API_TOKEN)
    code, out, err = cli("--gateway", gw.url, "call", "alpha", "echo")
    assert (code, out) == (4, "")
    assert one_line(err) == (
        "goatui: call echo: GoatFlow's plugin API takes only sign-in tokens (JWTs), and the "
        "token in $GOATFLOW_TOKEN is a personal API token (gf_...), which it refuses; sign in: "
        f"goatui login --gateway {gw.url}"
    )


# -- refresh ---------------------------------------------------------------------------


def test_refresh_before_expiry_stored_again_and_admin_lost(gw: GatewayServer, cli: CLI) -> None:
    url = ("--gateway", gw.url)
    assert login(cli, gw)[0] == 0
    first = stored(gw)["access_token"]
    until_expired(gw)
    code, out, _ = cli(*url, "call", "alpha", "echo", '{"n": 1}')
    assert (code, json.loads(out)) == (0, {"n": 1})
    assert gw.state.issued[:2] == [("login", "ops", True), ("refresh", "ops", False)]
    # Refreshed before the call was sent: GoatFlow never saw the expired token.
    paths = [path for _, path, _ in gw.state.requests]
    assert paths[:3] == [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/plugins/alpha/call/echo",
    ]
    document = stored(gw)
    assert document["access_token"] != first and document["refreshed"] is True
    assert document["admin"] is False
    # GoatFlow's refreshed tokens carry no admin rights: said exactly, with the fix.
    for args in (("logs",), ("disable", "alpha", "--yes")):
        code, _, err = cli(*url, *args)
        assert code == 4, args
        assert "admin access required, and the token GoatFlow issued at the last refresh" in err
        assert f"sign in again to have them: goatui login --gateway {gw.url}" in one_line(err)
    gw.state.token_lifetime = 30  # so the new sign-in's admin token is not refreshed away
    assert login(cli, gw)[0] == 0
    assert cli(*url, "logs")[0] == 0


async def expired(gw: GatewayServer) -> None:
    """until_expired, for a test that runs an event loop."""
    await asyncio.to_thread(until_expired, gw)


async def test_a_401_refreshes_once_for_everyone_and_resends(gw: GatewayServer) -> None:
    backend = GatewayBackend(gw.url, store=SignInStore(), timeout=5)
    try:
        status = await backend.sign_in("ops", PASSWORD)
        assert (status.kind, status.user, status.admin) == ("sign-in", "ops", True)
        keeper = backend._keeper
        assert keeper.credentials is not None
        keeper.credentials.expires_at = None  # goatui does not know when it expires
        await expired(gw)
        gw.state.token_lifetime = 30  # the refreshed one outlives the test, however slow
        results = await asyncio.gather(
            *(backend.call("alpha", "echo", b'{"n": %d}' % n) for n in range(8))
        )
        assert [json.loads(r.data) for r in results] == [{"n": n} for n in range(8)]
        assert [kind for kind, _, _ in gw.state.issued] == ["login", "refresh"]
        assert gw.state.count("POST", "/api/v1/auth/refresh") == 1
        assert backend.sign_in_status()[0].problem == ""
    finally:
        await backend.close()


async def test_refresh_refused_signs_out_and_a_new_sign_in_is_adopted(gw: GatewayServer) -> None:
    backend = GatewayBackend(gw.url, store=SignInStore(), timeout=5)
    elsewhere = GatewayBackend(gw.url, store=SignInStore(), timeout=5)  # another goatui
    try:
        await backend.sign_in("ops", PASSWORD)
        assert len(await backend.list_plugins()) == 3
        with gw.state.lock:
            gw.state.refresh_tokens.clear()  # GoatFlow restarted, say
        await expired(gw)
        with pytest.raises(PermissionRefused) as info:
            await backend.list_plugins()
        assert info.value.exit_code == ExitCode.AUTH
        assert "signed out: the sign-in of ops expired and GoatFlow refused to refresh it" in (
            info.value.line()
        )
        [status] = backend.sign_in_status()
        assert status.problem.startswith("signed out") and status.describe() == "signed out"
        sent = len(gw.state.requests)
        with pytest.raises(PermissionRefused):
            await backend.call("alpha", "echo", b"{}")
        assert len(gw.state.requests) == sent  # signed out: nothing is sent
        await elsewhere.sign_in("ops", PASSWORD)
        assert len(await backend.list_plugins()) == 3  # picked up from the store
        assert backend.sign_in_status()[0].problem == ""
    finally:
        await backend.close()
        await elsewhere.close()


async def test_admin_rights_come_back_with_a_sign_in_made_elsewhere(gw: GatewayServer) -> None:
    """`logs -f` (or the console) after the refresh took admin rights away: a `goatui
    login` in another terminal gives them back, with nothing else to do."""
    backend = GatewayBackend(gw.url, store=SignInStore(), timeout=5)
    elsewhere = GatewayBackend(gw.url, store=SignInStore(), timeout=5)
    try:
        await backend.sign_in("ops", PASSWORD)
        await expired(gw)
        with pytest.raises(PermissionRefused, match="issued at the last refresh"):
            await backend.fetch_logs()
        assert backend.sign_in_status()[0].admin_lost
        gw.state.token_lifetime = 30
        await elsewhere.sign_in("ops", PASSWORD)
        assert (await backend.fetch_logs()).entries == []
        assert not backend.sign_in_status()[0].admin_lost
    finally:
        await backend.close()
        await elsewhere.close()


def test_secrets_stay_out_of_output_files_and_argv(gw: GatewayServer, cli: CLI) -> None:
    """Tokens and the password only in requests and the 0600 store: real processes for
    the sign-in and a refresh, in-process runs (the same code) for the rest."""
    env = {"XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}
    url = ("--gateway", gw.url)
    runs = [run_goatui(*url, "login", "--user", "ops", "--password-stdin", stdin=PASSWORD, env=env)]
    until_expired(gw)
    runs.append(run_goatui(*url, "ls", env=env))
    outputs = [r.stdout + r.stderr for r in runs]
    for args in (("call", "alpha", "plugin_error"), ("logs",), ("call", "ghost", "x")):
        code, out, err = cli(*url, *args)
        assert code in (1, 2, 4), args
        outputs.append(out + err)
    assert [r.returncode for r in runs] == [0, 0]
    assert [kind for kind, _, _ in gw.state.issued][:2] == ["login", "refresh"]
    secrets = [PASSWORD, *issued_tokens(gw)]
    assert len(secrets) >= 4  # the password, two access tokens, the refresh token
    assert not any(s in output for s in secrets for output in outputs)
    assert not any(s in " ".join(map(str, r.args)) for s in secrets for r in runs)
    store = SignInStore().path_for(gw.url)
    files = [p for p in Path(os.environ["XDG_STATE_HOME"]).rglob("*") if p.is_file()]
    assert store in files and any(p.name == "audit.jsonl" for p in files)
    for path in files:
        text = path.read_text()
        assert PASSWORD not in text, path
        assert path == store or not any(s in text for s in secrets), path
    assert all(s not in path for _, path, _ in gw.state.requests for s in secrets)


# -- lazy plugins, order, widgets, results, jobs ----------------------------------------


async def test_lazy_plugin_loaded_by_a_call_keeps_its_row(gw: GatewayServer) -> None:
    gw.state.loads_as["lazy"] = plugin_entry("lazy-renamed", version="2.0.0")
    backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, timeout=5)
    try:
        orders = [[p.name for p in await backend.list_plugins()] for _ in range(5)]
        assert orders == [["alpha", "beta", "lazy"]] * 5  # whatever order GoatFlow sends
        lazy = (await backend.list_plugins())[2]
        assert (lazy.loaded, lazy.manifest, lazy.key) == (False, None, "")
        assert (await backend.probe(lazy)).health is Health.NOT_LOADED
        result = await backend.call("lazy", "echo", b'{"load": true}')
        assert json.loads(result.data) == {"load": True}
        infos = {p.name: p for p in await backend.list_plugins()}
        assert list(infos) == ["alpha", "beta", "lazy-renamed"]
        renamed = infos["lazy-renamed"]
        assert renamed.loaded and renamed.version == "2.0.0" and renamed.manifest is not None
        assert renamed.key == lazy.target  # the same row as before it loaded
        assert (await backend.probe(lazy)).health is Health.ENABLED  # its old name too
        assert json.loads((await backend.call("lazy", "echo", b"[1]")).data) == [1]
    finally:
        await backend.close()


def test_cli_lazy_plugins_widgets_results_and_jobs(
    gw: GatewayServer, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    url = ("--gateway", gw.url)
    code, out, _ = cli(*url, "ls")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["alpha", "beta", "lazy"]
    assert "NOT_LOADED" in out and "not loaded yet: GoatFlow loads it on first use" in out
    code, out, _ = cli(*url, "health", "alpha", "lazy")
    assert code == 0 and "up: not loaded yet" in out
    assert cli(*url, "health", "alpha", "lazy", "--require-loaded")[0] == 1

    code, _, err = cli(*url, "widget", "beta", "summary")
    assert code == 1 and "the plugin is disabled on the gateway" in one_line(err)
    code, _, err = cli(*url, "widget", "lazy", "summary")
    assert code == 1
    assert "plugin 'lazy' is not loaded yet; call any of its handlers to load it" in one_line(err)
    with gw.state.lock:  # loaded meanwhile, but GoatFlow still says "Plugin not found"
        gw.state.plugins["lazy"]["loaded"] = False
        gw.state.forced["GET", "/plugins/lazy/widgets/summary"] = (
            404,
            "text/plain",
            b"Plugin not found: lazy",
        )
    code, _, err = cli(*url, "jobs", "lazy")
    assert code == 1 and "not loaded yet" in one_line(err)

    code, out, err = cli(*url, "call", "alpha", "plugin_error", '{"message": "quota"}')
    assert (code, out) == (1, "")
    assert "call plugin_error of alpha: the plugin answered with an error: quota" in one_line(err)
    code, out, _ = cli(*url, "call", "alpha", "plugin_error", "--raw")
    assert (code, json.loads(out)) == (0, {"error": "it failed"})
    assert cli(*url, "call", "alpha", "empty") == (0, "", "goatui: (empty result)\n")

    # GoatFlow lists every job with `enabled`: false when the manifest leaves it out.
    code, out, _ = cli(*url, "jobs", "alpha", "--json")
    [job] = json.loads(out)
    assert (job["enabled"], job["next_run"]) == (False, None)
    assert job["disabled_reason"] == "enabled is false or not set"
    code, out, err = cli(*url, "jobs")
    assert "not loaded yet, so their jobs are not known: lazy" in err
    assert all(line.split()[-1] == "no" or "ENABLED" in line for line in out.splitlines())


# -- the console, left running past several expiries -------------------------------------


async def test_console_outlives_the_token_lazy_rows_and_signs_in_again(
    gw: GatewayServer, eventually: Any
) -> None:
    from helpers.console import FAST_MONITOR, SIZE, notifications, plain
    from textual.widgets import Input, Static

    from goatui.core.config import Config
    from goatui.core.monitor import PluginMonitor
    from goatui.core.session import Session
    from goatui.ui.app import GoatApp
    from goatui.ui.screens.sign_in import SignInScreen
    from goatui.ui.views.plugins import PluginsView

    gw.state.loads_as["lazy"] = plugin_entry("lazy-renamed")
    signer = GatewayBackend(gw.url, store=SignInStore(), timeout=5)
    await signer.sign_in("ops", PASSWORD)  # as `goatui login` does
    await signer.close()
    backend = GatewayBackend(gw.url, store=SignInStore(), timeout=5, probe_timeout=2)
    app = GoatApp(
        Session(backend=backend, config=Config()), monitor=PluginMonitor(backend, **FAST_MONITOR)
    )

    def logged() -> list[str]:
        return [e.message for e in app.ctx.session.logs]

    def notice() -> str:
        widget = app.query_one("#sign-in-notice", Static)
        return plain(widget) if widget.display else ""

    def health(name: str) -> str:
        state = app.ctx.monitor.get(name)
        return state.status if state is not None else ""

    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: health("alpha") == "ENABLED", 5, "alpha listed")
        assert " · ops" in app.sub_title  # who is signed in (admin until the refresh)
        # A GoatFlow whose refreshed tokens keep admin rights: the console lists and the
        # Logs view tails past several expiries, with nothing for the operator to do.
        gw.state.refresh_keeps_admin = True
        app.show_view("logs")
        for n in range(3):
            gw.state.log("alpha", "info", f"entry {n}")
            issued = len(gw.state.issued)
            await eventually(lambda i=issued: len(gw.state.issued) > i, 5, f"refresh {n}")
        await eventually(lambda: {"entry 0", "entry 1", "entry 2"} <= set(logged()), 5, "tail")
        assert all(t.new == "ENABLED" for t in app.ctx.monitor.get("alpha").history)  # type: ignore[union-attr]

        # The operator is on the lazy plugin's row when a call loads it (another name).
        app.show_view("plugins")
        table = app.query_one(PluginsView).table
        lazy_key = app.ctx.monitor.get("lazy").key  # type: ignore[union-attr]
        table.move_cursor(row=table.rows.index(lazy_key))
        await app.ctx.backend.call("lazy", "echo", b"{}")
        await pilot.press("r")  # the next listing, now
        await eventually(lambda: health("lazy-renamed") == "ENABLED", 8, "loaded, renamed")
        await pilot.pause()
        assert len(app.ctx.monitor.states) == 3 and table.selected_key == lazy_key
        assert app.query_one(PluginsView).selected().name == "lazy-renamed"  # type: ignore[union-attr]

        # GoatFlow as it is: the next refreshed token has no admin rights, which the
        # Logs view meets: one notice, in one place, with the key; no toast per poll.
        gw.state.refresh_keeps_admin = False
        await eventually(lambda: "admin rights lost" in notice(), 6, "the admin notice")
        assert "press L" in notice() and health("alpha") == "ENABLED"
        assert not any("admin" in n for n in notifications(app))
        await pilot.press("L")
        await eventually(lambda: isinstance(app.screen, SignInScreen), 5, "sign-in screen")
        app.screen.query_one("#sign-in-password", Input).value = PASSWORD
        assert PASSWORD not in app.export_screenshot()  # masked
        await pilot.press("enter")
        await eventually(lambda: not isinstance(app.screen, SignInScreen), 5, "signed in")
        await eventually(lambda: notice() == "", 3, "notice gone")

        # No way left to a token: said once, with the key; no toast per plugin.
        with gw.state.lock:
            gw.state.refresh_tokens.clear()
        await eventually(lambda: "signed out" in notice(), 5, "signed out")
        await eventually(lambda: health("alpha") == "UNKNOWN", 5, "rows unknown")
        assert "signed out" in app.sub_title
        assert not any("UNKNOWN" in n for n in notifications(app))
        await pilot.press("L")
        await eventually(lambda: isinstance(app.screen, SignInScreen), 5, "sign-in screen")
        app.screen.query_one("#sign-in-password", Input).value = PASSWORD
        await pilot.press("enter")
        await eventually(lambda: health("alpha") == "ENABLED", 5, "listed again")
        await pilot.pause()
        assert notice() == ""
        assert not any("UNKNOWN" in n for n in notifications(app))  # nor on the way back
        await pilot.press("q")
