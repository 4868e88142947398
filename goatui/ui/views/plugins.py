"""The Plugins view (home, key 1): live table, filter, detail pane.

All data comes from the monitor (goatui.core.monitor); this view only draws it. Monitor
updates arrive as coalescing PluginsChanged messages: a change of state or of the rows is
drawn at once, a new latency with the next tick, which also moves the "in state" column
along. The view tells the monitor which plugins are on screen (`set_in_view`): those
are probed every interval, the latency of the rest is sampled (issue #19).
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from goatui.core.errors import GoatError
from goatui.core.models import SORT_ORDERS, Health, sort_key
from goatui.core.monitor import PluginState
from goatui.core.sanitize import safe_text
from goatui.ui import auditing
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import toast
from goatui.ui.keys import TextInput, focus_now
from goatui.ui.messages import PluginsChanged, RefreshRequested
from goatui.ui.screens.confirm import ConfirmScreen
from goatui.ui.views.base import View
from goatui.ui.widgets.plugin_detail import PluginDetail
from goatui.ui.widgets.plugin_table import PluginTable, tone_colours
from goatui.ui.widgets.row_table import RowTable

# From this many plugins the table takes new latencies every other tick (2 s, the probe
# interval): with 100 plugins some latency has always changed within the second, and
# each changed row is rendered again (issue #9).
LARGE_FLEET = 50
TICK_S = 1.0


def detail_signature(state: PluginState, now: float) -> tuple[object, ...]:
    """What the detail pane shows (latency is not in it): redraw when this changes."""
    last = state.history[-1] if state.history else None
    return (
        state.key,
        state.status,
        last,
        len(state.history),
        state.info,
        state.last_error,
        state.note,
        state.watching,
        state.probes,
        state.flips,
        state.watch_paused,
        int(now - state.since),
    )


class PluginsView(View):
    LISTENS = True

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="plugins.filter"),
        Binding("i,enter", "invoke", "Invoke", id="plugins.invoke"),
        Binding(
            "s",
            "sort",
            "Sort",
            tooltip="Sort by name, health (worst first), latency (slowest p50 first)",
            id="plugins.sort",
        ),
        Binding(
            "l", "logs", "Logs", tooltip="The Logs view, filtered to this plugin", id="plugins.logs"
        ),
        Binding(
            "d",
            "detail",
            "Detail",
            tooltip="The detail pane alone (escape: back)",
            id="plugins.detail",
        ),
        Binding("escape", "clear_filter", "Clear filter", id="plugins.clear_filter"),
        Binding(
            "R",
            "restart_plugin",
            "Restart (launched) / reload (WASM)",
            show=False,
            id="plugins.restart",
        ),
        Binding("S", "stop_plugin", "Stop (launched)", show=False, id="plugins.stop"),
        # In the footer through a gateway only (offers: a socket has no enable).
        Binding(
            "e",
            "toggle_enabled",
            "Enable/disable",
            tooltip="Enable / disable (gateway)",
            id="plugins.enable",
        ),
    ]

    filter_text: reactive[str] = reactive("", init=False)
    order_by: reactive[str] = reactive(SORT_ORDERS[0], init=False)

    def compose(self) -> ComposeResult:
        with Vertical(id="plugins-main"):
            yield Static(id="plugins-notice")
            with Horizontal(id="plugins-filter-row"):
                yield Label("filter", id="plugins-filter-label")
                yield TextInput(
                    placeholder="part of a name",
                    id="plugins-filter",
                    compact=True,
                    on_submit=self._filter_submitted,
                )
            yield PluginTable(id="plugins-table")
        yield PluginDetail(id="plugins-detail")

    def on_mount(self) -> None:
        self._colours = tone_colours(self.app)
        self._detail_drawn: tuple[object, ...] | None = None
        self._notice: str | None = None
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        # The monitor's generation the rows were drawn at: a change of plugins or states
        # since is drawn at once (a latency waits for the tick).
        self._drawn_generation = -1
        # The order of the rows, kept while neither plugins, states, filter nor sort
        # changed (by latency it changes with every tick).
        self._order: tuple[tuple[object, ...], list[PluginState]] | None = None
        self._ticks = 0
        self.set_interval(TICK_S, self._tick)
        self.watch(self.screen, "maximized", self._maximized_changed, init=False)
        self.redraw()

    def _maximized_changed(self, maximized: Widget | None) -> None:
        # Escape restored the table from `d`: its keys move the cursor again.
        if maximized is None and self.app.focused is self.query_one(PluginDetail):
            focus_now(self.table)

    def default_focus(self) -> Widget | None:
        return self.table

    @property
    def table(self) -> PluginTable:
        return self.query_one(PluginTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#plugins-filter", Input)

    def visible_states(self) -> list[PluginState]:
        """The rows: the plugins the filter lets through, in the chosen order."""
        needle = self.filter_text.strip().lower()
        order = self.order_by
        monitor = self.ctx.monitor
        signature = (monitor.generation, len(monitor.states), needle, order)
        if order != "latency" and self._order is not None and self._order[0] == signature:
            return self._order[1]
        states = sorted(
            (s for s in monitor.states.values() if needle in s.name.lower()),
            key=lambda s: (sort_key(order, s.name, s.status, s.p50), s.key),
        )
        self._order = (signature, states)
        return states

    def selected(self) -> PluginState | None:
        key = self.table.selected_key
        return self.ctx.monitor.states.get(key) if key else None

    def _tick(self) -> None:
        self._ticks += 1
        if len(self.ctx.monitor.states) >= LARGE_FLEET and self._ticks % 2:
            self._show_detail(self.ctx.clock())  # the selected plugin's pane still ticks
            return
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()  # the table's columns follow its width (NARROW_TABLE)

    def redraw(self) -> None:
        now = self.ctx.clock()
        monitor = self.ctx.monitor
        self._drawn_generation = monitor.generation
        table = self.table
        table.show(
            self.visible_states(),
            now,
            self._colours,
            sort=self.order_by,
            stale_after=2 * monitor.interval,
        )
        self._show_detail(now)
        self._show_notice()
        self._tell_in_view()

    def _tell_in_view(self) -> None:
        """The rows on screen, and the selected plugin, are probed every interval."""
        shown = self.table.rows_in_view()
        selected = self.table.selected_key
        self.ctx.monitor.set_in_view([*shown, selected] if selected else shown)

    def _show_notice(self) -> None:
        """One line above the table when discovery fails or finds nothing."""
        monitor = self.ctx.monitor
        signed_out = any(s.problem for s in self.ctx.backend.sign_in_status())
        if monitor.discover_error and signed_out:
            notice = ""  # the app's sign-in notice says why, once
        elif monitor.discover_error:
            notice = f"discovery failed: {monitor.discover_error}"
        elif not monitor.states and monitor.running:
            notice = "no plugins found yet: start one, or point goatui at it (--socket PATH)"
        else:
            notice = ""
        if notice != self._notice:
            self._notice = notice
            widget = self.query_one("#plugins-notice", Static)
            widget.update(safe_text(notice, one_line=True))
            widget.display = bool(notice)

    def _show_detail(self, now: float, *, force: bool = False) -> None:
        """Redraw the detail pane when what it shows changed (selection, state, second)."""
        state = self.selected()
        process = self.process_line(state.name) if state else ""
        inside = state is not None and self.ctx.backend.runs_inside(state.name)
        drawn = (*detail_signature(state, now), process, inside) if state else None
        if force or drawn != self._detail_drawn:
            self._detail_drawn = drawn
            detail = self.query_one(PluginDetail)
            detail.show(state, now, self._colours, process=process, in_process=inside)

    def process_line(self, name: str) -> str:
        """For a plugin goatui launched: its pid, or how it exited; for one it runs itself,
        how it is reloaded ("" for the others)."""
        if self.ctx.backend.runs_inside(name):
            return "a WebAssembly module goatui runs (R reloads it; so does a change of its file)"
        launcher = self.ctx.session.launcher
        launched = launcher.plugins.get(name) if launcher is not None else None
        if launched is None:
            return ""
        if launched.running:
            return f"launched by goatui, pid {launched.pid} (R restarts, S stops)"
        if launched.exit_code is not None:
            how = "stopped" if launched.stopping else "exited"
            return f"{how} with exit code {launched.exit_code} (R restarts)"
        return "launched by goatui, not running (R restarts)"

    def _on_theme_changed(self, _theme: object) -> None:
        self._colours = tone_colours(self.app)
        self.table.forget_drawn()
        self.redraw()
        self._show_detail(self.ctx.clock(), force=True)

    # -- messages ----------------------------------------------------------------------

    def on_plugins_changed(self, _message: PluginsChanged) -> None:
        if self.ctx.monitor.generation != self._drawn_generation:
            self.redraw()  # new, gone or changed state: now; latency waits for the tick

    def on_refresh_requested(self, _message: RefreshRequested) -> None:
        self.redraw()

    @on(RowTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_detail(self.ctx.clock())
        self._tell_in_view()

    @on(RowTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_invoke()  # enter, or a click on the selected row: the plugin's Invoke

    @on(Input.Changed, "#plugins-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value

    def _filter_submitted(self, _value: str) -> None:
        focus_now(self.table)  # the filter stays applied

    @on(Input.Blurred, "#plugins-filter")
    def _filter_blurred(self) -> None:
        if not self.filter_text:
            self.remove_class("-filtering")

    def watch_order_by(self) -> None:
        self.redraw()

    def watch_filter_text(self) -> None:
        self.set_class(bool(self.filter_text), "-filtered")
        self.refresh_bindings()
        self.redraw()

    # -- actions -----------------------------------------------------------------------

    @classmethod
    def offers(cls, action: str, ctx: ConsoleContext) -> bool:
        launches = ctx.session.launcher is not None or bool(ctx.session.to_launch)
        if action == "toggle_enabled":
            return ctx.backend.capabilities.enable_disable
        if action == "restart_plugin":  # R restarts what goatui launched, reloads WASM
            return launches or ctx.backend.capabilities.in_process
        if action == "stop_plugin":
            return launches
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.filter_text) or self.filter_input.has_focus
        return super().check_action(action, parameters)

    def action_sort(self) -> None:
        """By name, by health (worst first), by latency (slowest p50 first), and again."""
        following = (SORT_ORDERS.index(self.order_by) + 1) % len(SORT_ORDERS)
        self.order_by = SORT_ORDERS[following]

    def show_plugin(self, name: str) -> None:
        """Put the cursor on a plugin's row (the filter cleared if it hides it)."""
        state = self.ctx.monitor.get(name)
        if state is None:
            return
        if state not in self.visible_states():
            self.action_clear_filter()
        self.redraw()
        if state.key in self.table.rows:
            self.table.move_cursor(row=self.table.rows.index(state.key))
        focus_now(self.table)

    def filter_to(self, text: str) -> None:
        """Show only the plugins whose name has text (the filter field shows it)."""
        self.filter_input.value = text
        self.filter_text = text
        self.add_class("-filtering")
        focus_now(self.table)

    def action_filter(self) -> None:
        self.add_class("-filtering")
        focus_now(self.filter_input)

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""
        self.filter_text = ""
        self.remove_class("-filtering")
        focus_now(self.table)

    def action_logs(self) -> None:
        state = self.selected()
        if state is None:
            toast(self, "no plugin selected", severity="warning")
            return
        self.show_view("logs", plugin=state.name)

    def action_detail(self) -> None:
        """The detail pane maximized and focused (j, k scroll; escape restores)."""
        detail = self.query_one(PluginDetail)
        # The pane itself, not the first maximizable container around it (the tabs).
        self.screen.maximize(detail, container=False)
        focus_now(detail)

    def action_invoke(self) -> None:
        state = self.selected()
        if self.ctx.read_only:
            toast(self, "read-only: invoking is disabled", severity="warning")
            return
        if state is None:
            toast(self, "no plugin selected", severity="warning")
            return
        self.show_view("invoke", plugin=state.name)

    # -- lifecycle of launched plugins, enable / disable through a gateway --------------

    def _changeable(self, verb: str) -> PluginState | None:
        """The selected plugin, or None after saying why nothing can be done."""
        if self.ctx.read_only:
            toast(self, f"read-only: {verb} is disabled", severity="warning")
            return None
        state = self.selected()
        if state is None:
            toast(self, "no plugin selected", severity="warning")
        return state

    def action_restart_plugin(self) -> None:
        self._lifecycle("restart")

    def action_stop_plugin(self) -> None:
        self._lifecycle("stop")

    def _lifecycle(self, verb: str) -> None:
        state = self._changeable(f"{verb}ping plugins")
        if state is None:
            return
        if verb == "restart" and self.ctx.backend.runs_inside(state.name):
            self._reload(state.name)
            return
        if not self.ctx.session.is_launched(state.name):
            toast(
                self,
                f"{state.name} was not started by goatui: only those can be {verb}ed here",
                severity="warning",
            )
            return
        if verb == "restart":
            self._restart(state.name)
            return
        question = Text.assemble("Stop plugin ", safe_text(state.name, "bold", one_line=True), "?")
        detail = "SIGTERM, then SIGKILL after the grace period; R starts it again."
        name = state.name

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._stop(name)

        self.app.push_screen(ConfirmScreen(question, "Stop", detail=detail), confirmed)

    @work(group="plugins-lifecycle", exit_on_error=False)
    async def _restart(self, name: str) -> None:
        toast(self, f"restarting {name} …", timeout=2)
        try:
            restarted = await self.ctx.session.restart_plugin(name)
        except GoatError as exc:
            toast(self, f"could not restart {name}: {exc.line()}", severity="error")
            return
        toast(self, f"{name} restarted (pid {restarted.pid})")
        self.ctx.monitor.refresh()
        self.redraw()

    @work(group="plugins-lifecycle", exit_on_error=False)
    async def _reload(self, name: str) -> None:
        try:
            said = await self.ctx.session.reload_plugin(name)
        except GoatError as exc:
            toast(self, f"could not reload {name}: {exc.line()}", severity="error")
        else:
            toast(self, said)
        self.ctx.monitor.refresh()
        self.redraw()

    @work(group="plugins-lifecycle", exit_on_error=False)
    async def _stop(self, name: str) -> None:
        try:
            stopped = await self.ctx.session.stop_plugin(name)
        except GoatError as exc:
            toast(self, f"could not stop {name}: {exc.line()}", severity="error")
            return
        toast(self, f"{name} stopped (exit code {stopped.exit_code})")
        self.ctx.monitor.refresh()
        self.redraw()

    def action_toggle_enabled(self) -> None:
        state = self._changeable("enabling and disabling plugins")
        if state is None:
            return
        if state.health not in (Health.ENABLED, Health.DISABLED):
            toast(
                self,
                "enabling and disabling plugins needs a gateway (--gateway URL)",
                severity="warning",
            )
            return
        enable = state.health == Health.DISABLED
        verb = "Enable" if enable else "Disable"
        question = Text.assemble(
            f"{verb} plugin ", safe_text(state.name, "bold", one_line=True), " on the gateway?"
        )
        detail = (
            "GoatFlow will load it and route calls to it again."
            if enable
            else "GoatFlow stops routing calls, widgets and jobs to it for every user."
        )
        name = state.name

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._set_enabled(name, enable)

        self.app.push_screen(ConfirmScreen(question, verb, detail=detail), confirmed)

    @work(group="plugins-enable", exit_on_error=False)
    async def _set_enabled(self, name: str, enable: bool) -> None:
        action = "enable" if enable else "disable"
        try:
            status = await self.ctx.backend.set_enabled(name, enable)
        except GoatError as exc:
            auditing.record(self, self.ctx, action, name, error=exc)
            toast(self, f"could not {action} {name}: {exc.line()}", severity="error")
            return
        auditing.record(self, self.ctx, action, name)
        toast(self, f"{name}: {status}")
        self.ctx.monitor.refresh()
