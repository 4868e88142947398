"""--launch: goatui starts plugins as GoatFlow does, hosts them, and leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.processes import (
    alive,
    cmdline,
    descendants_of,
    lines_until,
    parent_of,
    wait_gone,
    wait_until,
)

from goatui.cli.common import build_session
from goatui.cli.parser import build_parser
from goatui.core.config import Config
from goatui.core.errors import UsageError
from goatui.core.session import Session

GOATUI = [sys.executable, "-m", "goatui"]


def launch_session(plugins_dir: Path, *extra: str, config: Config | None = None) -> Session:
    options = build_parser().parse_args(
        ["--launch", "--plugins-dir", str(plugins_dir), *extra, "ls"]
    )
    return build_session(options, config or Config())


async def call(session: Session, plugin: str, function: str, args: dict[str, Any]) -> Any:
    result = await session.backend.call(plugin, function, json.dumps(args).encode())
    return json.loads(result.data)


async def until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_launch_hosts_captures_output_and_cleans_up(plugins_dir) -> None:
    plugins_dir.add("alpha")
    plugins_dir.add("beta")
    plugins_dir.add("webby", plugin_type="wasm")  # GoatFlow would not start it either
    session = launch_session(plugins_dir.root)
    await session.start()
    try:
        assert session.problems == []
        assert session.launcher is not None and session.runtime is not None
        assert set(session.launcher.plugins) == {"alpha", "beta"}
        runtime = session.runtime.path
        assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
        for launched in session.launcher.plugins.values():
            assert launched.socket.parent == runtime
        # Launched plugins get the host without being asked: goatui is their host.
        assert await call(session, "alpha", "has_host", {}) == {"host": True}
        assert set(session.attached) == {"alpha", "beta"}
        assert not session.notices  # nothing was taken from GoatFlow
        await call(session, "beta", "emit", {"count": 3})
        await until(
            lambda: sum(e.plugin == "beta" and e.level == "stderr" for e in session.logs) == 3
        )
        beta = [e for e in session.logs if e.plugin == "beta"]
        assert [e.message for e in beta if e.level == "stdout" and e.message.startswith("out")] == [
            "out 0",
            "out 1",
            "out 2",
        ]
        assert [e.message for e in beta if e.level == "stderr"] == ["err 0", "err 1", "err 2"]
        pids = [p.pid for p in session.launcher.plugins.values() if p.pid]
    finally:
        await session.close()
    assert wait_gone(pids) == []
    assert not runtime.exists()


async def test_exit_restart_and_stop(plugins_dir) -> None:
    plugins_dir.add("alpha")
    plugins_dir.add("stubborn", stubborn=True)
    session = launch_session(plugins_dir.root)
    session.enable_launching().stop_grace = 0.3
    await session.start()
    try:
        assert session.launcher is not None
        alpha = session.launcher.plugins["alpha"]
        first_pid = alpha.pid
        await call(session, "alpha", "crash", {"code": 3})
        await until(lambda: alpha.exit_code == 3)
        assert not alpha.running
        exited = [e for e in session.logs if e.plugin == "alpha" and "exited" in e.message]
        assert exited and exited[-1].level == "error" and "code 3" in exited[-1].message
        assert "alpha" not in session.attached

        restarted = await session.restart_plugin("alpha")
        assert restarted.running and restarted.pid != first_pid
        assert await call(session, "alpha", "has_host", {}) == {"host": True}

        # A grandchild in the plugin's process group goes with it.
        grandchild = (await call(session, "alpha", "spawn", {}))["pid"]
        assert alive(grandchild)
        await session.stop_plugin("alpha")
        assert not restarted.running
        assert wait_gone([grandchild, restarted.pid or 0]) == []

        # SIGTERM ignored: SIGKILL after the grace period.
        stubborn = session.launcher.plugins["stubborn"]
        started = time.monotonic()
        await session.stop_plugin("stubborn")
        assert stubborn.exit_code == -signal.SIGKILL
        assert time.monotonic() - started < 3
        with pytest.raises(UsageError):
            await session.restart_plugin("nonesuch")
    finally:
        await session.close()


def test_launch_needs_a_plugins_dir_with_grpc_plugins(plugins_dir) -> None:
    with pytest.raises(UsageError, match="--plugins-dir"):
        build_session(build_parser().parse_args(["--launch", "ls"]), Config())
    plugins_dir.add("webby", plugin_type="wasm")
    with pytest.raises(UsageError, match="no grpc plugin"):
        launch_session(plugins_dir.root)


# -- goatui as a process: every way it ends ------------------------------------------------


def start_following(plugins_dir: Path) -> tuple[subprocess.Popen[str], Path, list[int]]:
    """`goatui logs -f --launch` with its plugins attached; returns it, its runtime dir and
    every process it started (its plugins, what they started, the runtime dir's watchdog)."""
    process = subprocess.Popen(
        [*GOATUI, "logs", "-f", "--json", "--launch", "--plugins-dir", str(plugins_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, NO_COLOR="1"),
    )
    assert process.stdout is not None
    attached: dict[str, str] = {}

    def all_attached(line: str) -> bool:
        entry = json.loads(line)
        assert set(entry) == {"timestamp", "plugin", "level", "message", "fields"}
        if entry["message"] == "host attached":
            attached[entry["plugin"]] = entry["fields"]["address"]
        return len(attached) == len(list(plugins_dir.iterdir()))

    try:
        lines_until(process.stdout, all_attached)
    except AssertionError:
        process.kill()
        process.wait()
        raise
    address = next(iter(attached.values()))
    runtime = Path(address.removeprefix("unix://")).parent.parent
    return process, runtime, descendants_of(process.pid)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_no_orphans_when_goatui_is_told_to_stop(plugins_dir, signum: int) -> None:
    """Ctrl-C and SIGTERM (a plugin ignoring SIGTERM: see test_exit_restart_and_stop)."""
    plugins_dir.add("alpha")
    plugins_dir.add("beta")
    process, runtime, family = start_following(plugins_dir.root)
    try:
        assert sum(str(plugins_dir.root) in cmdline(p) for p in family) == 2
        assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
        process.send_signal(signum)
        assert process.wait(15) == 128 + signum
    finally:
        process.kill()
        process.wait()
    assert wait_gone(family) == []  # the watchdog too
    assert not runtime.exists()


def test_no_orphans_and_no_runtime_dir_when_goatui_is_killed(plugins_dir) -> None:
    """SIGKILL: the parent-death signal ends each plugin; the runtime dir's watchdog kills
    what is left in its process group (beta's wrapper script does not exec, so beta runs
    as the wrapper's child, which the parent-death signal misses) and removes the dir."""
    plugins_dir.add("alpha")
    plugins_dir.add("beta", shell_wrapper=True)
    process, runtime, family = start_following(plugins_dir.root)
    try:
        wrapped = [p for p in family if "beta/plugin.py" in cmdline(p)]
        assert len(wrapped) == 1 and "beta/plugin.sh" in cmdline(parent_of(wrapped[0]))
    finally:
        process.kill()
        process.wait()
    assert wait_gone(family) == []
    wait_until(lambda: not runtime.exists(), "the runtime dir removed")


async def test_demo_plugins_get_the_host() -> None:
    """`goatui demo` launches through the same Session: its plugins' Log calls arrive."""
    from goatui.cli.cmd_demo import demo_session

    options = build_parser().parse_args(["demo", "--no-ui"])
    session = demo_session(options, Config())
    await session.start()
    try:
        assert session.problems == []
        assert set(session.attached) == {"analytics", "flaky", "inventory"}
        await session.backend.call("inventory", "reindex", b"{}")
        await until(lambda: any(e.message == "reindex done" for e in session.logs))
        done = next(e for e in session.logs if e.message == "reindex done")
        assert done.plugin == "inventory" and done.fields == {"assets": "4"}
    finally:
        await session.close()


# -- the death-signal shim ahead of every launched plugin ----------------------------------


def test_the_shim_becomes_the_plugin_with_the_death_signal_set() -> None:
    from goatui.core.hosting.launcher import with_death_signal

    # The "plugin" asks the kernel for its parent-death signal (PR_GET_PDEATHSIG).
    probe = (
        "import ctypes, os, signal; v = ctypes.c_int(); "
        "ctypes.CDLL(None).prctl(2, ctypes.byref(v), 0, 0, 0); print(v.value, os.getpid())"
    )
    process = subprocess.Popen(
        with_death_signal([sys.executable, "-c", probe]), stdout=subprocess.PIPE, text=True
    )
    out, _ = process.communicate(timeout=30)
    signum, pid = map(int, out.split())
    assert signum == signal.SIGKILL and pid == process.pid  # the shim exec'd in place


def test_the_shim_says_what_it_could_not_run_and_never_runs_orphaned(tmp_path: Path) -> None:
    from goatui.core.hosting.launcher import with_death_signal

    missing = str(tmp_path / "nope")
    done = subprocess.run(with_death_signal([missing]), capture_output=True, text=True, timeout=30)
    assert done.returncode == 127
    assert done.stderr.strip() == f"goatui: cannot run {missing}: No such file or directory"
    argv = with_death_signal([sys.executable, "-c", "print('ran')"])
    argv[argv.index(str(os.getpid()))] = "1"  # as if goatui had died before it began
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (1, "")
