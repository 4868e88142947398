"""However the console ends, nothing is left behind and the terminal is restored.

`goatui demo` runs in a real terminal (a private tmux server), inside
`bash -c 'goatui demo; echo DONE $?'`, and is ended each way an operator or the system
ends it: q, Ctrl-C, SIGTERM, SIGHUP (the SSH session dropping) and tmux kill-session
(which hangs up the pane). Then: no demo plugin process (by pid, from /proc), no
goatui-* runtime dir under this test's private XDG_RUNTIME_DIR, and (where the pane
lives on) the shell is back with the alternate screen off.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.processes import alive, children_of, cmdline, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

GOATUI = Path(sys.executable).parent / "goatui"
DEMO_PLUGINS = ("analytics", "flaky", "inventory")


class Run:
    """`goatui demo` in a tmux pane on a private server, its plugins known by pid."""

    def __init__(self) -> None:
        self.runtime = Path(os.environ["XDG_RUNTIME_DIR"])
        self.tmux_dir = Path(tempfile.mkdtemp(prefix="gx-", dir="/tmp"))
        self.server = f"exit{os.getpid()}"
        inner = f"{shlex.quote(str(GOATUI))} demo; echo DONE $?; exec sleep 60"
        self.tmux(
            "new-session", "-d", "-s", "T", "-x", "120", "-y", "40", f"bash -c {shlex.quote(inner)}"
        )
        self.bash = int(self.tmux("display", "-p", "-t", "T", "#{pane_pid}").strip())
        wait_until(lambda: self._goatui() is not None, "goatui started")
        goatui = self._goatui()
        assert goatui is not None
        self.goatui = goatui
        wait_until(lambda: len(self._plugins()) == 3, "three demo plugins running")
        self.plugins = self._plugins()
        # Fully up: the plugins probed (ending it mid-mount is another matter, see
        # docs/RELIABILITY.md).
        wait_until(lambda: "SERVING" in self.screen(), "the console showing the plugins")
        time.sleep(0.5)

    def tmux(self, *args: str) -> str:
        env = dict(os.environ, TMUX_TMPDIR=str(self.tmux_dir))
        env.pop("TMUX", None)
        done = subprocess.run(
            ["tmux", "-L", self.server, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return done.stdout

    def _goatui(self) -> int | None:
        return next((p for p in children_of(self.bash) if "demo" in cmdline(p)), None)

    def _plugins(self) -> list[int]:
        pids = children_of(self.goatui)
        return [p for p in pids if any(f"plugins/{n}/" in cmdline(p) for n in DEMO_PLUGINS)]

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "T")

    def runtime_dirs(self) -> list[Path]:
        return list(self.runtime.glob("goatui-*"))

    def assert_nothing_left(self) -> None:
        wait_until(lambda: not alive(self.goatui), "goatui gone")
        wait_until(lambda: not any(alive(p) for p in self.plugins), "demo plugins gone", 10)
        assert self.runtime_dirs() == []

    def assert_terminal_restored(self) -> str:
        wait_until(lambda: "DONE" in self.screen(), "the shell after goatui")
        assert self.tmux("display", "-p", "-t", "T", "#{alternate_on}").strip() == "0"
        screen = self.screen()
        done = next(line for line in screen.splitlines() if "DONE" in line)
        assert done.startswith("DONE"), screen  # nothing printed before it
        return done

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.server, "kill-server"],
            capture_output=True,
            env=dict(os.environ, TMUX_TMPDIR=str(self.tmux_dir)),
        )
        shutil.rmtree(self.tmux_dir, ignore_errors=True)


@pytest.fixture
def demo() -> Iterator[Run]:
    run = Run()
    try:
        assert len(run.runtime_dirs()) == 1  # the run made its own dir where we look
        yield run
    finally:
        run.close()


@pytest.mark.parametrize(("key", "code"), [("q", 0), ("C-c", 0)])
def test_keys_end_the_console_cleanly(demo: Run, key: str, code: int) -> None:
    demo.tmux("send-keys", "-t", "T", key)
    done = demo.assert_terminal_restored()
    assert done.strip() == f"DONE {code}", demo.screen()
    demo.assert_nothing_left()


@pytest.mark.parametrize(("signum", "code"), [(15, 143), (1, 129)], ids=["TERM", "HUP"])
def test_signals_end_the_console_cleanly(demo: Run, signum: int, code: int) -> None:
    """SIGTERM, and SIGHUP as when the SSH session drops: 128 + the signal, cleaned up."""
    os.kill(demo.goatui, signum)
    done = demo.assert_terminal_restored()
    assert done.strip() == f"DONE {code}", demo.screen()
    demo.assert_nothing_left()


def test_killing_the_terminal_leaves_nothing(demo: Run) -> None:
    """tmux kill-session hangs up the pane's terminal: goatui gets SIGHUP. It must end by
    the orderly shutdown, well before the 8 s safety net (SIGNAL_EXIT_GRACE_S) would end
    it anyway: that would hide a lost fix for writes to a hung-up terminal."""
    demo.tmux("kill-session", "-t", "T")
    wait_until(lambda: not alive(demo.goatui), "goatui gone after the hang-up", 4)
    demo.assert_nothing_left()
