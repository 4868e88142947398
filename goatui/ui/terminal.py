"""The terminal the console draws on, and what happens when it goes away.

When an SSH session drops or tmux kills the pane, the terminal hangs up: goatui gets
SIGHUP and every later write to the terminal fails (EIO). Textual writes from a thread
fed by a queue of at most 30 writes; the first failing write ended that thread, the
queue filled with the frames still being drawn while goatui stopped its plugins, and
the next write blocked the event loop for good. goatui then only left through the
signal handler's safety net (goatui.core.signals.SIGNAL_EXIT_GRACE_S), skipping the orderly
shutdown. With `TerminalOutput` a write to a terminal that has gone is dropped instead,
so the shutdown runs as it does for `q`.

`LinuxDriver._file` is private to Textual: tests/test_private_internals.py checks it is
still the stream the writer thread writes to.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.driver import Driver


class TerminalOutput:
    """A terminal's output stream whose writes are dropped once the terminal has gone."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self._file.write(text)
            except OSError:  # EIO after a hang-up, EPIPE, a closed descriptor
                self.gone = True
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except OSError:
                self.gone = True

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return self._file.isatty()


def hangup_safe(driver_class: type[Driver]) -> type[Driver]:
    """The driver Textual picked, writing through `TerminalOutput` where it can."""
    from textual.drivers.linux_driver import LinuxDriver

    if not issubclass(driver_class, LinuxDriver):
        return driver_class  # headless (tests), web, or one chosen by TEXTUAL_DRIVER

    class HangupSafeDriver(driver_class):  # type: ignore[valid-type,misc]
        _file: IO[str]

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            # Duck-typed: the driver only writes, flushes and asks fileno/isatty.
            self._file = cast(IO[str], TerminalOutput(self._file))

    return HangupSafeDriver
