"""Two JSON results side by side as a structural diff (goatui.core.calls.jsondiff)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static

from goatui.core.calls.jsondiff import diff, render_diff
from goatui.ui.screens.dialog import Dialog
from goatui.ui.scrolling import VimScroll


class DiffScreen(Dialog[None]):
    """What changed from `old` to `new`; the diff is computed off the UI thread."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="diff.close")]

    def __init__(self, old_title: Text, new_title: Text, old: Any, new: Any) -> None:
        super().__init__()
        self.titles = (old_title, new_title)
        self.values = (old, new)

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-dialog"):
            # Titles are built by the caller from sanitised names.
            yield Label(Text.assemble(("- ", "red"), self.titles[0]), id="diff-old")
            yield Label(Text.assemble(("+ ", "green"), self.titles[1]), id="diff-new")
            with VimScroll(id="diff-scroll"):
                yield Static("comparing …", id="diff-body")
            yield Label("escape closes", id="diff-hint")

    def on_mount(self) -> None:
        self._compare()

    @work(thread=True, exit_on_error=False)
    def _compare(self) -> None:
        changes = diff(*self.values)
        rendered = render_diff(changes)
        summary = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
        self.app.call_from_thread(self._show, rendered, summary)

    def _show(self, rendered: Text, summary: str) -> None:
        self.query_one("#diff-body", Static).update(rendered)
        self.query_one("#diff-hint", Label).update(f"{summary} · escape closes")

    def action_close(self) -> None:
        self.dismiss(None)
