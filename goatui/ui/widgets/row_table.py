"""A table of rows keyed by strings, moved through a row at a time (plugins, jobs)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from goatui.ui.keys import KeysInOrder


class RowTable(KeysInOrder, DataTable[Text]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor (None when the table is empty)."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value
