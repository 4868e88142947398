"""The installed `goatui` in a real terminal: tmux on a private server, never the
developer's own (`-L`, and `-f /dev/null` so no tmux.conf leaks a size or a key table)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

GOATUI = Path(sys.executable).parent / "goatui"
# What a goatui started in tmux keeps from the test's environment (tests/conftest.py
# points these at the test's own directories).
KEPT_ENV = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "HOME")


def goatui_command(*args: str, env: Mapping[str, str] | None = None) -> str:
    """A shell line running the installed goatui with args, then saying its exit code."""
    assert GOATUI.exists(), "goatui is not installed in this environment"
    values = {name: os.environ[name] for name in KEPT_ENV if name in os.environ}
    values.update(env or {})
    assigned = " ".join(f"{name}={shlex.quote(value)}" for name, value in values.items())
    words = " ".join(shlex.quote(a) for a in (str(GOATUI), *args))
    return (
        f"env -u COLUMNS -u LINES {assigned} TERM=xterm-256color {words}; "
        "echo GOATUI-EXIT=$?; sleep 30"
    )


class TmuxServer:
    """One private tmux server; each `Terminal` is a session of its own on it."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"goatui-e2e-{os.getpid()}"
        self._count = 0

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.name, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return done.stdout

    def open(self, command: str, size: tuple[int, int] = (120, 40)) -> Terminal:
        self._count += 1
        session = f"t{self._count}"
        width, height = size
        self.tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command)
        return Terminal(self, session)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.name, "kill-server"], capture_output=True, timeout=10)


class Terminal:
    """One tmux session: what it shows, and keys sent to it."""

    def __init__(self, server: TmuxServer, session: str) -> None:
        self.server = server
        self.session = session

    def screen(self) -> str:
        return self.server.tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        """Key names (Tab, C-r) are keys; anything else is typed as it is."""
        self.server.tmux("send-keys", "-t", self.session, *keys)

    def wait_for(self, seen: Callable[[str], bool], what: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        # Lines shown for a while meanwhile (toasts expire): said if the wait fails.
        passing: dict[str, None] = {}
        while True:
            screen = self.screen()
            if seen(screen):
                return screen
            if time.monotonic() > deadline:
                # Not rows whose clock ticked: lines whose start is on screen no more.
                starts = {line.strip()[:24] for line in screen.splitlines()}
                gone = [line for line in passing if line[:24] not in starts][-20:]
                meanwhile = "\nshown meanwhile:\n" + "\n".join(gone) if gone else ""
                raise AssertionError(
                    f"{what} not on screen within {timeout:g}s:\n{screen}{meanwhile}"
                )
            passing.update(dict.fromkeys(line.strip() for line in screen.splitlines()))
            time.sleep(0.1)

    def close(self) -> None:
        """End the session (and goatui in it, by SIGHUP: it cleans up as on q)."""
        subprocess.run(
            ["tmux", "-L", self.server.name, "kill-session", "-t", self.session],
            capture_output=True,
            timeout=10,
        )
