"""End to end: the installed `goatui` console in a real terminal (tmux) on real plugins."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

GOATUI = Path(sys.executable).parent / "goatui"


class Terminal:
    """A tmux session on a private server (never the developer's own tmux)."""

    def __init__(self, command: str) -> None:
        self.server = f"goatui-e2e-{os.getpid()}"
        self._tmux("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", command)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            # -f /dev/null: no tmux.conf (a configured size or key table would leak in).
            ["tmux", "-L", self.server, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "e2e")

    def keys(self, *keys: str) -> None:
        """Key names (Tab, C-r) are keys; anything else is typed as it is."""
        self._tmux("send-keys", "-t", "e2e", *keys)

    def wait_for(self, seen: Callable[[str], bool], what: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if seen(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not on screen within {timeout:g}s:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True)


@pytest.fixture
def terminal() -> Iterator[Callable[[str], Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(command: str) -> Terminal:
        opened.append(Terminal(command))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.close()


def test_invoke_a_plugin_from_the_installed_console(
    plugins: Any, terminal: Callable[[str], Terminal]
) -> None:
    assert GOATUI.exists(), "goatui is not installed in this environment"
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    env = " ".join(
        f"{name}={shlex.quote(os.environ[name])}"
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "HOME")
    )
    command = (
        f"env -u COLUMNS -u LINES {env} TERM=xterm-256color {shlex.quote(str(GOATUI))} "
        f"--socket {alpha.socket} --socket {beta.socket}; echo GOATUI-EXIT=$?; sleep 30"
    )
    term = terminal(command)

    term.wait_for(
        lambda s: "alpha" in s and "beta" in s and s.count("● SERVING") >= 2, "both serving"
    )
    term.keys("Down")  # rows are by name: alpha, then beta
    term.keys("i")
    # The footer lists the function field's own keys once that field has focus.
    term.wait_for(lambda s: "beta" in function_line(s) and "Older call" in s, "the function field")
    # All at once, as a laggy link delivers them: each key must act in the order typed
    # (the Deletes empty the args editor's "{}" only if Tab has moved focus first).
    term.keys("echo", "Tab", "Delete", "Delete", '{"from": "e2e"}', "C-r")
    # The status and the result's lines may reach the terminal in separate frames.
    term.wait_for(
        lambda s: '"from": "e2e"' in s.partition("OK · beta.echo")[2], "the call's result"
    )

    term.keys("Escape")
    term.wait_for(lambda s: "In state" in s, "back on the plugins table")
    term.keys("q")
    term.wait_for(lambda s: "GOATUI-EXIT=0" in s, "a clean exit")


def function_line(screen: str) -> str:
    """The Invoke view's plugin-and-function line (the one with the select's arrow)."""
    return next((line.rstrip() for line in screen.splitlines() if "▼" in line), "")
