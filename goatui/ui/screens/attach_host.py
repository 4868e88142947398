"""Making goatui a running plugin's host: what it means, which plugin, and a way out.

Only ever shown on the operator's request (`a` in Logs); Cancel has the focus, so
Enter alone never takes a plugin away from GoatFlow.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Select

from goatui.core.sanitize import safe_text
from goatui.core.session import ATTACH_WARNING
from goatui.ui.errors import toast
from goatui.ui.screens.dialog import Dialog


class AttachHostScreen(Dialog[str | None]):
    """Warns what attaching means, lets the operator pick a plugin; dismisses with it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="logs.attach.cancel")]

    def __init__(self, candidates: list[str], preselect: str | None = None) -> None:
        super().__init__()
        self.candidates = candidates
        self.preselect = preselect if preselect in candidates else None

    def compose(self) -> ComposeResult:
        options = [(safe_text(name, one_line=True), name) for name in self.candidates]
        with Vertical(id="attach-dialog"):
            yield Label(Text("Make goatui this plugin's host?", style="bold"))
            yield Label(
                "goatui will call the plugin's SetHost with an endpoint of its own, so the "
                "plugin's logs, cache, config and database calls come here.",
            )
            yield Label(f"Careful: {ATTACH_WARNING}.", id="attach-warning")
            yield Select(
                options,
                prompt="choose a plugin",
                value=self.preselect if self.preselect else Select.NULL,
                id="attach-plugin",
            )
            with Horizontal(id="attach-buttons"):
                yield Button("Attach", variant="warning", id="attach-yes")
                yield Button("Cancel", id="attach-no")

    def on_mount(self) -> None:
        # Cancel has the focus: Enter alone never takes a plugin from GoatFlow.
        self.query_one("#attach-no", Button).focus()

    @on(Button.Pressed, "#attach-yes")
    def _confirm(self) -> None:
        value = self.query_one("#attach-plugin", Select).value
        if isinstance(value, str):
            self.dismiss(value)
        else:
            toast(self, "choose a plugin first", severity="warning")

    @on(Button.Pressed, "#attach-no")
    def action_cancel(self) -> None:
        self.dismiss(None)
