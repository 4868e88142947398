"""Shared fixtures: a clean environment, and real plugin processes on real Unix sockets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from goatui.core.backends.sockets.discovery import accepts_connections

TESTS_DIR = Path(__file__).resolve().parent
TEST_PLUGIN = TESTS_DIR / "plugins" / "testplugin.py"
REPO = TESTS_DIR.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep the developer's own config, state, sockets and tokens out of every test.

    XDG_RUNTIME_DIR is a fresh private directory per test (short, under /tmp: socket
    paths stay well under the ~107-byte limit), removed afterwards: a goatui the test
    killed with SIGKILL cannot leave its goatui-* runtime dir behind.
    """
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("GOATUI_CONFIG", "GOATFLOW_PLUGIN_SOCKET", "GOATFLOW_URL", "GOATFLOW_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runtime = Path(tempfile.mkdtemp(prefix="gr-", dir="/tmp"))
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A short directory for sockets (Unix socket paths are limited to ~107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="gt-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def wait_for_socket(path: Path, process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"plugin exited with {process.returncode} before serving")
        if accepts_connections(path):
            return
        time.sleep(0.02)
    raise RuntimeError(f"plugin did not open {path} in time")


@dataclass
class RunningPlugin:
    """A test plugin process serving on `socket`."""

    name: str
    socket: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> RunningPlugin:
        env = dict(os.environ, GOATFLOW_PLUGIN_SOCKET=str(self.socket), **self.env)
        env["PYTHONPATH"] = str(REPO)
        self.process = subprocess.Popen(
            [sys.executable, str(TEST_PLUGIN)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_socket(self.socket, self.process)
        return self

    def kill(self) -> None:
        """SIGKILL: the plugin dies without cleaning up (its socket file stays)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def pause(self) -> None:
        """SIGSTOP: the plugin hangs, its socket still accepting connections."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def restart(self) -> RunningPlugin:
        self.kill()
        return self.start()


@pytest.fixture
def plugins(sock_dir: Path) -> Iterator[PluginFactory]:
    """Start real test plugins: `plugins.start("name", TESTPLUGIN_HEALTH="none")`."""
    factory = PluginFactory(sock_dir)
    yield factory
    factory.stop_all()


class PluginFactory:
    def __init__(self, sock_dir: Path) -> None:
        self.sock_dir = sock_dir
        self.running: list[RunningPlugin] = []

    def start(self, name: str = "testplugin", **env: str) -> RunningPlugin:
        plugin = RunningPlugin(
            name=name,
            socket=self.sock_dir / f"goatflow-plugin-{name}.sock",
            env={"TESTPLUGIN_NAME": name, **env},
        )
        self.running.append(plugin)
        return plugin.start()

    def stop_all(self) -> None:
        for plugin in self.running:
            if plugin.process and plugin.process.poll() is None:
                plugin.process.send_signal(signal.SIGCONT)
                plugin.kill()


# -- installed plugins (a GoatFlow plugins dir) for --launch ---------------------------

_WRAPPER = """\
import os, runpy, signal
os.environ.setdefault("TESTPLUGIN_NAME", {name!r})
for key, value in {env!r}.items():
    os.environ.setdefault(key, value)
if {stubborn!r}:
    # Ignore SIGTERM (the kit installs its own handler; keep ours instead).
    _signal = signal.signal
    signal.signal = lambda signum, handler: _signal(
        signum, signal.SIG_IGN if signum == signal.SIGTERM else handler
    )
if {say!r}:
    print({say!r}, flush=True)
runpy.run_path({plugin!r}, run_name="__main__")
"""


class PluginsDir:
    """DIR/<name>/{manifest.json, plugin.py}: test plugins installed as GoatFlow does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(
        self,
        name: str,
        *,
        stubborn: bool = False,
        plugin_type: str = "grpc",
        say: str = "",
        **env: str,
    ) -> Path:
        """Install a test plugin; `say` is printed to its stdout as it starts."""
        directory = self.root / name
        directory.mkdir()
        (directory / "plugin.py").write_text(
            _WRAPPER.format(name=name, env=env, stubborn=stubborn, say=say, plugin=str(TEST_PLUGIN))
        )
        manifest = {
            "name": name,
            "version": "9.9.9",
            "type": plugin_type,
            "grpc": {"binary": "plugin.py", "health_check": True},
        }
        (directory / "manifest.json").write_text(json.dumps(manifest))
        return directory


@pytest.fixture
def plugins_dir(tmp_path: Path) -> PluginsDir:
    """An empty plugins dir; `plugins_dir.add("alpha")` installs a test plugin."""
    return PluginsDir(tmp_path / "plugins")


# -- the console (goatui.ui) -----------------------------------------------------------

# For tests that watch states change: probe often, back off little.
FAST_MONITOR: dict[str, float] = {
    "interval": 0.5,
    "discover_interval": 1.0,
    "max_backoff": 1.0,
    "probe_deadline": 2.0,
}
# For the rest: the first probe is immediate; later ones would only keep the app busy
# (Pilot waits for an idle app after every key).
QUIET_MONITOR: dict[str, float] = {"interval": 5.0, "discover_interval": 5.0}


def console_session(*sockets: Path | str, read_only: bool = False) -> Any:
    """A Session on explicit sockets (no globs: nothing outside the test is found)."""
    from goatui.core.backends.sockets.backend import SocketBackend
    from goatui.core.backends.sockets.discovery import Sources
    from goatui.core.config import Config
    from goatui.core.session import Session

    backend = SocketBackend(Sources(sockets=[str(s) for s in sockets]), probe_timeout=0.5)
    return Session(backend=backend, config=Config(), read_only=read_only)


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


async def _eventually(
    condition: Callable[[], object], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll condition until it is true; fail after timeout (a functional deadline)."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:g}s")
        await asyncio.sleep(0.02)


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """`await eventually(lambda: state.health == SERVING, 3, "serving")`."""
    return _eventually


@pytest.fixture(scope="module")
def module_plugins() -> Iterator[PluginFactory]:
    """Like `plugins`, but shared by a module's tests: for plugins the tests only read."""
    path = Path(tempfile.mkdtemp(prefix="gt-", dir="/tmp"))
    factory = PluginFactory(path)
    yield factory
    factory.stop_all()
    shutil.rmtree(path, ignore_errors=True)


class Ran(NamedTuple):
    """What an in-process run of main() gave: unpacks as (code, stdout, stderr) too."""

    returncode: int
    stdout: str
    stderr: str


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


def run_goatui(
    *args: str,
    stdin: str | None = None,
    timeout: float = 60,
    prefix: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """goatui as its own process (`python -m goatui`), without colour."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "goatui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, NO_COLOR="1", **(env or {})),
    )


def one_line(result: subprocess.CompletedProcess[str] | str) -> str:
    """The one clean line goatui writes to stderr on an error (never a traceback)."""
    stderr = result if isinstance(result, str) else result.stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("goatui: ") and "Traceback" not in stderr
    return lines[0]


# -- a real HTTP gateway on 127.0.0.1 (tests/gateway_server.py) --------------------------


@pytest.fixture
def gw() -> Iterator[Any]:
    from gateway_server import GatewayServer

    with GatewayServer() as server:
        yield server


@pytest.fixture
async def backend(gw: Any) -> AsyncIterator[Any]:
    """goatui's GatewayBackend on `gw`, with the admin token."""
    from gateway_server import ADMIN_TOKEN

    from goatui.core.backends.gateway.rest import GatewayBackend

    b = GatewayBackend(gw.url, token=ADMIN_TOKEN, timeout=5)
    yield b
    await b.close()
