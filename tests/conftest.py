"""Shared fixtures: a clean environment, and real plugin processes on real Unix sockets."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
TEST_PLUGIN = TESTS_DIR / "plugins" / "testplugin.py"
REPO = TESTS_DIR.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own config, state, sockets and tokens out of every test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("GOATUI_CONFIG", "GOATFLOW_PLUGIN_SOCKET", "GOATFLOW_URL", "GOATFLOW_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


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
        if path.exists():
            probe = socket.socket(socket.AF_UNIX)
            try:
                probe.connect(str(path))
                return
            except OSError:
                pass
            finally:
                probe.close()
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
