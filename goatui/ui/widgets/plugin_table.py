"""The plugins table: one row per plugin; a row is drawn again only when it changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from rich.text import Text
from textual.app import App

from goatui.core.monitor import GONE, PluginState
from goatui.core.sanitize import safe_text
from goatui.ui.format import fmt_age, fmt_latency, shorten, sparkline, status_label, tone
from goatui.ui.widgets.row_table import Column, RowTable

COLUMNS = (
    Column("name", "Name"),
    Column("version", "Version"),
    Column("health", "Health", 13),
    Column("latency", "ms last/p50", 13, "right"),  # room for SORT_MARK in 13
    Column("trend", "Trend", 10),
    Column("since", "In state", 8, "right"),
    Column("error", "Last error"),
)
# Shown after the name when plugins come from several places (a fleet of contexts).
WHERE_COLUMN = Column("where", "Where")
TREND_WIDTH = 10
ERROR_WIDTH = 60


# After the label of the column the rows are sorted by (each sort order is a column),
# unless it is the default, by name.
SORT_MARK = " ▼"


def plugin_columns(*, where: bool, sort: str = "name") -> tuple[Column, ...]:
    columns = (COLUMNS[0], WHERE_COLUMN, *COLUMNS[1:]) if where else COLUMNS
    if sort == "name":
        return columns
    return tuple(replace(c, label=c.label + SORT_MARK) if c.key == sort else c for c in columns)


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
        super().__init__(plugin_columns(where=False), id=id)
        # The state version each row was drawn from: unchanged rows only move "in state".
        self._drawn: dict[str, int] = {}

    def forget_drawn(self) -> None:
        """Make every cell again next time (after a theme change)."""
        self._drawn.clear()
        super().forget_drawn()

    def show(
        self, states: Sequence[PluginState], now: float, colours: Colours, *, sort: str = "name"
    ) -> None:
        """Make the rows match states (in their order): changed cells only, unless the
        rows changed. `sort` marks the column the order follows."""
        where = any(s.info.where for s in states)
        columns = plugin_columns(where=where, sort=sort)
        if columns != self.columns:
            self.set_columns(columns)
        if [s.key for s in states] != self.rows:
            self._drawn = {s.key: s.version for s in states}
            self.set_rows([(s.key, row_cells(s, now, colours, where=where)) for s in states])
            return
        for state in states:
            if self._drawn.get(state.key) == state.version:
                self.update_row(state.key, {"since": since_cell(state, now)})
            else:
                self.update_row(state.key, row_cells(state, now, colours, where=where))
                self._drawn[state.key] = state.version
