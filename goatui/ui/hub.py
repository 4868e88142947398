"""Fans the monitor's callbacks out to widgets as messages.

The monitor calls back inside its probe tasks; the hub only posts messages (cheap, never
blocks) so widgets update in their own message loops, coalescing bursts.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.message_pump import MessagePump

from goatui.core.monitor import PENDING, PluginMonitor, PluginState, Transition
from goatui.ui.messages import PluginsChanged, PluginTransition


class MonitorHub:
    def __init__(self, monitor: PluginMonitor, app: App[Any]) -> None:
        self.monitor = monitor
        self._app = app
        self._widgets: list[MessagePump] = []
        monitor.subscribe(self._on_update)

    def subscribe(self, widget: MessagePump) -> None:
        """Post PluginsChanged to widget after every monitor update."""
        if widget not in self._widgets:
            self._widgets.append(widget)

    def unsubscribe(self, widget: MessagePump) -> None:
        if widget in self._widgets:
            self._widgets.remove(widget)

    def _on_update(self, state: PluginState, transition: Transition | None) -> None:
        for widget in list(self._widgets):
            widget.post_message(PluginsChanged())
        # A plugin's first state is not news; later changes are.
        if transition is not None and transition.old != PENDING:
            self._app.post_message(PluginTransition(state.name, transition))
