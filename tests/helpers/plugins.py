"""Real test plugins: processes serving gRPC on Unix sockets, and GoatFlow plugin dirs."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from goatui.core.backends.sockets.discovery import accepts_connections

TESTS_DIR = Path(__file__).resolve().parent.parent
TEST_PLUGIN = TESTS_DIR / "plugins" / "testplugin.py"
REPO = TESTS_DIR.parent


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

    def start_fleet(self, name: str, count: int, **env: str) -> RunningPlugin:
        """count plugins NAME-1 … NAME-count served by one process (testplugin's
        TESTPLUGIN_FLEET); `socket` is the last one's, opened once all are."""
        plugin = RunningPlugin(
            name=name,
            socket=self.sock_dir / f"goatflow-plugin-{name}-{count}.sock",
            env={"TESTPLUGIN_NAME": name, "TESTPLUGIN_FLEET": str(count), **env},
        )
        self.running.append(plugin)
        return plugin.start()

    def stop_all(self) -> None:
        for plugin in self.running:
            if plugin.process and plugin.process.poll() is None:
                plugin.process.send_signal(signal.SIGCONT)
                plugin.kill()


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

# A wrapper script that starts the plugin as its child and waits (no exec): killing the
# wrapper alone leaves the plugin running.
_SHELL_WRAPPER = """\
#!/bin/sh
{python} {plugin}
exit $?
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
        shell_wrapper: bool = False,
        **env: str,
    ) -> Path:
        """Install a test plugin; `say` is printed to its stdout as it starts;
        `shell_wrapper`: its binary is a shell script that runs it as a child."""
        directory = self.root / name
        directory.mkdir()
        (directory / "plugin.py").write_text(
            _WRAPPER.format(name=name, env=env, stubborn=stubborn, say=say, plugin=str(TEST_PLUGIN))
        )
        binary = "plugin.py"
        if shell_wrapper:
            binary = "plugin.sh"
            script = directory / binary
            script.write_text(
                _SHELL_WRAPPER.format(
                    python=shlex.quote(sys.executable),
                    plugin=shlex.quote(str(directory / "plugin.py")),
                )
            )
            script.chmod(0o755)
        manifest = {
            "name": name,
            "version": "9.9.9",
            "type": plugin_type,
            "grpc": {"binary": binary, "health_check": True},
        }
        (directory / "manifest.json").write_text(json.dumps(manifest))
        return directory
