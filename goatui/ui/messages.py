"""Messages that cross views (the ones a single widget sends are nested in that widget)."""

from __future__ import annotations

from textual.message import Message

from goatui.core.monitor import Transition


class PluginsChanged(Message, bubble=False):
    """Some plugin's state changed; read the monitor for what.

    Carries nothing, so a burst collapses into one: a queued PluginsChanged is replaced
    by the next one before the view redraws.
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PluginsChanged)


class PluginTransition(Message, bubble=False):
    """A plugin changed state (after its first probe): the app raises a toast for it."""

    def __init__(self, name: str, transition: Transition) -> None:
        super().__init__()
        self.name = name
        self.transition = transition


class RefreshRequested(Message, bubble=False):
    """The operator pressed `r`: the active view reloads what it shows."""
