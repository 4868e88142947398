"""RowTable (plugins, jobs) in a real Textual app: what it draws, its keys, what it redraws."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Input

from goatui.ui.widgets.row_table import Column, RowTable

COLUMNS = (Column("name", "Name"), Column("ms", "ms", 6), Column("note", "Note", 8))


def row(name: str, ms: str = "1.0", note: str = "") -> tuple[str, dict[str, Text]]:
    return name, {"name": Text(name), "ms": Text(ms, justify="right"), "note": Text(note)}


class CountingTable(RowTable):
    """Counts the rows it renders from their cells (a cached row is not rendered again)."""

    rendered: list[str]

    def _render_row(self, cells: Sequence[Text]) -> Strip:
        if cells[0].plain != "Name":  # not the header
            self.rendered.append(cells[0].plain)
        return super()._render_row(cells)


class TableApp(App[None]):
    CSS = "RowTable { height: 1fr; } Input { dock: bottom; }"

    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[str | None] = []
        self.selected: list[str | None] = []

    def compose(self) -> ComposeResult:
        table = CountingTable(COLUMNS, id="table")
        table.rendered = []
        yield table
        yield Input(id="elsewhere")

    @property
    def table(self) -> CountingTable:
        return self.query_one(CountingTable)

    def on_row_table_row_highlighted(self, message: RowTable.RowHighlighted) -> None:
        self.highlighted.append(message.key)

    def on_row_table_row_selected(self, message: RowTable.RowSelected) -> None:
        self.selected.append(message.key)


def lines(table: RowTable) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


async def test_columns_fit_or_cut_cells_and_keep_their_justification() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        app.table.set_rows([row("alpha", "12.5", "a note far too long"), row("b")])
        await pilot.pause()
        assert lines(app.table)[:3] == [
            " Name   ms      Note",
            " alpha    12.5  a note …",
            " b         1.0",
        ]
        assert app.table.column_width("name") == 5
        # A wider cell widens its fitted column; narrower again, it shrinks back.
        app.table.update_cell("b", "name", Text("bravo-long"))
        assert app.table.column_width("name") == 10
        app.table.update_cell("b", "name", Text("b"))
        assert app.table.column_width("name") == 5


async def test_markup_and_control_text_in_cells_is_shown_as_given() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        app.table.set_rows([row("[bold red]x[/]")])
        await pilot.pause()
        assert "[bold red]x[/]" in lines(app.table)[1]


async def test_cursor_keys_messages_and_the_cursor_following_its_row() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 9)) as pilot:  # a header and 5 rows shown
        names = [f"p{i:02}" for i in range(20)]
        app.table.set_rows([row(n) for n in names])
        app.table.focus()
        await pilot.pause()
        assert app.highlighted == ["p00"]
        await pilot.press("down", "down")
        assert app.table.selected_key == "p02"
        await pilot.press("end")
        assert app.table.selected_key == "p19"
        # The header stays on top while the rows scroll under it.
        assert lines(app.table)[0].split() == ["Name", "ms", "Note"]
        assert lines(app.table)[-1].split()[0] == "p19"
        await pilot.press("pageup")
        assert app.table.selected_key == "p15"
        await pilot.press("home")
        assert app.table.selected_key == "p00"
        assert lines(app.table)[1].split()[0] == "p00"
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == ["p00"]
        assert app.highlighted == ["p00", "p01", "p02", "p19", "p15", "p00"]

        # Rows come and go: the cursor stays on its plugin, not on its position.
        app.table.move_cursor(row=3)
        app.table.set_rows([row(n) for n in ["new", *names]])
        assert app.table.selected_key == "p03"
        app.table.set_rows([row(n) for n in names[:2]])
        assert app.table.selected_key == "p01"  # its row went: the nearest one left
        app.table.set_rows([])
        assert app.table.selected_key is None
        await pilot.pause()
        assert app.highlighted[-3:] == ["p03", "p01", None]


async def test_a_click_moves_the_cursor_and_a_second_click_selects() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        app.table.set_rows([row("a"), row("b"), row("c")])
        await pilot.pause()
        await pilot.click(CountingTable, offset=(2, 2))  # the header, then a, b
        assert app.table.selected_key == "b"
        await pilot.click(CountingTable, offset=(2, 2))
        await pilot.pause()
        assert app.selected == ["b"]


async def test_wide_tables_scroll_sideways_with_the_header() -> None:
    app = TableApp()
    async with app.run_test(size=(12, 9)) as pilot:
        app.table.set_rows([row("alpha", "1.0", "note")])
        app.table.focus()
        await pilot.pause()
        await pilot.press("right")
        await pilot.pause()
        assert app.table.scroll_x == 4
        assert lines(app.table)[0].startswith("e  ")  # " Name   ms" from its 5th cell
        assert lines(app.table)[1].startswith("ha ")  # " alpha"


async def test_only_changed_rows_are_rendered_again() -> None:
    """Redrawing every row on each update was the console's cost with 100 plugins."""
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.table
        table.set_rows([row(f"p{i}") for i in range(8)])
        table.focus()
        await pilot.pause()
        assert sorted(table.rendered) == sorted(f"p{i}" for i in range(8))

        table.rendered.clear()
        assert table.update_cell("p3", "ms", Text("2.5", justify="right"))
        assert not table.update_cell("p4", "ms", Text("1.0", justify="right"))  # unchanged
        await pilot.pause()
        assert table.rendered == ["p3"]
        assert " 2.5" in lines(table)[4]

        # Cursor moves and focus changes restyle lines; they render no row again.
        table.rendered.clear()
        await pilot.press("down", "down")
        app.query_one("#elsewhere").focus()
        await pilot.pause()
        table.focus()
        await pilot.pause()
        assert table.rendered == []

        # A fitted column that widens changes every row.
        table.update_cell("p5", "name", Text("p5-is-longer"))
        await pilot.pause()
        assert len(table.rendered) == 8


async def test_new_columns_keep_the_cursor_on_its_row() -> None:
    """A fleet adds a Where column, a sort marks one: the operator's row stays selected."""
    app = TableApp()
    async with app.run_test(size=(40, 9)) as pilot:
        app.table.set_rows([row(n) for n in ("a", "b", "c")])
        app.table.move_cursor(row=2)
        app.table.set_columns((*COLUMNS, Column("where", "Where")))
        assert app.table.rows == []
        app.table.set_rows([row(n) for n in ("c", "a", "b")])
        await pilot.pause()
        assert app.table.selected_key == "c" and app.table.cursor_row == 0
        assert lines(app.table)[0].split() == ["Name", "ms", "Note", "Where"]


async def test_rows_from_a_source_are_made_only_when_drawn() -> None:
    """100,000 rows (a fleet, a manifest's jobs): the cost is the rows on screen, and
    the rows kept stay a few screens' worth however far the operator scrolls."""
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.table
        made: list[str] = []

        def source(key: str) -> dict[str, Text]:
            made.append(key)
            return row(key, note=f"note {key}")[1]

        keys = [f"r{i:06d}" for i in range(100_000)]
        table.show_keys(keys, source, {"name": 7})
        table.focus()
        await pilot.pause()
        shown = table.size.height - 1  # below the header
        assert made == keys[:shown]
        assert lines(table)[1].split() == ["r000000", "1.0", "note", "r0…"]
        await pilot.press("end")
        await pilot.pause()
        assert table.rows_in_view() == keys[-shown:]
        assert set(keys[-shown:]) <= set(made) and len(made) <= 3 * shown
        for _ in range(20):
            await pilot.press("pageup")
        await pilot.pause()
        assert len(table._cells) <= 3 * table.size.height + 1  # never the whole table
        assert table.get_cell("r000005", "note").plain == "note r000005"
        # The owner measures the fitted columns.
        table.set_widths({"name": 12})
        assert table.column_width("name") == 12
