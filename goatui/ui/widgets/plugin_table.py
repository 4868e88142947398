"""The plugins table: one row per plugin, redrawn cell by cell as states change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import App

from goatui.core.monitor import GONE, PluginState
from goatui.core.sanitize import safe_text
from goatui.ui.format import fmt_age, fmt_latency, shorten, sparkline, status_label, tone
from goatui.ui.widgets.row_table import RowTable

# (key, label, width): None lets the column fit its content.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "Name", None),
    ("version", "Version", None),
    ("health", "Health", 13),
    ("latency", "ms last / p50", 13),
    ("trend", "Trend", 10),
    ("since", "In state", 8),
    ("error", "Last error", None),
)
# Shown after the name when plugins come from several places (a fleet of contexts).
WHERE_COLUMN = ("where", "Where", None)
TREND_WIDTH = 10
ERROR_WIDTH = 60
# Only these fit their content: a changed cell elsewhere never needs its column measured
# again. Measuring the "in state" column anew for every row each second was half the
# console's CPU with 100 plugins (issue #9).
AUTO_WIDTH = frozenset(key for key, _, width in (*COLUMNS, WHERE_COLUMN) if width is None)

Colours = Mapping[str, str]


def tone_colours(app: App[object]) -> dict[str, str]:
    """Theme colours for each tone, chosen by the theme to be readable on its background."""
    variables = app.get_css_variables()
    colours = {t: variables.get(f"text-{t}", "") for t in ("success", "error", "warning")}
    colours["muted"] = "dim"
    return colours


def health_cell(status: str, colours: Colours) -> Text:
    return Text(status_label(status), style=colours.get(tone(status), ""))


def since_cell(state: PluginState, now: float) -> Text:
    return Text(fmt_age(now - state.since), justify="right")


def row_cells(
    state: PluginState, now: float, colours: Colours, *, where: bool = False
) -> dict[str, Text]:
    """Every cell of a plugin's row, in column order; plugin text goes through the
    sanitiser. `where` adds the Where cell (PluginInfo.where) after the name."""
    gone = state.status == GONE
    name = safe_text(state.name, "dim" if gone else "bold", one_line=True)
    error = safe_text(shorten(state.last_error, ERROR_WIDTH), one_line=True)
    if state.health is not None and state.health.is_up:
        error.stylize("dim")  # an old error, from before the plugin recovered
    cells = {"name": name}
    if where:
        cells["where"] = safe_text(state.info.where or "-", one_line=True)
    return cells | {
        "version": safe_text(state.info.version or "-", one_line=True),
        "health": health_cell(state.status, colours),
        "latency": Text(fmt_latency(state.last_latency, state.p50), justify="right"),
        "trend": Text(sparkline(state.latencies, TREND_WIDTH)),
        "since": since_cell(state, now),
        "error": error,
    }


class PluginTable(RowTable):
    """Rows keyed by the monitor's state key, so the cursor survives redraws."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._order: list[str] = []
        self._drawn: dict[str, int] = {}
        # The text of every cell as drawn: unchanged cells are not touched again.
        self._cells: dict[tuple[str, str], Text] = {}
        self._where = False

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        columns = [COLUMNS[0], WHERE_COLUMN, *COLUMNS[1:]] if self._where else COLUMNS
        for key, label, width in columns:
            self.add_column(label, width=width, key=key)

    def forget_drawn(self) -> None:
        """Redraw every cell next time (after a theme change)."""
        self._drawn.clear()
        self._cells.clear()

    def show(self, states: Sequence[PluginState], now: float, colours: Colours) -> None:
        """Make the rows match states: changed cells only, unless the rows changed."""
        keys = [s.key for s in states]
        where = any(s.info.where for s in states)
        if where != self._where:
            # DataTable cannot insert a column: lay them out again, then every row.
            self._where = where
            self.clear(columns=True)
            self._add_columns()
            self._order = []
        if keys != self._order:
            self._rebuild(states, now, colours)
            return
        for state in states:
            if self._drawn.get(state.key) == state.version:
                # Only the time in state moves on its own.
                self._update(state.key, "since", since_cell(state, now))
                continue
            for column, cell in row_cells(state, now, colours, where=self._where).items():
                self._update(state.key, column, cell)
            self._drawn[state.key] = state.version

    def _update(self, key: str, column: str, cell: Text) -> None:
        if self._cells.get((key, column)) != cell:
            self._cells[(key, column)] = cell
            self.update_cell(key, column, cell, update_width=column in AUTO_WIDTH)

    def _rebuild(self, states: Sequence[PluginState], now: float, colours: Colours) -> None:
        selected = self.selected_key
        self.clear()
        self._drawn.clear()
        self._cells.clear()
        for state in states:
            cells = row_cells(state, now, colours, where=self._where)
            self.add_row(*cells.values(), key=state.key)
            self._cells.update({(state.key, column): cell for column, cell in cells.items()})
            self._drawn[state.key] = state.version
        self._order = [s.key for s in states]
        if selected in self._order:
            self.move_cursor(row=self._order.index(selected), animate=False)
