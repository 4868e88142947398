"""One run of an async job at a time, shared by every caller that asks meanwhile.

`asyncio.shield(task)` per caller was the first way of sharing a gateway's plugin list
among the probes of every plugin. Each shield adds a callback to the shared task, and a
caller that gives up (a probe deadline, the console closing) removes its callback by
searching the task's list of them: with N callers giving up, N searches of N entries.
At 60,000 plugins that was most of a minute (issue #18). Here each caller waits on a
future of its own, kept in a set: giving up costs O(1), and the job's outcome is handed
to the callers still waiting in one pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """`await flight.run(make)`: runs make() unless a run is in flight, then shares it.

    A caller that is cancelled stops waiting without cancelling the run for the others;
    `cancel()` ends the run itself (its waiters get CancelledError).
    """

    def __init__(self) -> None:
        self._task: asyncio.Task[T] | None = None
        self._waiters: set[asyncio.Future[T]] = set()

    @property
    def in_flight(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def waiting(self) -> int:
        """How many callers wait for the run in flight."""
        return len(self._waiters)

    async def run(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            # Each run tells its own waiters. A run that has just ended has not told
            # them yet (done-callbacks run a step later); a caller in between starts a
            # new run, and must not take the old one's waiters with it. A run left in
            # another event loop (the CLI and the console each run their own) keeps its
            # waiters there, where nothing awaits them any more.
            waiters: set[asyncio.Future[T]] = set()
            task = loop.create_task(make())
            task.add_done_callback(partial(_tell, waiters))
            self._task, self._waiters = task, waiters
        waiters = self._waiters
        waiter: asyncio.Future[T] = loop.create_future()
        waiters.add(waiter)
        try:
            return await waiter
        finally:
            waiters.discard(waiter)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()  # its waiters are told when it ends


def _tell(waiters: set[asyncio.Future[T]], task: asyncio.Task[T]) -> None:
    """A run ended: its outcome to every caller still waiting for it, in one pass."""
    if task.cancelled():
        for waiter in list(waiters):
            waiter.cancel()
        return
    error = task.exception()  # retrieved here, so never "never retrieved"
    for waiter in list(waiters):
        if waiter.done():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(task.result())
