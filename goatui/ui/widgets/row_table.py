"""A table of rows keyed by strings (plugins, jobs) that draws again only what changed.

Textual's DataTable renders every visible cell again after any cell update, and again
whenever it gains or loses focus (both are part of its render-cache keys). With 100
plugins whose latencies change with every probe, that was most of the console's CPU and
of its key latency (issue #9). Here each row is rendered once, into one Strip, when its
cells or the column widths change; the zebra stripe, the cursor and the focus tint are
styles laid over the cached strip when a line is drawn, and a changed row or a cursor
move repaints only its own lines.

A table of thousands of rows (a fleet, a manifest's jobs) is given its keys and a
function making a row's cells (`show_keys`): only rows drawn are ever made, and only a
few screens of them are kept, so its cost follows what is on screen (issues #18, #19).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from goatui.ui.keys import KeysInOrder

# Blank cells either side of every cell, as DataTable draws them.
CELL_PADDING = 1
# Columns moved by left / right when the table is wider than the screen.
SIDE_STEP = 4


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    #: Cells wider than this are cut short with an ellipsis; None fits the widest cell.
    width: int | None = None
    #: Where the label sits; cells keep their own justification (numbers: "right").
    justify: Literal["left", "right"] = "left"


Cells = Mapping[str, Text] | Sequence[Text]
RowSource = Callable[[str], Cells]
# Rows made by a RowSource kept beyond those on screen, in screens' worth.
KEPT_SCREENS = 3


class RowTable(KeysInOrder, ScrollView, can_focus=True):
    """Rows keyed by strings, so the cursor stays on its row while rows come and go."""

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        & > .row-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .row-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .row-table--header {
                background-tint: $foreground 5%;
            }
            & > .row-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-table--header",
        "row-table--even-row",
        "row-table--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Select", show=False, id="list.select"),
        Binding("up,k", "move(-1)", "Up", show=False, id="list.up"),
        Binding("down,j", "move(1)", "Down", show=False, id="list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("home,ctrl+home,g", "first", "First row", show=False, id="list.first"),
        Binding("end,ctrl+end,G", "last", "Last row", show=False, id="list.last"),
        Binding("left", "side(-1)", "Scroll left", show=False, id="list.left"),
        Binding("right", "side(1)", "Scroll right", show=False, id="list.right"),
    ]

    class RowHighlighted(Message):
        """The cursor is on another row (key None: the table is empty)."""

        def __init__(self, table: RowTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> RowTable:
            return self.table

    class RowSelected(RowHighlighted):
        """Enter, or a click on the row under the cursor."""

    def __init__(self, columns: Sequence[Column] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns: tuple[Column, ...] = tuple(columns)
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        # Every row's cells (set_rows), or the rows made so far by `_source` (show_keys).
        self._cells: dict[str, list[Text]] = {}
        self._source: RowSource | None = None
        # With a source: the fitted columns' widths, as its owner measured them; fitted
        # columns it did not measure are as wide as the widest of the rows made so far.
        self._fitted: dict[str, int] = {}
        self._grown: dict[str, int] = {}
        self._widths: list[int] = [self._fixed_width(c) for c in self._columns]
        # Rendered rows without the row's own style; dropped when a cell or a width changes.
        self._strips: dict[str, Strip] = {}
        self._header: Strip | None = None
        self._cursor = 0
        self._highlighted: str | None = None
        self._cursor_key_kept: str | None = None
        self._base_style = Style()

    # -- reading -----------------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def rows(self) -> list[str]:
        """Row keys, top to bottom."""
        return list(self._keys)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor (None when the table is empty)."""
        return self._keys[self._cursor] if self._keys else None

    def get_row(self, key: str) -> list[Text]:
        return list(self._row(key))

    def get_cell(self, key: str, column: str) -> Text:
        return self._row(key)[self._column_index(column)]

    def made_rows(self) -> list[str]:
        """Keys of the rows a source made that the table keeps (a few screens' worth)."""
        return list(self._cells) if self._source is not None else []

    def rows_in_view(self) -> list[str]:
        """Keys of the rows on screen now, top to bottom."""
        top = int(self.scroll_y)
        return self._keys[top : top + max(self.size.height - 1, 0)]

    def column_width(self, column: str) -> int:
        """The cells' width of a column as drawn, without its padding."""
        return self._widths[self._column_index(column)]

    # -- changing ----------------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column]) -> None:
        """New columns. The rows go (their cells follow the old columns) until the next
        set_rows, which puts the cursor back on the row it was on."""
        self._columns = tuple(columns)
        self._cursor_key_kept = self.selected_key
        self._keys, self._index, self._cells = [], {}, {}
        self._strips.clear()
        self._header = None
        self._widths = [self._measure(i) for i in range(len(self._columns))]
        self._resize()
        self.refresh()

    def set_rows(self, rows: Sequence[tuple[str, Cells]]) -> None:
        """Show exactly these rows; the cursor stays on its row's key when it is kept."""
        self._source = None
        self._fitted = {}
        self._cells = {key: self._row_of(cells) for key, cells in rows}
        self._replace_keys([key for key, _ in rows])

    def show_keys(self, keys: Sequence[str], source: RowSource, widths: Mapping[str, int]) -> None:
        """Show these rows, each made by source(key) only when it is first drawn or read.
        `widths` are fitted columns' (those without a width of their own), measured by
        the owner over every row; the fitted columns it leaves out grow to fit the rows
        made. Rows made before are made again when drawn."""
        self._source = source
        self._fitted = dict(widths)
        self._grown = {}
        self._cells = {}
        self._replace_keys(list(keys))

    def set_widths(self, widths: Mapping[str, int]) -> None:
        """New widths for the fitted columns of a table shown with show_keys."""
        if dict(widths) != self._fitted:
            self._fitted = dict(widths)
            self._widths = [self._measure(i) for i in range(len(self._columns))]
            self._strips.clear()
            self._header = None
            self._resize()
            self.refresh()

    def _replace_keys(self, keys: list[str]) -> None:
        selected = self.selected_key if self._keys else self._cursor_key_kept
        self._cursor_key_kept = None
        self._keys = keys
        self._index = {key: i for i, key in enumerate(self._keys)}
        self._strips.clear()
        self._widths = [self._measure(i) for i in range(len(self._columns))]
        self._header = None
        if selected in self._index:
            self._cursor = self._index[selected]
        self._cursor = min(self._cursor, max(len(self._keys) - 1, 0))
        self._resize()
        self._scroll_to_cursor()
        self.refresh()
        self._announce()

    def update_row(self, key: str, cells: Mapping[str, Text]) -> bool:
        """Change some of a row's cells (those of columns not shown now are left out:
        a narrow table drops some); True when anything shown changed."""
        row = self._row(key)
        changed = False
        shown = {column.key: index for index, column in enumerate(self._columns)}
        for column, cell in cells.items():
            index = shown.get(column)
            if index is None:
                continue
            if row[index] != cell:
                old, row[index] = row[index], cell
                changed = True
                if self._source is None:
                    self._rewidth(index, old, cell)
                else:
                    self._grow(index, cell)
        # A row without a cached strip was never drawn, or a full repaint is already due
        # (new rows, widths, columns or theme): only a drawn row needs its line repainted.
        if changed and self._strips.pop(key, None) is not None:
            self.refresh_line(self._index[key] + 1)
        return changed

    def update_cell(self, key: str, column: str, cell: Text) -> bool:
        return self.update_row(key, {column: cell})

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        if not self._keys:
            return
        row = max(0, min(row, len(self._keys) - 1))
        if row != self._cursor:
            self.refresh_line(self._cursor + 1)
            self._cursor = row
            self.refresh_line(row + 1)
        self._scroll_to_cursor(animate)
        self._announce()

    def forget_drawn(self) -> None:
        """Render every row again (the theme changed the colours cells were made with)."""
        if self._source is not None:
            self._cells.clear()  # made with the old colours too
        self._strips.clear()
        self._header = None
        self.refresh()

    # -- keys and mouse ----------------------------------------------------------------

    def action_move(self, step: int) -> None:
        self.move_cursor(row=self._cursor + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self._cursor + direction * max(self.size.height - 2, 1))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._keys) - 1)

    def action_side(self, direction: int) -> None:
        self.scroll_to(x=self.scroll_x + direction * SIDE_STEP, animate=False, immediate=True)

    def action_select(self) -> None:
        if self._keys:
            self.post_message(self.RowSelected(self, self.selected_key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return  # the header
        row = int(self.scroll_y) + offset.y - 1
        if row >= len(self._keys):
            return
        if row == self._cursor:
            self.action_select()
        else:
            self.move_cursor(row=row)

    # -- drawing -----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Rows keep no style of the widget's: only the header, which is bold, is made
        # again. Focus changes land here too, and must not cost a redraw of every row.
        self._header = None

    def render_lines(self, crop: Region) -> list[Strip]:
        # Widget.rich_style walks every ancestor's styles: once per paint, not per line.
        self._base_style = self.rich_style
        if self._source is not None and len(self._cells) > KEPT_SCREENS * self.size.height:
            self._forget_out_of_view()
        return super().render_lines(crop)

    def _forget_out_of_view(self) -> None:
        """Drop the made rows that are off screen: they are made again when drawn."""
        shown = set(self.rows_in_view())
        selected = self.selected_key
        for key in [k for k in self._cells if k not in shown and k != selected]:
            del self._cells[key]
            self._strips.pop(key, None)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self._base_style
        if y == 0:
            style = self.get_component_rich_style("row-table--header")
            return _styled(self._header_strip(), scroll_x, width, style)
        index = scroll_y + y - 1
        if index >= len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(self._row(key))
        if index % 2 == 0:
            base = self.get_component_rich_style("row-table--even-row")
        if index != self._cursor:
            return _styled(strip, scroll_x, width, base)
        cursor = self.get_component_rich_style("row-table--cursor")
        # The cursor's colours win over the cells', as in DataTable.
        over = Style.from_color(cursor.color, cursor.bgcolor)
        return _styled(strip, scroll_x, width, base + cursor, over)

    # -- internals ---------------------------------------------------------------------

    def _column_index(self, column: str) -> int:
        for index, each in enumerate(self._columns):
            if each.key == column:
                return index
        raise KeyError(column)

    def _row(self, key: str) -> list[Text]:
        """A row's cells, made now when a source makes them and they are not kept."""
        row = self._cells.get(key)
        if row is None:
            if self._source is None or key not in self._index:
                raise KeyError(key)
            row = self._cells[key] = self._row_of(self._source(key))
            for index, cell in enumerate(row):
                self._grow(index, cell)
        return row

    def _grow(self, index: int, cell: Text) -> None:
        """A fitted column its owner does not measure widens to a wider cell made."""
        column = self._columns[index]
        if column.width is not None or column.key in self._fitted:
            return
        if cell.cell_len > self._grown.get(column.key, 0):
            self._grown[column.key] = cell.cell_len
            if cell.cell_len > self._widths[index]:
                self._widths[index] = cell.cell_len
                self._strips.clear()
                self._header = None
                self._resize()
                self.refresh()

    def _row_of(self, cells: Cells) -> list[Text]:
        if isinstance(cells, Mapping):
            return [cells.get(c.key, Text()) for c in self._columns]
        row = list(cells)[: len(self._columns)]
        return row + [Text() for _ in range(len(self._columns) - len(row))]

    @staticmethod
    def _fixed_width(column: Column) -> int:
        return column.width if column.width is not None else Text(column.label).cell_len

    def _measure(self, index: int) -> int:
        column = self._columns[index]
        if column.width is not None:
            return column.width
        label = Text(column.label).cell_len
        if self._source is not None:
            return max(label, self._fitted.get(column.key, self._grown.get(column.key, 0)))
        return max([label, *(row[index].cell_len for row in self._cells.values())])

    def _rewidth(self, index: int, old: Text, new: Text) -> None:
        """Keep a fitted column as wide as its widest cell after one cell changed."""
        if self._columns[index].width is not None:
            return
        width = self._widths[index]
        if new.cell_len > width:
            width = new.cell_len
        elif old.cell_len == width and new.cell_len < width:
            width = self._measure(index)
        if width != self._widths[index]:
            self._widths[index] = width
            self._strips.clear()
            self._header = None
            self._resize()
            self.refresh()

    def _resize(self) -> None:
        total = sum(width + 2 * CELL_PADDING for width in self._widths)
        self.virtual_size = Size(total, len(self._keys) + 1)

    def _header_strip(self) -> Strip:
        if self._header is None:
            self._header = self._render_row(
                [Text(c.label, justify=c.justify) for c in self._columns]
            )
        return self._header

    def _render_row(self, cells: Sequence[Text]) -> Strip:
        line = Text(no_wrap=True, end="")
        pad = " " * CELL_PADDING
        for cell, width in zip(cells, self._widths, strict=True):
            fitted = cell.copy()
            fitted.end = ""
            if fitted.cell_len > width:
                fitted.truncate(width, overflow="ellipsis")
            fitted.align(cell.justify if cell.justify in ("right", "center") else "left", width)
            line.append(pad)
            line.append_text(fitted)
            line.append(pad)
        return Strip(line.render(self.app.console), line.cell_len)

    def _scroll_to_cursor(self, animate: bool = False) -> None:
        if not self._keys or not self.size.height:
            return
        rows_shown = max(self.size.height - 1, 1)  # below the header
        top = int(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=animate, immediate=True)
        elif self._cursor >= top + rows_shown:
            self.scroll_to(y=self._cursor - rows_shown + 1, animate=animate, immediate=True)

    def _announce(self) -> None:
        key = self.selected_key
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.RowHighlighted(self, key))

    def on_resize(self) -> None:
        self._scroll_to_cursor()


def _styled(
    strip: Strip, scroll_x: int, width: int, style: Style, over: Style | None = None
) -> Strip:
    """The visible part of a row, under its row style (and `over` it, for the cursor)."""
    visible = strip.crop(scroll_x, scroll_x + width) if scroll_x else strip
    segments = []
    for text, seg_style, _ in visible:
        combined = style + seg_style if seg_style else style
        segments.append(Segment(text, combined + over if over else combined))
    return Strip(segments, visible.cell_length).adjust_cell_length(width, style + (over or Style()))
