"""`goatui demo --no-ui`: real demo plugin processes, and nothing left behind after any ending."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.processes import children_of, cmdline, wait_gone


def start_demo() -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "goatui", "demo", "--no-ui"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sockets: dict[str, str] = {}
    assert process.stdout is not None
    while len(sockets) < 3:
        line = process.stdout.readline()
        assert line, f"demo ended early: {process.stderr.read() if process.stderr else ''}"
        name, target = line.strip().split("\t")
        sockets[name] = target
    return process, sockets


def test_demo_plugins_serve_and_are_listed() -> None:
    process, sockets = start_demo()
    try:
        assert set(sockets) == {"analytics", "flaky", "inventory"}
        args = [arg for target in sockets.values() for arg in ("--socket", target)]
        demo_dir = Path(__file__).resolve().parent.parent / "goatui" / "demo" / "plugins"
        result = subprocess.run(
            [sys.executable, "-m", "goatui", "ls", "--json", "--plugins-dir", str(demo_dir), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        rows = {row["name"]: row for row in json.loads(result.stdout)}
        assert rows["analytics"]["health"] == "SERVING"
        assert rows["analytics"]["manifest"] == "plugins-dir"
        assert rows["flaky"]["manifest"] == "plugin"
        assert rows["inventory"]["health"] == "UNKNOWN"
        result = subprocess.run(
            [sys.executable, "-m", "goatui", "call", "analytics", "list_reports", *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert next(r["id"] for r in json.loads(result.stdout)) == "ticket-volume"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(15)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_demo_leaves_nothing_behind(signum: int) -> None:
    process, sockets = start_demo()
    runtime_dir = Path(next(iter(sockets.values())).removeprefix("unix://")).parent
    family = children_of(process.pid)  # the plugins and the runtime dir's watchdog
    assert sum("demo/plugins/" in cmdline(p) for p in family) == 3
    process.send_signal(signum)
    assert process.wait(15) == 128 + signum
    assert wait_gone(family) == []
    assert not runtime_dir.exists()


def test_demo_leaves_nothing_behind_when_killed() -> None:
    """SIGKILL (goatui cannot clean up): the plugins die of their parent-death signal and
    the runtime dir's watchdog removes the dir, then ends itself."""
    process, sockets = start_demo()
    runtime_dir = Path(next(iter(sockets.values())).removeprefix("unix://")).parent
    family = children_of(process.pid)
    process.kill()
    process.wait(15)
    assert wait_gone(family) == []
    assert not runtime_dir.exists()
