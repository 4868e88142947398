"""Plugin dashboard widgets across plugins: listing, fetching one, and laying them out.

A manifest declares widgets (`id`, `title`, `handler`, `location`, `size`, optional
`refreshable`, `refresh_sec`, `description`, `order`). GoatFlow renders one by calling
its handler with `{}` and showing the HTML (PROTOCOL.md); `fetch_widget` does the same
through whichever backend is in use, and `goatui.core.widgets.html_render` turns the HTML into
terminal text. Used by the CLI (`goatui widget`) and the console's Widgets view alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

from goatui.core.backends.base import Backend
from goatui.core.errors import GoatError, NotFound, TimedOut, Unreachable, not_loaded_error
from goatui.core.models import PluginInfo, natural_key
from goatui.core.sanitize import sanitize_line
from goatui.core.widgets.html_render import render_html

#: Where a widget without a `location` goes: GoatFlow's widget list defaults to it.
DEFAULT_LOCATION = "dashboard"
DEFAULT_SIZE = "medium"
#: Width hints as twelfths of the width: a terminal cell is wide, so a small widget
#: gets a third (a quarter would leave ~20 columns at 80), medium half, large two thirds.
SIZE_SPANS: dict[str, int] = {"small": 4, "medium": 6, "large": 8, "full": 12}
GRID_COLUMNS = 12
#: Narrower than this, side-by-side panels would wrap every word: all go full width.
STACK_BELOW_COLUMNS = 80
#: A refreshable widget that names no refresh_sec (GoatFlow documents no default).
DEFAULT_REFRESH_S = 60.0
#: Floor for refresh_sec: a plugin asking for 0 or 0.1 s must not be hammered.
MIN_REFRESH_S = 2.0
# The backend enforces the deadline; this slack only catches one that does not (a hung
# resolve, a gateway ignoring its timeout) without cutting a legitimate answer short.
_DEADLINE_SLACK_S = 2.0


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    # bool is an int in Python; `"refresh_sec": true` is not a number of seconds.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class WidgetSpec:
    """One widget a plugin's manifest declares, with defaults filled and values checked.

    Text fields are the plugin's own (unsanitised): compare with them, display them
    through `sanitize_line`.
    """

    plugin: str
    id: str
    title: str
    handler: str
    location: str = DEFAULT_LOCATION
    size: str = DEFAULT_SIZE  # one of SIZE_SPANS
    refreshable: bool = False
    # Seconds between refreshes, clamped to MIN_REFRESH_S; None when not refreshable.
    refresh_s: float | None = None
    description: str = ""
    order: int = 0
    # Position in the plugin's manifest: keeps equal `order`s in manifest order.
    index: int = 0

    @classmethod
    def from_manifest(cls, plugin: str, entry: Mapping[str, Any], index: int = 0) -> WidgetSpec:
        """Read a manifest `widgets` entry; missing or mistyped fields get defaults."""
        widget_id = _text(entry, "id")
        size = _text(entry, "size").strip().lower()
        refreshable = entry.get("refreshable") is True
        refresh_s: float | None = None
        if refreshable:
            declared = _number(entry.get("refresh_sec"))
            refresh_s = DEFAULT_REFRESH_S if declared is None else max(declared, MIN_REFRESH_S)
        order = _number(entry.get("order"))
        return cls(
            plugin=plugin,
            id=widget_id,
            title=_text(entry, "title") or widget_id,
            handler=_text(entry, "handler"),
            location=_text(entry, "location").strip() or DEFAULT_LOCATION,
            size=size if size in SIZE_SPANS else DEFAULT_SIZE,
            refreshable=refreshable,
            refresh_s=refresh_s,
            description=_text(entry, "description"),
            order=int(order) if order is not None and abs(order) < 1e9 else 0,
            index=index,
        )

    @property
    def key(self) -> tuple[str, str, int]:
        """Unique across plugins even when a manifest repeats an id."""
        return (self.plugin, self.id, self.index)

    @property
    def span(self) -> int:
        return SIZE_SPANS[self.size]

    @property
    def display_title(self) -> str:
        return sanitize_line(self.title)


def widgets_of(plugin: PluginInfo) -> list[WidgetSpec]:
    """A plugin's widgets in manifest order; entries without an id cannot be addressed."""
    if plugin.manifest is None:
        return []
    return [
        WidgetSpec.from_manifest(plugin.name, entry, index)
        for index, entry in enumerate(plugin.manifest.widgets)
        if _text(entry, "id")
    ]


def _sort_key(spec: WidgetSpec) -> tuple[object, ...]:
    return (spec.order, natural_key(spec.plugin), spec.index)


def widgets_from(plugins: Iterable[PluginInfo]) -> list[WidgetSpec]:
    """Every widget of these plugins, sorted by `order`, then plugin name, then manifest."""
    return sorted((w for p in plugins for w in widgets_of(p)), key=_sort_key)


def group_by_location(specs: Iterable[WidgetSpec]) -> list[tuple[str, list[WidgetSpec]]]:
    """(location, widgets) pairs: the dashboard first, then the others by name."""
    groups: dict[str, list[WidgetSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.location, []).append(spec)
    names = sorted(groups, key=lambda name: (name != DEFAULT_LOCATION, name))
    return [(name, groups[name]) for name in names]


def pack_rows(specs: Iterable[WidgetSpec]) -> list[list[WidgetSpec]]:
    """Widgets in rows of at most GRID_COLUMNS twelfths, in order, wrapping as needed."""
    rows: list[list[WidgetSpec]] = []
    used = GRID_COLUMNS
    for spec in specs:
        if used + spec.span > GRID_COLUMNS:
            rows.append([])
            used = 0
        rows[-1].append(spec)
        used += spec.span
    return rows


# ---------------------------------------------------------------------------------------
# Listing


@dataclass(frozen=True)
class WidgetListing:
    """Every widget the found plugins declare."""

    plugins: list[PluginInfo]
    widgets: list[WidgetSpec]

    @property
    def without_manifest(self) -> list[PluginInfo]:
        """Plugins whose widgets cannot be known: no manifest from them or the plugins dir."""
        return [p for p in self.plugins if p.manifest is None]

    def plugin(self, name: str) -> PluginInfo:
        """The plugin listed as name; NotFound (exit 2) naming the known ones if absent."""
        for info in self.plugins:
            if info.name == name:
                return info
        known = ", ".join(sorted((p.name for p in self.plugins), key=natural_key)) or "none found"
        raise NotFound(f"unknown plugin {name!r} (known: {known})", "see `goatui ls`")

    def find(self, plugin: str, widget_id: str) -> WidgetSpec:
        """One widget. NotFound (exit 2) naming the plugin's widget ids, or saying why
        there are none; Unreachable (exit 3) when the plugin did not answer Register."""
        info = self.plugin(plugin)
        if not info.loaded:
            raise not_loaded_error(plugin, f"widget {widget_id}")
        if info.manifest is None:
            if info.error:
                raise Unreachable(
                    f"plugin {plugin!r} did not answer Register ({info.error}), "
                    "so its widgets are unknown",
                    "pass --plugins-dir to read its manifest",
                )
            raise NotFound(
                f"no manifest is known for plugin {plugin!r}, so its widget {widget_id!r} "
                "cannot be found without one",
                f"pass --plugins-dir DIR, or call the handler: goatui call {plugin} HANDLER",
            )
        widgets = [w for w in self.widgets if w.plugin == plugin]
        for spec in widgets:
            if spec.id == widget_id:
                return spec
        known = ", ".join(repr(w.id) for w in widgets) or "none declared"
        raise NotFound(f"plugin {plugin!r} has no widget {widget_id!r} (its widgets: {known})")


async def list_widgets(backend: Backend) -> WidgetListing:
    plugins = await backend.list_plugins()
    return WidgetListing(plugins=plugins, widgets=widgets_from(plugins))


# ---------------------------------------------------------------------------------------
# Fetching


async def widget_html(backend: Backend, spec: WidgetSpec, timeout: float) -> tuple[str, float]:
    """The widget's HTML and how long it took (ms), as GoatFlow gets it.

    Raises GoatError subclasses: RemoteError (exit 1) for a result that is neither
    `{"html": ...}` nor HTML, TimedOut (exit 3) when the deadline passes.
    """
    try:
        async with asyncio.timeout(timeout + _DEADLINE_SLACK_S):
            return await backend.widget_html(spec.plugin, spec.handler, spec.id, timeout)
    except (TimedOut, TimeoutError):
        raise TimedOut(
            sanitize_line(f"widget {spec.id!r} of {spec.plugin} timed out after {timeout:g}s"),
            "check the plugin, or raise --timeout",
        ) from None


@dataclass(frozen=True)
class WidgetRender:
    """One fetch of a widget: its HTML, or why there is none, and when and how fast."""

    spec: WidgetSpec
    at: float  # epoch seconds, when the answer came
    html: str | None = None
    error: str = ""  # one sanitised line; "" when html is set
    duration_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.html is not None


async def fetch_widget(
    backend: Backend,
    spec: WidgetSpec,
    timeout: float,
    *,
    clock: Callable[[], float] = time.time,
) -> WidgetRender:
    """Fetch a widget for display. Never raises a GoatError; cancellation passes."""
    started = time.perf_counter()
    try:
        html, duration_ms = await widget_html(backend, spec, timeout)
    except GoatError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return WidgetRender(spec, clock(), error=exc.line(), duration_ms=elapsed)
    return WidgetRender(spec, clock(), html=html, duration_ms=duration_ms)


# ---------------------------------------------------------------------------------------
# Showing


def format_duration(ms: float | None) -> str:
    """ "4 ms", "<1 ms", "1.25 s"; "" when unknown."""
    if ms is None:
        return ""
    if ms < 1:
        return "<1 ms"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def format_refresh(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 120 else f"{seconds / 60:g} min"


def status_line(
    spec: WidgetSpec,
    render: WidgetRender | None,
    zone: tzinfo,
    *,
    fetching: bool = False,
    duration: Callable[[float | None], str] = format_duration,
    width: int | None = None,
) -> str:
    """A panel's subtitle: "large · updated 12:03:04 · 4 ms · every 30 s · analytics".

    With width, the longest form that fits: the least useful parts go first (plugin
    name, refresh interval, size, the word "updated").
    """
    when = took = ""
    if render is not None:
        when = f"{datetime.fromtimestamp(render.at, zone):%H:%M:%S}"
        took = duration(render.duration_ms)
    state = ""
    if fetching:
        state = "loading…" if render is None else "refreshing…"
    verb = "updated" if render is None or render.ok else "failed"
    every = f"every {format_refresh(spec.refresh_s)}" if spec.refresh_s is not None else ""
    plugin = sanitize_line(spec.plugin)

    def join(*parts: str) -> str:
        return " · ".join(part for part in parts if part)

    stamp = f"{verb} {when}" if when else ""
    forms = [
        join(spec.size, stamp, took, state, every, plugin),
        join(spec.size, stamp, took, state, every),
        join(spec.size, stamp, took, state),
        join(stamp, took, state),
        join(when if render is None or render.ok else stamp, took, state),
        join(when, state),
    ]
    if width is None:
        return forms[0]
    return next((form for form in forms if cell_len(form) <= width), forms[-1])


class HtmlAtWidth:
    """Widget HTML as a Rich renderable laid out at whatever width it is given.

    The console hands it to a panel once; every resize renders it again from the HTML
    at the new width (no refetch). The last few widths are cached: a repaint at an
    unchanged width does not parse the HTML again.
    """

    _KEEP = 4

    def __init__(self, html: str) -> None:
        self.html = html
        self._by_width: dict[int, RenderableType] = {}

    def at(self, width: int) -> RenderableType:
        width = max(1, width)
        renderable = self._by_width.get(width)
        if renderable is None:
            if len(self._by_width) >= self._KEEP:
                self._by_width.pop(next(iter(self._by_width)))
            renderable = self._by_width[width] = render_html(self.html, width)
        return renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.at(options.max_width)
