"""Ask where to save a result; the default is a new file under the current directory."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from goatui.ui.keys import TextInput
from goatui.ui.screens.dialog import Dialog


class SavePrompt(Dialog[str | None]):
    """Dismisses with the path typed (Enter) or None (Escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]

    def __init__(self, default: str, what: str) -> None:
        super().__init__()
        self.default = default
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog"):
            yield Label(f"Save {self.what} to (Enter saves, Escape cancels):")
            yield TextInput(
                self.default, id="save-path", select_on_focus=False, on_submit=self._submitted
            )

    def _submitted(self, value: str) -> None:
        self.dismiss(value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
