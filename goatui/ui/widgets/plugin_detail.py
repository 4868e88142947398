"""The detail pane: everything known about the selected plugin.

Manifest content is plugin-supplied and may be malformed (wrong types, control
characters): every value is stringified and sanitised, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from goatui.core.models import Health, Manifest, Probe, job_enabled
from goatui.core.monitor import WATCH_COALESCE_S, PluginState
from goatui.core.sanitize import safe_text
from goatui.ui.format import fmt_age, fmt_clock, fmt_ms, status_label, tone
from goatui.ui.scrolling import VIM_SCROLL
from goatui.ui.widgets.plugin_table import Colours


def _t(value: Any, style: str = "") -> Text:
    """Untrusted value as one safe line."""
    return safe_text("" if value is None else str(value), style, one_line=True)


def _join(*parts: Text | str) -> Text:
    text = Text()
    for part in parts:
        if isinstance(part, Text):
            text.append_text(part)
        else:
            text.append(part)
    return text


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


# Entries of each kind listed (a manifest may declare 10,000 jobs: the pane, redrawn
# every second, froze the console; the Jobs and Widgets views list them all).
MANIFEST_ROWS_SHOWN = 20


def _more(entries: list[dict[str, Any]], kind: str, where: str = "") -> Iterable[tuple[str, Text]]:
    """The line saying how many entries were not listed, if any."""
    if len(entries) > MANIFEST_ROWS_SHOWN:
        more = len(entries) - MANIFEST_ROWS_SHOWN
        yield "", Text(f"… and {more:,} more {kind}{where}", style="dim")


def _manifest_rows(manifest: Manifest) -> Iterable[tuple[str, Text]]:
    routes, widgets, jobs = manifest.routes, manifest.widgets, manifest.jobs
    for route in routes[:MANIFEST_ROWS_SHOWN]:
        arrow = _join(_t(route.get("method")), " ", _t(route.get("path")), " → ")
        yield "route", _join(arrow, _t(route.get("handler"), "bold"))
    yield from _more(routes, "routes")
    for widget in widgets[:MANIFEST_ROWS_SHOWN]:
        where = ", ".join(str(widget[k]) for k in ("location", "size") if widget.get(k))
        refresh = f", every {widget['refresh_sec']}s" if widget.get("refresh_sec") else ""
        yield (
            "widget",
            _join(
                _t(widget.get("id")),
                " “",
                _t(widget.get("title")),
                "” → ",
                _t(widget.get("handler"), "bold"),
                _t(f" ({where}{refresh})" if where or refresh else "", "dim"),
            ),
        )
    yield from _more(widgets, "widgets", " (the Widgets view shows them)")
    for job in jobs[:MANIFEST_ROWS_SHOWN]:
        # A Go bool in GoatFlow: a job that leaves `enabled` out is never scheduled.
        enabled, why = job_enabled(job.get("enabled"), manifest.source)
        yield (
            "job",
            _join(
                _t(job.get("id")),
                "  ",
                _t(job.get("schedule")),
                " → ",
                _t(job.get("handler"), "bold"),
                _t("" if enabled else f" (disabled: {why})", "dim"),
            ),
        )
    yield from _more(jobs, "jobs", " (the Jobs view lists them)")
    if manifest.permissions:
        yield "permissions", _t(", ".join(manifest.permissions))


def detail_renderable(
    state: PluginState, now: float, colours: Colours, process: str = "", in_process: bool = False
) -> RenderableType:
    info = state.info
    status = state.status
    title = _join(
        _t(info.name, "bold"),
        " ",
        _t(info.version, "dim"),
        "  ",
        Text(status_label(status), style=colours.get(tone(status), "")),
        f" for {fmt_age(now - state.since)}",
    )
    about = _grid()
    if state.health is not None and state.health.meaning:
        about.add_row("state", _t(state.health.meaning))
    about.add_row("about", _t(info.description or "-"))
    about.add_row("target", _t(info.target))
    if info.where:
        about.add_row("where", _t(info.where))
    if in_process:
        via = _join("loaded inside goatui (WASM has no health service); latency is the last call's")
    else:
        via = health_line(state)
    about.add_row("health", via)
    if state.latency_at is not None:
        about.add_row(
            "latency",
            _join(
                f"{fmt_ms(state.last_latency)} ms last, {fmt_ms(state.p50)} ms p50",
                _t(f", measured {fmt_age(now - state.latency_at)} ago", "dim"),
            ),
        )
    if process:
        about.add_row("process", _t(process))
    if state.last_error:
        at = f" (at {fmt_clock(state.last_error_at)})" if state.last_error_at else ""
        about.add_row("last error", _join(_t(state.last_error), _t(at, "dim")))
    if info.error:
        about.add_row("register", _t(info.error))

    probes = _grid()
    kept = state.recent.maxlen or len(state.recent)
    probes.add_row("probes", Text(f"newest first, last {kept} kept", style="dim"))
    # The states as one column: the round trips line up below each other.
    width = max((len(status_label(p.health.value)) for p in state.recent), default=0)
    for probe in reversed(state.recent):
        probes.add_row(fmt_clock(probe.at), probe_line(probe, colours, width))

    manifest = _grid()
    if not info.loaded:
        manifest.add_row(
            "manifest",
            Text("not known until GoatFlow loads the plugin: any call (i) loads it"),
        )
    elif info.manifest is None:
        manifest.add_row("manifest", Text("none: the plugin sent none and no plugins dir has it"))
    else:
        manifest.add_row("manifest", _t(f"from {info.manifest.source}", "dim"))
        for label, value in _manifest_rows(info.manifest):
            manifest.add_row(label, value)

    history = _grid()
    kept = state.history.maxlen or len(state.history)
    history.add_row("history", Text(f"newest first, last {kept} kept", style="dim"))
    for change in reversed(state.history):
        more = changes(change.folded, "more ")
        folded = f"  (after {more}, coalesced)" if change.folded else ""
        line = _join(
            Text(change.old, style=colours.get(tone(change.old), "")),
            " → ",
            Text(change.new, style=colours.get(tone(change.new), "")),
            _t(f"  {change.error}" if change.error else "", "dim"),
            Text(folded, style="dim"),
        )
        history.add_row(fmt_clock(change.at), line)
    return Group(title, about, Text(""), probes, Text(""), manifest, Text(""), history)


def health_line(state: PluginState) -> Text:
    """How the state is known: streamed or polled, and what answered the last probe."""
    if state.watching:
        via = "Health.Watch stream"
        if state.flips:
            via += f" ({changes(state.flips)} streamed, shown at most every {WATCH_COALESCE_S:g}s)"
    elif state.watch_paused:
        via = f"polled health check ({state.watch_paused}; {changes(state.flips)} streamed)"
    else:
        via = "polled health check"
    last = state.recent[-1] if state.recent else None
    answered = f"; last answer from {last.source}" if last is not None and last.source else ""
    note = f"; {state.note}" if state.note else ""
    return _join(via, _t(answered), _t(note, "dim"))


def changes(count: int, between: str = "") -> str:
    """ "1 change", "5 changes" ("5 more changes" with between "more ")."""
    return f"{count:,} {between}change" + ("" if count == 1 else "s")


#: States in which a probe without a round trip got no answer at all.
UNANSWERED = frozenset({Health.UNREACHABLE, Health.UNKNOWN})


def probe_line(probe: Probe, colours: Colours, width: int = 0) -> Text:
    """One probe: the state it found (padded to width), its round trip, what answered,
    why it failed."""
    status = probe.health.value
    if probe.latency_ms is not None:
        took = f"{fmt_ms(probe.latency_ms)} ms"
    else:
        # A plugin goatui runs itself (WASM) is known without a round trip.
        took = "no answer" if probe.health in UNANSWERED else "no round trip"
    return _join(
        Text(status_label(status).ljust(width), style=colours.get(tone(status), "")),
        f"  {took}",
        _t(f"  {probe.source}" if probe.source else "", "dim"),
        _t(f"  {probe.error}" if probe.error else ""),
    )


class PluginDetail(VerticalScroll):
    """Scrollable; redrawn when the selected plugin's state changes. `d` maximizes it
    (scroll containers are not maximized by default: Textual's ALLOW_MAXIMIZE)."""

    BINDINGS = VIM_SCROLL
    ALLOW_MAXIMIZE = True

    def compose(self) -> ComposeResult:
        yield Static("Select a plugin to see its details.", id="detail-body")

    def show(
        self,
        state: PluginState | None,
        now: float,
        colours: Colours,
        *,
        process: str = "",
        in_process: bool = False,
    ) -> None:
        body = self.query_one("#detail-body", Static)
        if state is None:
            body.update("No plugin selected.")
        else:
            body.update(detail_renderable(state, now, colours, process, in_process))
