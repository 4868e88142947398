"""The plugins table: one row per plugin, made only when it is drawn.

Its rows come from `RowTable.show_keys`: with 1,000 plugins, only the rows on screen are
made, and on each tick only those are made again (a row repaints only if a cell
changed). Fitted columns are measured over every plugin from plain strings, cached per
state version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from rich.cells import cell_len
from rich.text import Text
from textual.app import App

from goatui.core.monitor import GONE, PluginState
from goatui.core.sanitize import safe_text, sanitize_line
from goatui.ui.format import (
    fmt_age,
    fmt_latency,
    fmt_ms,
    shorten,
    sparkline,
    status_label,
    tone,
)
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


# Below this many columns the table leaves out Version (in the detail pane) and Trend,
# so the Last error column keeps room at 80x24.
NARROW_TABLE = 100
NARROW_DROPS = ("version", "trend")


def plugin_columns(*, where: bool, sort: str = "name", narrow: bool = False) -> tuple[Column, ...]:
    columns: tuple[Column, ...] = (COLUMNS[0], WHERE_COLUMN, *COLUMNS[1:]) if where else COLUMNS
    if narrow:
        columns = tuple(c for c in columns if c.key not in NARROW_DROPS)
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


def latency_cell(state: PluginState, now: float, stale_after: float) -> Text:
    """Last and p50 latency; a latency older than stale_after (a plugin out of view, its
    latency sampled) is dimmed and says its age instead of the p50: `0.85 (25s)`."""
    at = state.latency_at
    if at is not None and now - at > stale_after:
        return Text(f"{fmt_ms(state.last_latency)} ({fmt_age(now - at)})", "dim", justify="right")
    return Text(fmt_latency(state.last_latency, state.p50), justify="right")


def row_cells(
    state: PluginState,
    now: float,
    colours: Colours,
    *,
    where: bool = False,
    stale_after: float = float("inf"),
) -> dict[str, Text]:
    """Every cell of a plugin's row, in column order; plugin text goes through the
    sanitiser. `where` adds the Where cell (PluginInfo.where) after the name; a latency
    older than `stale_after` seconds says its age."""
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
        "latency": latency_cell(state, now, stale_after),
        "trend": Text(sparkline(state.latencies, TREND_WIDTH)),
        "since": since_cell(state, now),
        "error": error,
    }


def _width(text: str) -> int:
    return cell_len(sanitize_line(text))


class PluginTable(RowTable):
    """Rows keyed by the monitor's state key, so the cursor survives redraws."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(plugin_columns(where=False), id=id)
        self._states: dict[str, PluginState] = {}
        self._now = 0.0
        self._colours: Colours = {}
        self._where = False
        self._stale_after = float("inf")
        # Per plugin: the state version its fitted cells' widths were measured at, and
        # those widths (name, where, version, error).
        self._fit: dict[str, tuple[int, int, int, int, int]] = {}
        # The state version each row kept by the table was made from.
        self._made: dict[str, int] = {}

    def forget_drawn(self) -> None:
        """Make every row again next time (after a theme change)."""
        self._fit.clear()
        super().forget_drawn()

    def show(
        self,
        states: Sequence[PluginState],
        now: float,
        colours: Colours,
        *,
        sort: str = "name",
        stale_after: float = float("inf"),
    ) -> None:
        """Make the rows match states (in their order): rows on screen are made again
        (only changed cells repaint), and rows kept from an older state. `sort` marks
        the column the order follows; a latency older than `stale_after` seconds says
        its age."""
        where = any(s.info.where for s in states)
        narrow = 0 < self.size.width < NARROW_TABLE
        columns = plugin_columns(where=where, sort=sort, narrow=narrow)
        if columns != self.columns:
            self.set_columns(columns)
        self._states = {s.key: s for s in states}
        self._now, self._colours, self._where = now, colours, where
        self._stale_after = stale_after
        widths = self._fitted_widths(states)
        keys = [s.key for s in states]
        if keys != self.rows:
            self.show_keys(keys, self._make_row, widths)
            return
        self.set_widths(widths)
        in_view = set(self.rows_in_view())
        for key in self.made_rows():
            if key in in_view or self._made.get(key) != self._states[key].version:
                self.update_row(key, self._make_row(key))

    def _make_row(self, key: str) -> dict[str, Text]:
        state = self._states[key]
        self._made[key] = state.version
        return row_cells(
            state, self._now, self._colours, where=self._where, stale_after=self._stale_after
        )

    def _fitted_widths(self, states: Sequence[PluginState]) -> dict[str, int]:
        fit = self._fit
        name = where = version = error = 0
        for state in states:
            widths = fit.get(state.key)
            if widths is None or widths[0] != state.version:
                info = state.info
                widths = fit[state.key] = (
                    state.version,
                    _width(state.name),
                    _width(info.where or "-"),
                    _width(info.version or "-"),
                    _width(shorten(state.last_error, ERROR_WIDTH)),
                )
            name = max(name, widths[1])
            where = max(where, widths[2])
            version = max(version, widths[3])
            error = max(error, widths[4])
        if len(fit) > 2 * len(states):  # plugins gone for good: forget them
            keys = {s.key for s in states}
            self._fit = {k: v for k, v in fit.items() if k in keys}
            self._made = {k: v for k, v in self._made.items() if k in keys}
        return {"name": name, "where": where, "version": version, "error": error}
