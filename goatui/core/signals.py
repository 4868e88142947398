"""Signals end a run through its event loop, never by an exception at an arbitrary point.

SIGTERM, SIGHUP (the SSH session dropping) and, for commands, SIGINT (Ctrl-C) end goatui
the way its own exit does: the handler only asks the event loop to stop (the console
exits, a command's task is cancelled), so launched plugins are stopped, host endpoints
closed and the runtime dir removed, in order; the exit code is 128 + the signal's number
(130, 143, 129). Raising KeyboardInterrupt from the handler instead lands wherever the
main thread happens to be: inside grpc.aio's poller that crashed Python 3.11 (SIGSEGV,
exit 139, the runtime dir left behind; issue #18).

Python-level handlers (signal.signal), not loop.add_signal_handler: they run even while
the loop is stuck (the main thread runs them between bytecodes or on EINTR). Should the
run not end within a grace period, a thread cleans up without the loop (`abandon`:
children, sockets, runtime dir) and exits with the signal's code.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType

#: How long an orderly end may take after a signal before goatui exits without it.
SIGNAL_EXIT_GRACE_S = 8.0
#: What ends a command; the console reads Ctrl-C as a key, so it only takes these two.
CONSOLE_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
COMMAND_SIGNALS = (signal.SIGINT, *CONSOLE_SIGNALS)


def exit_code_of(signum: int) -> int:
    """The shell's convention for a process ended by a signal."""
    return 128 + signum


class SignalExit:
    """Around `asyncio.run(...)`: signals reach the loop as `on_signal(signum)`.

    Enter it before the loop starts and leave it after the loop is gone, so a signal
    during the loop's own shutdown is still covered by the safety net. Inside the loop,
    `deliver_to(callback)` says what a signal does there (once: a second signal only
    waits for the first to take effect, or for the safety net).
    """

    def __init__(
        self,
        abandon: Callable[[], None] | None = None,
        signals: Iterable[int] = COMMAND_SIGNALS,
        grace: float = SIGNAL_EXIT_GRACE_S,
    ) -> None:
        self.abandon = abandon
        self.signals = tuple(signals)
        self.grace = grace
        #: The first signal that arrived, if any.
        self.received: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_signal: Callable[[int], object] | None = None
        self._delivered = False
        self._previous: dict[int, object] = {}
        self._timer: threading.Timer | None = None

    @property
    def exit_code(self) -> int | None:
        return exit_code_of(self.received) if self.received is not None else None

    def __enter__(self) -> SignalExit:
        # A signal ignored when goatui started stays ignored (`nohup goatui logs -f`).
        self._previous = {
            s: signal.signal(s, self._handle)
            for s in self.signals
            if signal.getsignal(s) is not signal.SIG_IGN
        }
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        if self._timer is not None:
            self._timer.cancel()

    def deliver_to(self, on_signal: Callable[[int], object]) -> None:
        """From inside the running loop: what a signal does (one that came early, now)."""
        self._loop = asyncio.get_running_loop()
        self._on_signal = on_signal
        if self.received is not None:
            self._deliver()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = signum
        # Not loop.call_later: a stuck loop never runs it.
        self._timer = threading.Timer(self.grace, self._force_exit)
        self._timer.daemon = True
        self._timer.start()
        self._deliver()

    def _deliver(self) -> None:
        loop, on_signal = self._loop, self._on_signal
        if self._delivered or loop is None or on_signal is None or loop.is_closed():
            return  # before the loop: deliver_to() passes it on; after it: ending anyway
        self._delivered = True
        assert self.received is not None
        loop.call_soon_threadsafe(on_signal, self.received)

    def _force_exit(self) -> None:
        assert self.received is not None
        if self.abandon is not None:
            self.abandon()
        os._exit(exit_code_of(self.received))
