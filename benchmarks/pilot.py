"""Key-to-screen latency with Textual's pilot: from a key press to the screen update that
shows its effect.

Textual renders a screen update (the compositor's work: every changed line drawn) and
hands it to `App._display`, which a headless app skips writing. `ScreenWatch` wraps that
hand-over and notes the first update at which a condition holds, e.g. "the cursor is on
row 5": the key's latency is from posting the key to that update. Imports Textual: use
it only in the benchmark subprocesses that run a console.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App

Condition = Callable[[], bool]


class ScreenWatch:
    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.updates = 0
        self._waiting: list[tuple[Condition, asyncio.Future[float]]] = []
        shown = app._display

        def display(screen: Any, renderable: Any) -> None:
            shown(screen, renderable)
            if renderable is None:
                return
            self.updates += 1
            now = time.perf_counter()
            for entry in list(self._waiting):
                condition, answer = entry
                if not answer.done() and condition():
                    answer.set_result(now)
                    self._waiting.remove(entry)

        app._display = display  # type: ignore[method-assign]

    async def shown(self, condition: Condition, timeout: float = 10.0) -> float:
        """When the first screen update at which condition holds was rendered."""
        answer: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append((condition, answer))
        return await asyncio.wait_for(answer, timeout)

    async def key(self, key: str, condition: Condition, timeout: float = 10.0) -> float:
        """Seconds from pressing key until a screen update shows condition."""
        started = time.perf_counter()
        waiting = asyncio.ensure_future(self.shown(condition, timeout))
        press(self.app, key)
        return await waiting - started


def console_app(session: Any) -> Any:
    """The console as `run_console` builds it, after what the CLI does to the collector
    once its imports are done (`gc.freeze`): the pilot measures the real program."""
    import gc

    from goatui.ui.app import GoatApp

    gc.freeze()
    return GoatApp(session, lazy_views=True, keep_long_lived=True)


def press(app: App[Any], key: str) -> None:
    """Post one key event the way the pilot does, without waiting for the app to idle."""
    character = key if len(key) == 1 else None
    event = events.Key(key, character)
    event.set_sender(app)
    assert app._driver is not None
    app._driver.send_message(event)


def summary(samples: list[float]) -> dict[str, float]:
    """Milliseconds: median, 95th percentile and worst."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": p95 * 1000,
        "max_ms": ordered[-1] * 1000,
        "count": float(len(ordered)),
    }
