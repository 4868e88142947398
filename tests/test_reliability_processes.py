"""However a command ends (a signal, SIGKILL), goatui's processes and directories go with it.

Real goatui processes on real plugin processes: what is checked is what the kernel
says (exit status, /proc) and what is left in the test's private XDG_RUNTIME_DIR.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.plugins import PluginFactory
from helpers.processes import lines_until

GOATUI = [sys.executable, "-m", "goatui"]


def runtime_dirs() -> list[Path]:
    return sorted(Path(os.environ["XDG_RUNTIME_DIR"]).glob("goatui-*"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_an_attached_command_through_the_event_loop(
    plugins: PluginFactory, signum: int
) -> None:
    """`logs -f --attach-host` used to die of SIGSEGV here (exit 139, runtime dir left):
    the old handler raised KeyboardInterrupt inside grpc.aio's poller."""
    alpha = plugins.start("alpha")
    process = subprocess.Popen(
        [*GOATUI, "logs", "-f", "--json", "--attach-host", "--socket", str(alpha.socket)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        lines_until(process.stdout, lambda line: json.loads(line)["message"] == "host attached")
        assert len(runtime_dirs()) == 1
        process.send_signal(signum)
        assert process.wait(15) == 128 + signum
        stderr = process.stderr.read()
    finally:
        process.kill()
        process.wait()
    assert "Traceback" not in stderr and "goatui is now the host of alpha" in stderr
    assert runtime_dirs() == []


def test_runtime_dirs_of_dead_goatuis_are_removed_at_the_next_start() -> None:
    """Only dirs of this user's goatui processes that are gone (by pid and start time)."""
    from goatui.core.hosting.runtime import OWNER_FILE, RuntimeDir, process_identity

    base = Path(os.environ["XDG_RUNTIME_DIR"])
    code = "import os; print(os.getpid())"
    ended = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    me = process_identity(os.getpid())
    assert me is not None

    def made_by(name: str, owner: str | None) -> Path:
        directory = base / name
        directory.mkdir(mode=0o700)
        (directory / "app.sock").touch()
        if owner is not None:
            (directory / OWNER_FILE).write_text(owner + "\n")
        return directory

    dead = made_by("goatui-dead", f"{ended.stdout.strip()} 12345")
    reused = made_by("goatui-reused", f"{os.getpid()} 1")  # this pid, another start time
    alive = made_by("goatui-alive", me)
    unknown = made_by("goatui-unknown", None)  # no record: being made, or an older goatui
    other = made_by("other-dead", f"{ended.stdout.strip()} 12345")
    linked = base / "goatui-link"
    linked.symlink_to(made_by("elsewhere", f"{ended.stdout.strip()} 12345"))
    # Another user's (root can make one): never ours to judge.
    theirs = made_by("goatui-theirs", f"{ended.stdout.strip()} 12345")
    if os.getuid() == 0:
        os.chown(theirs, 65534, 65534)
    runtime = RuntimeDir()
    try:
        assert not dead.exists() and not reused.exists()
        assert alive.exists() and unknown.exists() and other.exists() and linked.exists()
        assert theirs.exists() is (os.getuid() == 0)
        assert (base / "elsewhere" / "app.sock").exists()  # a symlink is not followed
        assert (runtime.path / OWNER_FILE).read_text() == me + "\n"
    finally:
        runtime.remove()
    assert not runtime.path.exists()
