"""The Widgets view (key 3): every plugin's dashboard widgets, rendered as terminal text.

Widgets come from the manifests the monitor holds, grouped by location, one focusable
`WidgetPanel` each, in rows whose widths follow the manifest's `size` (see
`goatui.core.widgets.SIZE_SPANS`; below 80 columns every panel takes the full width).
Each panel fetches in its own exclusive worker under the call deadline, so a slow or
failing widget only affects its own panel. A panel fetches (and its refresh timer runs)
only while it is on screen, or within a screen below it, and the view is shown.

Manifests may declare thousands of widgets (2,000 froze the console 3-10 s a key,
issue #18): panels are mounted `PAGE` at a time, the next page when the operator
scrolls or moves near the end; the rest are counted on a line below them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.console import Group, RenderableType
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from goatui.core.jobs.zones import local_zone
from goatui.core.models import natural_key
from goatui.core.sanitize import safe_text
from goatui.core.widgets.dashboard import (
    GRID_COLUMNS,
    STACK_BELOW_COLUMNS,
    HtmlAtWidth,
    WidgetRender,
    WidgetSpec,
    fetch_widget,
    format_duration,
    group_by_location,
    pack_rows,
    status_line,
    widgets_from,
)
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import describe
from goatui.ui.keys import KeysInOrder, focus_now
from goatui.ui.messages import PluginsChanged, RefreshRequested
from goatui.ui.views.base import View

WidgetKey = tuple[str, str, int]
# Panels mounted at a time (and fetched only while on screen).
PAGE = 30
# What the view mounts, in order: a location's heading (location, its count) or a row.
Item = tuple[str, int] | list[WidgetSpec]


@dataclass
class PanelMemory:
    """What a panel showed, kept by the view so a rebuilt panel starts from it."""

    last: WidgetRender | None = None
    # The last successful HTML, still shown (below the error) when a refresh fails.
    content: HtmlAtWidth | None = None
    good_at: float | None = None
    # Event-loop time of the last answer: decides staleness, whatever the shown clock says.
    fetched_at: float | None = None


class WidgetPanel(KeysInOrder, Widget, can_focus=True):
    """One widget: its rendered HTML in a bordered panel titled with the widget's title."""

    DEFAULT_CSS = """
    WidgetPanel {
        height: auto;
        min-height: 3;
        padding: 0 1;
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    WidgetPanel:focus {
        border: round $accent;
        border-title-style: bold;
    }
    WidgetPanel.-error {
        border: round $error 60%;
    }
    WidgetPanel.-error:focus {
        border: round $error;
    }
    WidgetPanel > .widget-panel--error {
        color: $text-error;
        text-style: bold;
    }
    WidgetPanel > .widget-panel--muted {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = {"widget-panel--error", "widget-panel--muted"}

    BINDINGS = [
        Binding("up,k", "move('up')", "The panel above", show=False, id="widgets.up"),
        Binding("down,j", "move('down')", "The panel below", show=False, id="widgets.down"),
        Binding("left", "move('left')", "The panel to the left", show=False, id="widgets.left"),
        Binding("right", "move('right')", "The panel to the right", show=False, id="widgets.right"),
    ]

    def __init__(self, spec: WidgetSpec, memory: PanelMemory, view: WidgetsView) -> None:
        super().__init__(classes=f"-span-{spec.span}")
        self.spec = spec
        self.memory = memory
        self._view = view
        self.fetching = False
        # On screen (or about to be) while the view is shown: fetches and refreshes.
        self.active = False
        # Bumped per fetch: an answer from a replaced fetch is dropped, not shown.
        self._generation = 0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        # Text, not str: Textual would parse a str title as markup.
        self.border_title = Text(self.spec.display_title)
        if self.spec.description:
            self.tooltip = safe_text(f"{self.spec.title}\n{self.spec.description}")
        if self.spec.refresh_s is not None:
            self._timer = self.set_interval(self.spec.refresh_s, self._tick, pause=True)
        self._draw()
        self._view.check_visibility()

    # -- fetching ----------------------------------------------------------------------

    def activate(self) -> None:
        """On screen: fetch if never fetched or stale, and let the timer run."""
        self.active = True
        if self._timer is not None:
            self._timer.resume()
        if self.fetching:
            return
        fetched = self.memory.fetched_at
        refresh = self.spec.refresh_s
        stale = refresh is not None and fetched is not None and self._now() - fetched >= refresh
        if fetched is None or stale:
            self.reload()

    def deactivate(self) -> None:
        self.active = False
        if self._timer is not None:
            self._timer.pause()

    def _tick(self) -> None:
        # A tick while a fetch is in flight is dropped: fetches never pile up.
        if not self.fetching:
            self.reload()

    def reload(self) -> None:
        """Fetch now, replacing a fetch in flight (the operator asked for a fresh one)."""
        self._generation += 1
        self.fetching = True
        self._draw_status()
        self.run_worker(
            self._fetch(self._generation),
            name=f"widget {self.spec.plugin}/{self.spec.id}",
            group="widget-fetch",
            exclusive=True,
            exit_on_error=False,
        )

    async def _fetch(self, generation: int) -> None:
        view = self._view
        try:
            render = await fetch_widget(
                view.ctx.backend, self.spec, view.ctx.config.timeout, clock=view.clock
            )
        except Exception as exc:  # not a GoatError: still this panel's problem alone
            render = WidgetRender(self.spec, view.clock(), error=describe(exc))
        if generation != self._generation:
            return
        self.fetching = False
        memory = self.memory
        memory.last = render
        memory.fetched_at = self._now()
        if render.html is not None:
            memory.content = HtmlAtWidth(render.html)
            memory.good_at = render.at
        self._draw()

    def _now(self) -> float:
        return time.monotonic()

    # -- drawing -----------------------------------------------------------------------

    def _draw(self) -> None:
        last = self.memory.last
        self.set_class(last is not None and not last.ok, "-error")
        self._draw_status()
        self.refresh(layout=True)

    def _draw_status(self) -> None:
        view = self._view
        self.border_subtitle = Text(
            status_line(
                self.spec,
                self.memory.last,
                view.zone,
                fetching=self.fetching,
                duration=view.duration_text,
                # The border keeps a corner, a rule and a space on each side.
                width=max(1, self.outer_size.width - 6) if self.outer_size.width else None,
            )
        )

    def on_resize(self) -> None:
        self._draw_status()

    def render(self) -> RenderResult:
        memory = self.memory
        last = memory.last
        muted = self.get_component_rich_style("widget-panel--muted", partial=True)
        if last is None:
            return Text("loading…" if self.fetching else "not loaded yet", style=muted)
        if last.ok:
            if last.html is not None and not last.html.strip():
                return Text("(the widget returned no HTML)", style=muted)
            return memory.content or Text()
        error = self.get_component_rich_style("widget-panel--error", partial=True)
        parts: list[RenderableType] = [Text(f"✖ {last.error}", style=error)]
        if memory.content is not None and memory.good_at is not None:
            when = self._view.time_text(memory.good_at)
            parts.append(Text(f"last good content, from {when}:", style=muted))
            parts.append(memory.content)
        return Group(*parts)

    # -- keys --------------------------------------------------------------------------

    def action_move(self, direction: str) -> None:
        self._view.move_focus(self, direction)


class WidgetsView(View):
    LISTENS = True
    HELP_FROM = (WidgetPanel,)

    BINDINGS = [
        Binding("R", "refresh_all", "Refresh all", id="widgets.refresh_all"),
    ]

    def __init__(self, ctx: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(ctx, id=id)
        self._zone: tzinfo | None = None
        #: How render durations are written; replaced by tests that need fixed text.
        self.duration_text: Callable[[float | None], str] = format_duration
        #: True while the view is on screen: panels fetch and refresh only then.
        self.active = False
        self._specs: list[WidgetSpec] = []
        # The plugins (and their infos) the widgets were read from: read again on a change.
        self._read_from: tuple[tuple[str, object], ...] | None = None
        self._memory: dict[WidgetKey, PanelMemory] = {}
        self._last_focused: WidgetKey | None = None
        # What to mount, in order, and how much of it is mounted (a page at a time).
        self._items: list[Item] = []
        self._mounted_items = 0
        self._visibility_due = False
        self._showing_more = asyncio.Lock()

    # -- state -------------------------------------------------------------------------

    def clock(self) -> float:
        return self.ctx.clock()

    @property
    def zone(self) -> tzinfo:
        if self._zone is None:
            self._zone = local_zone()
        return self._zone

    def time_text(self, at: float) -> str:
        return f"{datetime.fromtimestamp(at, self.zone):%H:%M:%S}"

    @property
    def panels(self) -> list[WidgetPanel]:
        return list(self.query(WidgetPanel))

    def panel(self, plugin: str, widget_id: str) -> WidgetPanel | None:
        return next(
            (p for p in self.panels if (p.spec.plugin, p.spec.id) == (plugin, widget_id)), None
        )

    def _current_specs(self) -> list[WidgetSpec]:
        return widgets_from(s.info for s in self.ctx.live_plugins())

    def _plugins_changed(self) -> bool:
        """The plugins or their manifests changed since the widgets were read."""
        read_from = tuple((s.key, s.info) for s in self.ctx.live_plugins())
        changed = read_from != self._read_from
        self._read_from = read_from
        return changed

    def _focused_panel(self) -> WidgetPanel | None:
        focused = self.app.focused
        if isinstance(focused, WidgetPanel) and focused in self.panels:
            return focused
        return None

    # -- building ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="widgets-header")
        scroll = VerticalScroll(id="widgets-scroll")
        # Panels take focus (and scroll into view with it); the container need not.
        scroll.can_focus = False
        with scroll:
            yield from self._body()

    def _body(self) -> Iterator[Widget]:
        if not self._specs:
            yield Static(
                "no widgets: no plugin found declares any (manifest `widgets`)",
                classes="placeholder",
            )
            return
        self._items = []
        for location, specs in group_by_location(self._specs):
            self._items.append((location, len(specs)))
            self._items.extend(pack_rows(specs))
        self._mounted_items = 0
        yield from self._next_page()
        if self._mounted_items < len(self._items):
            yield Static(self._more_text(), id="widgets-more", classes="placeholder")

    def _next_page(self) -> Iterator[Widget]:
        """The widgets of the next PAGE panels (and the headings among them)."""
        panels = 0
        while self._mounted_items < len(self._items) and panels < PAGE:
            item = self._items[self._mounted_items]
            self._mounted_items += 1
            if isinstance(item, tuple):
                location, count = item
                text = f"{location} · {count:,} widget{'s' * (count != 1)}"
                yield Static(safe_text(text, one_line=True), classes="widgets-location")
                continue
            panels += len(item)
            yield self._row(item)

    def _row(self, row: Sequence[WidgetSpec]) -> Horizontal:
        cells: list[Widget] = [
            WidgetPanel(spec, self._memory.setdefault(spec.key, PanelMemory()), self)
            for spec in row
        ]
        rest = GRID_COLUMNS - sum(spec.span for spec in row)
        if rest:
            cells.append(Static(classes=f"widgets-spacer -span-{rest}"))
        # Built whole, not with `with`: pages are mounted outside compose.
        return Horizontal(*cells, classes="widgets-row")

    def _more_text(self) -> str:
        mounted = sum(len(i) for i in self._items[: self._mounted_items] if isinstance(i, list))
        more = len(self._specs) - mounted
        return f"… {more:,} more widget{'s' * (more != 1)}: scroll down or move past the last"

    async def show_more(self) -> bool:
        """Mount the next page of panels; False when every panel is mounted already."""
        async with self._showing_more:  # one page at a time, whoever asks
            if self._mounted_items >= len(self._items):
                return False
            page = list(self._next_page())
            more = self.query_one("#widgets-more", Static)
            scroll = self.query_one("#widgets-scroll", VerticalScroll)
            await scroll.mount_all(page, before=more)
            if self._mounted_items >= len(self._items):
                await more.remove()
            else:
                more.update(self._more_text())
        self._draw_header()
        self.check_visibility()
        return True

    def on_mount(self) -> None:
        self._plugins_changed()
        self._specs = self._current_specs()
        scroll = self.query_one("#widgets-scroll", VerticalScroll)
        self.watch(scroll, "scroll_y", self._scrolled, init=False)
        self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        """Replace the panels with ones for `_specs`; what they showed is kept."""
        focused = self._focused_panel()
        wanted = focused.spec.key if focused is not None else None
        keys = {spec.key for spec in self._specs}
        for key in [k for k in self._memory if k not in keys]:
            del self._memory[key]
        scroll = self.query_one("#widgets-scroll", VerticalScroll)
        async with self._showing_more, self.batch():
            await scroll.remove_children()
            await scroll.mount_all(list(self._body()))
        self._draw_header()
        if wanted is not None:
            for panel in self.panels:
                if panel.spec.key == wanted:
                    panel.focus()

    def _draw_header(self) -> None:
        plugins = {s.plugin for s in self._specs}
        count = len(self._specs)
        text = (
            f"{count:,} widget{'s' * (count != 1)} from {len(plugins):,} "
            f"plugin{'s' * (len(plugins) != 1)} · r refreshes the focused one, R all shown"
        )
        bare = [s.name for s in self.ctx.live_plugins() if s.info.manifest is None]
        if len(bare) > 10:  # a fleet of them: a count, not a screenful of names
            text += f" · no manifest: {len(bare):,} plugins"
        elif bare:
            text += f" · no manifest: {', '.join(sorted(bare, key=natural_key))}"
        if text == getattr(self, "_header_text", None):
            return  # every probe lands here: lay the screen out again only on a change
        self._header_text = text
        # Plugin names are the plugins' own text: escaped, one line, never markup.
        self.query_one("#widgets-header", Static).update(safe_text(text, one_line=True))

    # -- visibility and size -----------------------------------------------------------

    @on(events.Show)
    def _shown(self) -> None:
        self.active = True
        self.check_visibility()

    @on(events.Hide)
    def _hidden(self) -> None:
        self.active = False
        for panel in self.panels:
            panel.deactivate()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < STACK_BELOW_COLUMNS, "-stacked")
        self.check_visibility()

    def _scrolled(self) -> None:
        self.check_visibility()

    def check_visibility(self) -> None:
        """Soon (after the layout): panels on screen, or within a screen below, fetch
        and refresh; the others do not."""
        if not self._visibility_due:
            self._visibility_due = True
            self.call_after_refresh(self._apply_visibility)

    def _apply_visibility(self) -> None:
        self._visibility_due = False
        scroll = self.query_one("#widgets-scroll", VerticalScroll)
        viewport = scroll.region
        near = viewport._replace(height=viewport.height * 2)
        for panel in self.panels:
            if self.active and viewport and panel.region.overlaps(near):
                if not panel.active:
                    panel.activate()
            elif panel.active:
                panel.deactivate()
        # Within a screen of the end of what is mounted: the next page.
        near_end = scroll.scroll_y >= scroll.max_scroll_y - scroll.size.height
        if self.active and viewport and near_end and self._mounted_items < len(self._items):
            self.run_worker(self.show_more(), group="widgets-more", exclusive=True)

    def default_focus(self) -> Widget | None:
        panels = self.panels
        if not panels:
            return None
        wanted = self._last_focused
        return next((p for p in panels if p.spec.key == wanted), panels[0])

    @on(events.DescendantFocus)
    def _remember_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, WidgetPanel):
            self._last_focused = event.widget.spec.key

    def move_focus(self, panel: WidgetPanel, direction: str) -> None:
        """Arrow keys: left/right along the order, up/down to the nearest panel there;
        past the last panel mounted, the next page is mounted first."""
        panels = self.panels
        if panel not in panels:
            return
        more = self._mounted_items < len(self._items)
        if more and direction in ("down", "right") and panel in panels[-GRID_COLUMNS:]:
            self.run_worker(self._more_then_move(panel, direction), group="widgets-move")
            return
        self._move_focus(panels, panel, direction)

    async def _more_then_move(self, panel: WidgetPanel, direction: str) -> None:
        await self.show_more()
        self._move_focus(self.panels, panel, direction)

    def _move_focus(self, panels: list[WidgetPanel], panel: WidgetPanel, direction: str) -> None:
        target: WidgetPanel | None = None
        if direction in ("left", "right"):
            index = panels.index(panel) + (1 if direction == "right" else -1)
            target = panels[index] if 0 <= index < len(panels) else None
        else:
            here = panel.region
            centre = here.x + here.width / 2
            if direction == "up":
                candidates = [p for p in panels if p.region.y < here.y]
                row = max((p.region.y for p in candidates), default=None)
            else:
                candidates = [p for p in panels if p.region.y > here.y]
                row = min((p.region.y for p in candidates), default=None)
            in_row = [p for p in candidates if p.region.y == row]
            target = min(
                in_row,
                key=lambda p: abs(p.region.x + p.region.width / 2 - centre),
                default=None,
            )
        if target is not None:
            focus_now(target)

    # -- messages and actions ----------------------------------------------------------

    def context_changed(self, old: str, new: str) -> None:
        """What the panels showed came from the old context: none of it is kept."""
        self._memory.clear()
        self._specs = []
        self.run_worker(self._rebuild(), group="widgets-context", exclusive=True)

    async def on_plugins_changed(self, _message: PluginsChanged) -> None:
        if not self._plugins_changed():
            return  # most updates are probes: nothing to rebuild
        specs = self._current_specs()
        if specs != self._specs:
            self._specs = specs
            await self._rebuild()
        else:
            self._draw_header()

    def on_refresh_requested(self, _message: RefreshRequested) -> None:
        focused = self._focused_panel()
        if focused is not None:
            focused.reload()
        else:
            self.action_refresh_all()

    def action_refresh_all(self) -> None:
        """Every panel on screen fetches now; the others when next shown."""
        for panel in self.panels:
            if panel.active:
                panel.reload()
            else:
                panel.memory.fetched_at = None
