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
