"""The call history (h in Invoke): Enter loads a call into the editor, ctrl+r sends it
again at once, m marks results to diff.

Entries come from the history file (newest first). Results are not in the file (it is
kept small and free of plugin data): only calls made in this session have one kept in
memory, flagged in the table, and only those can be marked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from goatui.core.calls.history import HistoryEntry
from goatui.core.sanitize import safe_text
from goatui.ui.errors import toast
from goatui.ui.format import fmt_ms, shorten
from goatui.ui.screens.dialog import Dialog
from goatui.ui.screens.diff import DiffScreen
from goatui.ui.widgets.row_table import Column, RowTable

COLUMNS = (
    Column("flag", ""),
    Column("when", "when"),
    Column("call", "call"),
    Column("outcome", "outcome"),
    Column("ms", "ms", justify="right"),
    Column("args", "args"),
)


@dataclass(frozen=True)
class KeptResult:
    """A result of this session, by the time its call started (HistoryEntry.at)."""

    at: float
    plugin: str
    function: str
    kind: str
    value: Any


def result_title(kept: KeptResult) -> Text:
    clock = time.strftime("%H:%M:%S", time.localtime(kept.at))
    return Text.assemble(safe_text(f"{kept.plugin}.{kept.function}", one_line=True), f" at {clock}")


class HistoryScreen(Dialog[tuple[HistoryEntry, bool] | None]):
    """Dismisses with the entry chosen and whether to send it now (ctrl+r) or only load
    it into the editor to change it (Enter); None on Escape."""

    BINDINGS = [
        Binding("enter", "load", "Load into the editor", id="history.load"),
        Binding("ctrl+r", "replay", "Send again now", id="history.replay"),
        Binding("m", "mark", "Mark result (two: diff)", id="history.mark"),
        Binding("escape,q", "cancel", "Close", id="history.close"),
    ]

    def __init__(self, entries: Sequence[HistoryEntry], kept: Mapping[float, KeptResult]) -> None:
        super().__init__()
        self.entries = list(entries)
        self.kept = kept
        self.marked: list[float] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog"):
            yield Label(
                "Call history, newest first · enter loads · ctrl+r sends again · "
                "m marks a result (• kept)",
                id="history-title",
            )
            yield RowTable(COLUMNS, id="history-table")

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.set_rows([(str(i), self._cells(entry)) for i, entry in enumerate(self.entries)])
        table.focus()

    def _cells(self, entry: HistoryEntry) -> list[Text]:
        flag = "*" if entry.at in self.marked else "•" if entry.at in self.kept else ""
        when = time.strftime("%m-%d %H:%M:%S", time.localtime(entry.at))
        outcome = entry.outcome if entry.outcome != "error" else f"error {entry.detail}"
        ms = fmt_ms(entry.duration_ms) if entry.duration_ms is not None else "-"
        args = "(too large, not kept)" if entry.args_dropped else entry.args
        return [
            Text(flag, style="bold"),
            Text(when),
            safe_text(shorten(f"{entry.plugin}.{entry.function}", 40), one_line=True),
            safe_text(shorten(outcome, 30), one_line=True),
            Text(ms, justify="right"),
            safe_text(shorten(" ".join(args.split()), 50), "dim", one_line=True),
        ]

    def _current(self) -> HistoryEntry | None:
        if not self.entries:
            return None
        return self.entries[self.query_one(RowTable).cursor_row]

    @on(RowTable.RowSelected)
    def _selected(self) -> None:
        self.action_load()

    def action_load(self) -> None:
        entry = self._current()
        if entry is not None:
            self.dismiss((entry, False))

    def action_replay(self) -> None:
        entry = self._current()
        if entry is not None:
            self.dismiss((entry, True))

    def action_mark(self) -> None:
        entry = self._current()
        if entry is None:
            return
        if entry.at not in self.kept:
            toast(
                self, "no result kept for this call (only this session's are)", severity="warning"
            )
            return
        if entry.at in self.marked:
            self.marked.remove(entry.at)
        else:
            self.marked.append(entry.at)
        self._redraw_flags()
        if len(self.marked) == 2:
            old, new = sorted((self.kept[a] for a in self.marked), key=lambda k: k.at)
            self.marked.clear()
            self._redraw_flags()
            open_diff(self, old, new)

    def _redraw_flags(self) -> None:
        table = self.query_one(RowTable)
        for index, entry in enumerate(self.entries):
            table.update_cell(str(index), "flag", self._cells(entry)[0])

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_diff(node: Any, old: KeptResult, new: KeptResult) -> None:
    """Push the diff of two kept results, or say why it cannot be made."""
    if old.kind != "json" or new.kind != "json":
        toast(node, "a diff needs two JSON results", severity="warning")
        return
    node.app.push_screen(DiffScreen(result_title(old), result_title(new), old.value, new.value))
