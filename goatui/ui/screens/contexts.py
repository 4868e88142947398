"""The context switcher (ctrl+o): the config's [contexts.NAME] tables, one to pick."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from goatui.core.backends.contexts import Context
from goatui.core.sanitize import safe_text
from goatui.ui.screens.dialog import Dialog
from goatui.ui.scrolling import VimOptionList


class ContextScreen(Dialog[str | None]):
    """Dismisses with the chosen context's name (Enter), or None (Escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="contexts.cancel")]

    def __init__(self, contexts: Sequence[Context], current: str) -> None:
        super().__init__()
        self.contexts = list(contexts)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="context-dialog"):
            yield Label(
                Text.assemble("Switch context · now: ", safe_text(self.current, one_line=True)),
                id="context-title",
            )
            options = [
                Option(
                    Text.assemble(
                        safe_text(c.name, "bold", one_line=True),
                        f"  {c.kind}  ",
                        safe_text(c.where, "dim", one_line=True),
                    ),
                    id=c.name,
                )
                for c in self.contexts
            ]
            yield VimOptionList(*options, id="context-list")
            yield Label("enter switches · escape cancels", id="context-hint")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
