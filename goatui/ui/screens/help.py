"""The `?` screen: every key, generated from the bindings themselves, so it cannot drift."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

Section = tuple[str, Sequence[Binding]]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(Text("goatui keys", style="bold"), id="help-title")
            yield Static(self._table(), id="help-keys")
            yield Static(Text("escape, q or ? closes this", style="dim"))

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold", no_wrap=True)
        table.add_column()
        for index, (title, bindings) in enumerate(self.sections):
            if index:
                table.add_row("", "")
            table.add_row("", Text(title, style="underline"))
            for binding in bindings:
                # The footer shows the short description; a tooltip says more here.
                said = binding.tooltip or binding.description
                table.add_row(Text(self.key_display(binding)), Text(said))
        return table

    def key_display(self, binding: Binding) -> str:
        """Every key of a binding ("escape,q" shows both)."""
        keys = [k.strip() for k in binding.key.split(",")]
        return ", ".join(self.app.get_key_display(Binding(k, binding.action)) for k in keys)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
