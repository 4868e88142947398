"""The audit log's recent entries (palette: "Audit log"), newest first.

Entries come from the file (goatui.core.audit), which other goatui processes write
too: every field is shown through the sanitiser.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from goatui.core.audit import AuditEntry, AuditLog
from goatui.core.sanitize import safe_text
from goatui.ui.format import shorten
from goatui.ui.screens.dialog import Dialog
from goatui.ui.widgets.row_table import Column, RowTable

SHOWN = 500
COLUMNS = tuple(
    Column(key, key)
    for key in ("when (UTC)", "who", "action", "target", "outcome", "where", "args")
)


def entry_cells(entry: AuditEntry) -> list[Text]:
    args = "" if entry.args is None else json.dumps(entry.args, ensure_ascii=False)
    tone = {"ok": "", "cancelled": "dim"}.get(entry.outcome, "bold")
    return [
        safe_text(entry.when.replace("T", " ")[:23], "dim", one_line=True),
        safe_text(entry.who, one_line=True),
        safe_text(entry.action, "bold", one_line=True),
        safe_text(shorten(entry.target, 40), one_line=True),
        safe_text(shorten(entry.outcome_text, 60), tone, one_line=True),
        safe_text(shorten(entry.where, 40), "dim", one_line=True),
        safe_text(shorten(args or entry.args_note, 60), "dim", one_line=True),
    ]


class AuditScreen(Dialog[None]):
    BINDINGS = [Binding("escape,q", "close", "Close", id="audit.close")]

    def __init__(self, log: AuditLog | None = None) -> None:
        super().__init__()
        self.audit_log = log if log is not None else AuditLog()

    def compose(self) -> ComposeResult:
        with Vertical(id="audit-dialog"):
            yield Label(f"Audit log · {self.audit_log.path} · newest first", id="audit-title")
            yield RowTable(COLUMNS, id="audit-table")

    def on_mount(self) -> None:
        self.query_one(RowTable).focus()
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        entries = self.audit_log.read(limit=SHOWN)
        self.app.call_from_thread(self._show, entries)

    def _show(self, entries: list[AuditEntry]) -> None:
        newest_first = reversed(entries)
        self.query_one(RowTable).set_rows(
            [(str(index), entry_cells(entry)) for index, entry in enumerate(newest_first)]
        )
        if not entries:
            self.query_one("#audit-title", Label).update(
                f"Audit log · {self.audit_log.path} · nothing recorded yet"
            )

    def action_close(self) -> None:
        self.dismiss(None)
