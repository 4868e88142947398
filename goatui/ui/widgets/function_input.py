"""The Invoke view's function field: completion from the manifest, history on up/down."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.suggester import SuggestFromList

from goatui.ui.keys import TextInput


class FunctionInput(TextInput):
    BINDINGS = [
        Binding("up", "recall(1)", "Older call", id="invoke.history_older"),
        Binding("down", "recall(-1)", "Newer call", id="invoke.history_newer"),
    ]

    class Recall(Message):
        """Step through the call history: +1 older, -1 newer."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def leaves_key(self, event: events.Key) -> bool:
        # Empty, the field leaves digits to the view keys (1-5): no function name starts
        # with one, and the operator expects them to switch views from here too.
        return not self.value and event.key.isdigit()

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if not self.value and key.isdigit():
            return False
        return super().check_consume_key(key, character)

    def set_handlers(self, handlers: Sequence[str]) -> None:
        """Complete from these names (right arrow accepts) and list them as the hint."""
        self.suggester = SuggestFromList(handlers, case_sensitive=False) if handlers else None
        if handlers:
            listed = ", ".join(handlers[:4]) + (", …" if len(handlers) > 4 else "")
            self.placeholder = f"function (→ completes): {listed}"
        else:
            self.placeholder = "function (the manifest lists none)"

    def action_recall(self, step: int) -> None:
        self.post_message(self.Recall(step))
