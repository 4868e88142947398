"""A yes/no question about an action that changes something (stop, disable, switch).

The question is Rich Text built by the caller with plugin names through safe_text;
Cancel has the focus so Enter alone never does the action.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from goatui.ui.screens.dialog import Dialog


class ConfirmScreen(Dialog[bool]):
    """Dismisses True on `y` / the action button, False on `n` / Escape / Cancel."""

    BINDINGS = [
        Binding("y", "yes", "Do it", id="confirm.yes"),
        Binding("escape,n", "no", "Cancel", id="confirm.no"),
    ]

    def __init__(
        self, question: Text, action: str, *, detail: Text | str = "", warning: str = ""
    ) -> None:
        super().__init__()
        self.question = question
        self.action_label = action
        self.detail = detail
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.question, id="confirm-question")
            if self.detail:
                detail = self.detail if isinstance(self.detail, Text) else Text(self.detail)
                yield Label(detail, id="confirm-detail")
            if self.warning:
                yield Label(Text(self.warning), id="confirm-warning")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.action_label} (y)", variant="warning", id="confirm-yes")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_no(self) -> None:
        self.dismiss(False)
