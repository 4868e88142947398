"""The `?` screen: every key, generated from the bindings themselves, so it cannot drift."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from goatui.ui.screens.dialog import Dialog
from goatui.ui.scrolling import VimScroll

Section = tuple[str, Sequence[Binding]]


class HelpScreen(Dialog[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VimScroll(id="help-dialog"):
            yield Static(Text("goatui keys", style="bold"), id="help-title")
            yield Static(self._table(), id="help-keys")
            yield Static(Text("escape, q or ? closes this", style="dim"))

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold", no_wrap=True)
        table.add_column()
        table.add_column(style="dim", no_wrap=True)
        for index, (title, bindings) in enumerate(self.sections):
            if index:
                table.add_row("", "", "")
            table.add_row("", Text(title, style="underline"), Text("id for [keys]", "dim"))
            for keys, said, ids in merged(bindings, self.key_display):
                table.add_row(Text(keys), Text(said), Text(ids))
        return table

    def key_display(self, binding: Binding) -> str:
        """Every key of a binding ("escape,q" shows both)."""
        keys = [k.strip() for k in binding.key.split(",")]
        return ", ".join(self.app.get_key_display(Binding(k, binding.action)) for k in keys)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def merged(
    bindings: Sequence[Binding], key_display: Callable[[Binding], str]
) -> list[tuple[str, str, str]]:
    """(keys, what they do, binding ids) per action: two bindings of one action (q and
    ctrl+c quit) are one row, so each key is listed once."""
    rows: dict[str, tuple[list[str], str, list[str]]] = {}
    for binding in bindings:
        # The footer shows the short description; a tooltip says more here.
        said = binding.tooltip or binding.description
        keys, _, ids = rows.setdefault(binding.action, ([], said, []))
        keys += [k for k in key_display(binding).split(", ") if k not in keys]
        if binding.id and binding.id not in ids:
            ids.append(binding.id)
    return [(", ".join(keys), said, ", ".join(ids)) for keys, said, ids in rows.values()]
