"""A terminal that hangs up must not stop the console's shutdown (goatui.ui.terminal).

Textual writes to the terminal from a thread fed by a queue of 30 writes. After a
hang-up every write fails (EIO); the first failure ended that thread, the queue filled,
and the next write blocked the event loop for good.
"""

from __future__ import annotations

import os
import pty
import threading

import pytest
from textual.drivers._writer_thread import WriterThread
from textual.drivers.headless_driver import HeadlessDriver
from textual.drivers.linux_driver import LinuxDriver

from goatui.ui.terminal import TerminalOutput, hangup_safe

FRAMES = 200  # far more than Textual's queue holds


def write_frames_after_hangup(output: object, wait: float) -> tuple[bool, WriterThread]:
    """Textual's writer thread on a pty whose terminal side has gone; whether FRAMES
    writes and the thread's stop all returned."""
    master, slave = pty.openpty()
    writer = WriterThread(output(os.fdopen(slave, "w")))  # type: ignore[operator]
    writer.start()
    os.close(master)  # the terminal hangs up: writes to the slave now fail with EIO
    finished = threading.Event()

    def frames() -> None:
        for _ in range(FRAMES):
            writer.write("\x1b[H" + "x" * 4_000)
        writer.stop()
        finished.set()

    threading.Thread(target=frames, daemon=True).start()
    return finished.wait(wait), writer


def test_writes_to_a_hung_up_terminal_never_block() -> None:
    outputs: list[TerminalOutput] = []

    def output(file: object) -> TerminalOutput:
        outputs.append(TerminalOutput(file))  # type: ignore[arg-type]
        return outputs[-1]

    # Well under the console's 8 s safety net (SIGNAL_EXIT_GRACE_S), which would hide a
    # lost fix; the frames take milliseconds once writes are dropped.
    finished, writer = write_frames_after_hangup(output, wait=3)
    assert finished, "a write to the hung-up terminal blocked"
    assert outputs[0].gone and not writer.is_alive()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_without_it_textuals_writer_blocks() -> None:
    """The failure mode itself, so the test above cannot pass for another reason (the
    blocked writing thread is a daemon, left behind)."""
    finished, writer = write_frames_after_hangup(lambda file: file, wait=3)
    assert not finished and not writer.is_alive()


def test_the_console_uses_it_on_a_terminal_only() -> None:
    safe = hangup_safe(LinuxDriver)
    assert issubclass(safe, LinuxDriver) and safe is not LinuxDriver
    assert hangup_safe(HeadlessDriver) is HeadlessDriver
