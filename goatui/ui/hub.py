"""Fans the monitor's callbacks out to widgets as messages.

The monitor calls back inside its probe tasks; the hub only posts messages (cheap, never
blocks) so widgets update in their own message loops, coalescing bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual.app import App
from textual.message_pump import MessagePump

from goatui.core.monitor import PENDING, PluginMonitor, PluginState, Transition
from goatui.ui.messages import PluginsChanged, PluginTransition

# Updates that change no state (a probe's latency) reach the widgets at most this often:
# the first of a burst at once, the rest together at the end of the interval. With 100
# plugins probed every 2 s, one message per probe redrew the table ~50 times a second
# (issue #9). A change of state goes out at once.
NOTIFY_INTERVAL_S = 0.5


class MonitorHub:
    def __init__(self, monitor: PluginMonitor, app: App[Any]) -> None:
        self.monitor = monitor
        self._app = app
        self._widgets: list[MessagePump] = []
        self._unsubscribe = monitor.subscribe(self._on_update)
        self._last_notified = float("-inf")
        self._pending: asyncio.TimerHandle | None = None

    def rebind(self, monitor: PluginMonitor) -> None:
        """Follow another monitor (after a context switch); every widget redraws."""
        self._unsubscribe()
        self.monitor = monitor
        self._unsubscribe = monitor.subscribe(self._on_update)
        for widget in list(self._widgets):
            widget.post_message(PluginsChanged())

    def subscribe(self, widget: MessagePump) -> None:
        """Post PluginsChanged to widget after every monitor update."""
        if widget not in self._widgets:
            self._widgets.append(widget)

    def unsubscribe(self, widget: MessagePump) -> None:
        if widget in self._widgets:
            self._widgets.remove(widget)

    def _on_update(self, state: PluginState, transition: Transition | None) -> None:
        if transition is not None:
            self._post()  # a change of state is news: shown at once, not paced
        else:
            self._notify()
        # A plugin's first state is not news; later changes are.
        if transition is not None and transition.old != PENDING:
            self._app.post_message(PluginTransition(state.name, transition))

    def _notify(self) -> None:
        if self._pending is not None:
            return  # the end of the interval will tell them
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a test feeding the monitor by hand): at once
            self._post()
            return
        wait = self._last_notified + NOTIFY_INTERVAL_S - loop.time()
        if wait <= 0:
            self._post()
        else:
            self._pending = loop.call_later(wait, self._post)

    def _post(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        with contextlib.suppress(RuntimeError):  # no loop: nothing to pace
            self._last_notified = asyncio.get_running_loop().time()
        for widget in list(self._widgets):
            widget.post_message(PluginsChanged())
