"""Shared fixtures: a clean environment, and real plugin processes on real Unix sockets."""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import helpers.console
import pytest
from helpers.cli import Ran
from helpers.console import FAST_MONITOR, QUIET_MONITOR, console_session
from helpers.plugins import PluginFactory, PluginsDir, RunningPlugin

from goatui.core.secrets import forget_secrets


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep the developer's own config, state, sockets and tokens out of every test.

    XDG_RUNTIME_DIR is a fresh private directory per test (short, under /tmp: socket
    paths stay well under the ~107-byte limit), removed afterwards: a goatui the test
    killed with SIGKILL cannot leave its goatui-* runtime dir behind.
    """
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # compiled WASM modules
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("GOATUI_CONFIG", "GOATFLOW_PLUGIN_SOCKET", "GOATFLOW_URL", "GOATFLOW_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runtime = Path(tempfile.mkdtemp(prefix="gr-", dir="/tmp"))
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield
    shutil.rmtree(runtime, ignore_errors=True)
    # Tokens a test registered are scrubbed for the rest of the process otherwise.
    forget_secrets()


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A short directory for sockets (Unix socket paths are limited to ~107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="gt-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def plugins(sock_dir: Path) -> Iterator[PluginFactory]:
    """Start real test plugins: `plugins.start("name", TESTPLUGIN_HEALTH="none")`."""
    factory = PluginFactory(sock_dir)
    yield factory
    factory.stop_all()


# -- installed plugins (a GoatFlow plugins dir) for --launch ---------------------------


@pytest.fixture
def plugins_dir(tmp_path: Path) -> PluginsDir:
    """An empty plugins dir; `plugins_dir.add("alpha")` installs a test plugin."""
    return PluginsDir(tmp_path / "plugins")


# -- the console (goatui.ui) -----------------------------------------------------------


@pytest.fixture
def make_console() -> Callable[..., Any]:
    """Build the console app on running plugins: `make_console(alpha, read_only=True)`.

    `fast=True` for tests that wait for a state to change; `clock` freezes the
    monitor's clock (snapshots); other keywords tune the monitor.
    """

    def make(
        *running: RunningPlugin | Path | str,
        read_only: bool = False,
        fast: bool = False,
        clock: Callable[[], float] | None = None,
        **monitor: Any,
    ) -> Any:
        from goatui.core.monitor import PluginMonitor
        from goatui.ui.app import GoatApp

        sockets = [p.socket if isinstance(p, RunningPlugin) else p for p in running]
        session = console_session(*sockets, read_only=read_only)
        options: dict[str, Any] = {**(FAST_MONITOR if fast else QUIET_MONITOR), **monitor}
        if clock is not None:
            options["clock"] = clock
        return GoatApp(session, monitor=PluginMonitor(session.backend, **options))

    return make


ALPHA_MANIFEST = {
    "name": "alpha",
    "routes": [
        {"method": "POST", "path": "/echo", "handler": "echo"},
        {"method": "POST", "path": "/fail", "handler": "fail"},
    ],
    "permissions": ["cache:read"],
}


@pytest.fixture(scope="module")
def alpha(module_plugins: Any) -> Any:
    """One plugin process shared by the tests that do not change or stop it."""
    manifest = module_plugins.sock_dir / "manifest.json"
    manifest.write_text(json.dumps(ALPHA_MANIFEST))
    return module_plugins.start("alpha", TESTPLUGIN_MANIFEST=str(manifest))


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    """A manifest naming the test plugin's handlers (for completion and the detail pane)."""
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps(
            {
                "name": "testplugin",
                "routes": [
                    {"method": "POST", "path": "/echo", "handler": "echo"},
                    {"method": "POST", "path": "/fail", "handler": "fail"},
                    {"method": "POST", "path": "/slow", "handler": "slow"},
                ],
                "widgets": [{"id": "w", "title": "W", "handler": "widget_json"}],
                "jobs": [{"id": "j", "schedule": "*/5 * * * *", "handler": "text"}],
                "permissions": ["cache:read"],
            }
        )
    )
    return path


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """`await eventually(lambda: state.health == SERVING, 3, "serving")`."""
    return helpers.console.eventually


@pytest.fixture(scope="module")
def module_plugins() -> Iterator[PluginFactory]:
    """Like `plugins`, but shared by a module's tests: for plugins the tests only read."""
    path = Path(tempfile.mkdtemp(prefix="gt-", dir="/tmp"))
    factory = PluginFactory(path)
    yield factory
    factory.stop_all()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def tmux() -> Iterator[Any]:
    """One private tmux server for every end-to-end test (a session each)."""
    from helpers.terminal import TmuxServer

    server = TmuxServer()
    yield server
    server.close()


@pytest.fixture
def cli(capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[..., Ran]]:
    """Run goatui's main() in-process (no interpreter start-up per call), its output read
    at the file descriptors; pytest's own SIGTERM and SIGHUP handlers restored after."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}

    def run(*args: str) -> Ran:
        from goatui.cli import main

        try:
            code = main(list(args))
        except SystemExit as exit:
            code = int(exit.code or 0)
        out, err = capfd.readouterr()
        return Ran(code, out, err)

    yield run
    for signum, handler in saved.items():
        signal.signal(signum, handler)


# -- a real HTTP gateway on 127.0.0.1 (tests/helpers/gateway_server.py) --------------------------


@pytest.fixture
def gw() -> Iterator[Any]:
    from helpers.gateway_server import GatewayServer

    with GatewayServer() as server:
        yield server


@pytest.fixture
async def backend(gw: Any) -> AsyncIterator[Any]:
    """goatui's GatewayBackend on `gw`, with the admin token."""
    from helpers.gateway_server import ADMIN_TOKEN

    from goatui.core.backends.gateway.rest import GatewayBackend

    b = GatewayBackend(gw.url, token=ADMIN_TOKEN, timeout=5)
    yield b
    await b.close()
