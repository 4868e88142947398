"""The Logs view (key 5): the log stream, and the host-call trace (`t`).

Entries come from the session's LogStore (goatui.core.logs): plugins' Log calls to the
host, launched plugins' stdout/stderr, or GoatFlow's buffer polled through a gateway.
The view pulls what is new ten times a second and appends it in one batch to a `Log`
widget, which keeps plain lines and renders only those on screen, so a firehose costs a
list append per entry and nothing per frame. Lines have fixed columns (time, plugin,
level), which lets one highlighter colour the level word and mark search matches.
Text is sanitised as it is formatted; the store keeps it raw.
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.highlighter import Highlighter
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Log, Select, Static

from goatui.core.backends.base import LogSource
from goatui.core.errors import GoatError
from goatui.core.hosting.stores import HostCall
from goatui.core.logs import (
    LEVEL_NAMES,
    LogEntry,
    LogFilter,
    default_export_path,
    export_jsonl,
    level_label,
    local_time,
)
from goatui.core.models import natural_key
from goatui.core.sanitize import safe_text, sanitize_line
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import describe, toast
from goatui.ui.format import shorten
from goatui.ui.keys import KeysInOrder, TextInput, focus_now
from goatui.ui.screens.attach_host import AttachHostScreen
from goatui.ui.scrolling import VIM_SCROLL, JumpScroll
from goatui.ui.views.base import View

TICK_S = 0.25
# Lines kept on screen; the store keeps more (config log_buffer) and export takes all.
MAX_LINES = 5_000
TRACE_LINES = 2_000
TIME_W = 12  # HH:MM:SS.mmm
PLUGIN_W = 16
LEVEL_W = 7  # WARNING
METHOD_W = 11  # CacheDelete

_LEVEL_TONES = {
    "error": "error",
    "err": "error",
    "warn": "warning",
    "warning": "warning",
    "info": "success",
    "stderr": "accent",
    "debug": "muted",
    "stdout": "muted",
}


def format_line(entry: LogEntry) -> str:
    """One entry as a fixed-column line, sanitised: time plugin LEVEL message k=v."""
    plugin = shorten(sanitize_line(entry.plugin), PLUGIN_W)
    level = level_label(entry.level)[:LEVEL_W]
    line = f"{local_time(entry.timestamp)} {plugin:<{PLUGIN_W}} {level:<{LEVEL_W}} "
    line += sanitize_line(entry.message)
    if entry.fields:
        line += "  " + sanitize_line(entry.fields_text())
    return line


def format_call(call: HostCall) -> str:
    """One host call: time plugin METHOD duration outcome detail."""
    plugin = shorten(sanitize_line(call.plugin), PLUGIN_W)
    took = f"{call.duration_ms:7.2f}ms"
    outcome = sanitize_line(call.outcome)
    return (
        f"{local_time(call.timestamp)} {plugin:<{PLUGIN_W}} {call.method:<{METHOD_W}} "
        f"{took} {outcome}  {sanitize_line(call.detail)}"
    )


class ColumnHighlighter(Highlighter):
    """Colours a fixed-column line: dim time, bold plugin, the level word (or a trace
    outcome) in its tone, and search matches in reverse."""

    def __init__(self, tones: dict[str, str], *, trace: bool = False) -> None:
        self.tones = tones
        self.trace = trace
        self.pattern: re.Pattern[str] | None = None

    def _tone(self, word: str) -> str:
        return self.tones.get(_LEVEL_TONES.get(word.lower(), ""), "")

    def highlight(self, text: Text) -> None:
        plain = text.plain
        plugin_at = TIME_W + 1
        column_at = plugin_at + PLUGIN_W + 1
        text.stylize("dim", 0, TIME_W)
        text.stylize("bold", plugin_at, plugin_at + PLUGIN_W)
        if self.trace:
            # The outcome follows the duration ("12.34ms "), up to the two spaces.
            outcome_at = plain.find("ms ", column_at + METHOD_W) + 3
            end = plain.find("  ", outcome_at)
            ok = plain.startswith(("ok", "not found"), outcome_at)
            tone = self.tones.get("success" if ok else "error", "")
            if tone and outcome_at >= 3:
                text.stylize(tone, outcome_at, end if end >= 0 else len(plain))
        else:
            tone = self._tone(plain[column_at : column_at + LEVEL_W].strip())
            if tone:
                text.stylize(tone, column_at, column_at + LEVEL_W)
        if self.pattern is not None:
            for match in self.pattern.finditer(plain, column_at):
                if match.end() > match.start():
                    text.stylize("reverse", match.start(), match.end())


def view_tones(view: View) -> dict[str, str]:
    """Theme colours for each tone (readable on the theme's background)."""
    variables = view.app.get_css_variables()
    tones = {t: variables.get(f"text-{t}", "") for t in ("success", "error", "warning", "accent")}
    tones["muted"] = "dim"
    return tones


class LogLines(KeysInOrder, JumpScroll, Log):
    """A Log whose keys act in the order typed (goatui.ui.keys) and scroll at once."""

    BINDINGS = VIM_SCROLL


def show_regex(box: Checkbox, on: bool) -> None:
    """The state in words, and the box's mark only when on: under NO_COLOR Textual draws
    the same X either way (its colour alone told them apart)."""
    box.label = "regex: on" if on else "regex: off"
    box.BUTTON_INNER = "X" if on else " "


LEVEL_KEYS = Binding.Group("level ≥", compact=True)


class LogsView(View):
    DEFAULT_CSS = """
    LogsView { layout: vertical; }
    LogsView #logs-bar { height: auto; }
    LogsView #logs-search { width: 1fr; }
    LogsView #logs-plugin { width: 26; }
    LogsView #logs-level { width: 18; }
    LogsView #logs-regex { width: auto; }
    LogsView #logs-status { height: 1; padding: 0 1; color: $text-muted; }
    LogsView #logs-hint { height: auto; padding: 0 1; color: $text-muted; }
    LogsView #logs-log, LogsView #logs-trace { width: 1fr; height: 1fr; }
    LogsView #logs-trace {
        display: none; border-top: solid $primary; border-title-color: $text-muted;
    }
    LogsView.-trace #logs-trace { display: block; }
    LogsView.-trace-only #logs-log { display: none; }
    """

    BINDINGS = [
        Binding("f", "toggle_follow", "Follow", id="logs.follow"),
        Binding("p", "toggle_pause", "Pause", id="logs.pause"),
        Binding("c", "clear", "Clear", id="logs.clear"),
        Binding("slash", "search", "Filter", id="logs.filter"),
        Binding("l", "cycle_level", "Level", id="logs.level"),
        *(
            Binding(
                name[0].upper(),
                f"min_level('{name}')",
                f"≥ {name}",
                show=False,
                group=LEVEL_KEYS,
                id=f"logs.level_{name}",
            )
            for name in LEVEL_NAMES
        ),
        Binding("x", "toggle_regex", "Regex", id="logs.regex"),
        Binding("e", "export", "Export", id="logs.export"),
        Binding("t", "toggle_trace", "Host calls", id="logs.trace"),
        Binding("a", "attach", "Attach host", id="logs.attach"),
        Binding("escape", "clear_filter", "Clear filter", id="logs.clear_filter"),
    ]

    def __init__(self, ctx: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(ctx, id=id)
        self.following = True
        self.paused = False
        # Entries up to this sequence number were cleared (`c`) from the view.
        self.floor = 0
        self.filter = LogFilter()
        self._seen = 0  # the last entry considered for the screen
        self._trace_seen = 0
        self._trace_mode = 0  # 0 logs, 1 logs + host calls, 2 host calls only
        self._plugins: set[str] = set()
        self._status = ""
        self._hint: str | None = None
        self._gateway_error = ""
        self.export_dir: Path | None = None  # None: the current directory

    def compose(self) -> ComposeResult:
        levels = [(f"≥ {name}", name) for name in LEVEL_NAMES]
        with Horizontal(id="logs-bar"):
            yield TextInput(
                placeholder="filter: text (x: regex)",
                id="logs-search",
                compact=True,
                on_submit=lambda _value: self._focus_lines(),
            )
            yield Select([], prompt="all plugins", id="logs-plugin", compact=True)
            yield Select(levels, prompt="any level", id="logs-level", compact=True)
            regex = Checkbox(id="logs-regex", compact=True)
            show_regex(regex, False)
            yield regex
        yield Static(id="logs-status")
        yield Static(id="logs-hint")
        yield LogLines(max_lines=MAX_LINES, highlight=True, id="logs-log")
        yield LogLines(max_lines=TRACE_LINES, highlight=True, id="logs-trace")

    def on_mount(self) -> None:
        tones = view_tones(self)
        self.highlighter = ColumnHighlighter(tones)
        self.trace_highlighter = ColumnHighlighter(tones, trace=True)
        self.log_widget.highlighter = self.highlighter
        self.trace_widget.highlighter = self.trace_highlighter
        self.trace_widget.border_title = "host calls (t: logs and calls → calls only → logs)"
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self.set_interval(TICK_S, self.tick)
        if self.ctx.backend.capabilities.logs is LogSource.BUFFER:
            self._follow_gateway()
        self.tick()

    def default_focus(self) -> Widget | None:
        """The lines on screen: the host calls when they are shown alone."""
        return self.trace_widget if self._trace_mode == 2 else self.log_widget

    # -- widgets -----------------------------------------------------------------------

    @property
    def log_widget(self) -> Log:
        return self.query_one("#logs-log", Log)

    @property
    def trace_widget(self) -> Log:
        return self.query_one("#logs-trace", Log)

    @property
    def search_input(self) -> Input:
        return self.query_one("#logs-search", Input)

    # -- pulling what is new -------------------------------------------------------------

    def tick(self) -> None:
        """Append what arrived since the last tick (one batch), then the status line."""
        store = self.ctx.session.logs
        if not self.paused:
            new, _missed = store.since(self._seen)
            self._seen = store.last_seq
            if new:
                self._plugins.update(e.plugin for e in new)
                self._append(new)
            self._pull_trace()
        self._update_plugin_options()
        self._update_status()

    def _append(self, entries: list[LogEntry]) -> None:
        # Newest first, and only until the screen's worth is found: a flood between two
        # ticks is looked at no further than what the view keeps.
        floor, matches = self.floor, self.filter.matches
        any_entry = self.filter.is_empty
        shown: list[LogEntry] = []
        for entry in reversed(entries):
            if entry.seq <= floor:
                break  # cleared (`c`), as is everything older
            if any_entry or matches(entry):
                shown.append(entry)
                if len(shown) == MAX_LINES:
                    break
        shown.reverse()
        if shown:
            self.log_widget.write_lines([format_line(e) for e in shown], scroll_end=self.following)

    def _pull_trace(self) -> None:
        host = self.ctx.session.host_state
        if host is None:
            return
        calls, _missed = host.trace.since(self._trace_seen)
        self._trace_seen = host.trace.last_seq
        if calls:
            calls = calls[-TRACE_LINES:]
            self.trace_widget.write_lines([format_call(c) for c in calls], scroll_end=True)

    def redraw(self) -> None:
        """Filter changed: show the buffer again through the new filter."""
        store = self.ctx.session.logs
        self.log_widget.clear()
        self.highlighter.pattern = self.filter.pattern
        self._seen = store.last_seq
        self._append(list(store))
        self.log_widget.refresh()
        self._update_status()

    def visible_entries(self) -> list[LogEntry]:
        """What the view shows (filter, clear and pause applied), from the whole buffer:
        lines that scrolled off the screen are still exported."""
        low, high = self.floor, self._seen
        return [e for e in self.ctx.session.logs if low < e.seq <= high and self.filter.matches(e)]

    def _update_plugin_options(self) -> None:
        select = self.query_one("#logs-plugin", Select)
        names = sorted(self._plugins, key=natural_key)
        if getattr(self, "_plugin_names", None) == names:
            return
        self._plugin_names = names
        current = select.value
        with select.prevent(Select.Changed):
            select.set_options([(safe_text(n, one_line=True), n) for n in names])
            if isinstance(current, str) and current in names:
                select.value = current

    def _update_status(self) -> None:
        store = self.ctx.session.logs
        if self.paused:
            pending = store.last_seq - self._seen
            state = f"❚❚ paused ({pending:,} new; p resumes)"
        elif self.following:
            state = "● following"
        else:
            state = "○ not following (f)"
        parts = [
            state,
            f"{len(store):,} in buffer of {store.capacity:,}",
            f"{store.dropped:,} dropped" if store.dropped else "",
        ]
        if not self.filter.is_empty:
            parts.append(f"{len(self.log_widget.lines):,} lines shown (filtered)")
        host = self.ctx.session.host_state
        if host is not None:
            hosted = len(self.ctx.session.attached)
            if self.ctx.backend.capabilities.in_process:
                hosted += sum(
                    1
                    for s in self.ctx.monitor.states.values()
                    if self.ctx.backend.runs_inside(s.name)
                )
            parts.append(f"host of {hosted} · {host.trace.last_seq:,} host calls")
        if self._gateway_error:
            parts.append(f"gateway: {self._gateway_error}")
        status = " · ".join(p for p in parts if p)
        if status != self._status:
            self._status = status
            # One line high whatever it says: no layout pass (a pass redraws the whole
            # screen, and the counts change at every tick while logs flow; issue #9).
            status_line = self.query_one("#logs-status", Static)
            status_line.update(safe_text(status, one_line=True), layout=False)
        hint = ""
        capabilities = self.ctx.backend.capabilities
        hosting = self.ctx.session.attached or self.ctx.session.to_launch or capabilities.in_process
        logs_need_host = capabilities.logs is LogSource.HOSTED and capabilities.hosting
        if len(store) == 0 and logs_need_host and not hosting:
            hint = (
                "No logs yet. Logs come from plugins goatui hosts: start goatui with "
                "--launch or --attach-host, or press a to attach one (with a warning)."
            )
        if hint != self._hint:  # ten ticks a second: touch the widget only on a change
            self._hint = hint
            hint_widget = self.query_one("#logs-hint", Static)
            hint_widget.display = bool(hint)
            if hint:
                hint_widget.update(hint)

    def _on_theme_changed(self, _theme: object) -> None:
        tones = view_tones(self)
        self.highlighter.tones = tones
        self.trace_highlighter.tones = tones
        self.log_widget.refresh()
        self.trace_widget.refresh()

    # -- gateway -----------------------------------------------------------------------

    def prepare(self, plugin: str | None, *, replace: bool) -> None:
        if plugin is not None and replace:
            self.filter_plugin(plugin)

    def filter_plugin(self, name: str) -> None:
        """Only this plugin's lines (`l` on its row): offered in the list even before it
        has logged anything."""
        self._plugins.add(name)
        self._update_plugin_options()
        self.query_one("#logs-plugin", Select).value = name

    def context_changed(self, old: str, new: str) -> None:
        """A line in the stream marks where the old context's lines end; then the new
        gateway's buffer is followed, or none (the exclusive worker group cancels the
        old backend's poller)."""
        mark = f"──── context switched from {old} to {new}: the lines above are from {old}"
        self.ctx.session.logs.add("goatui", "info", mark)
        self._gateway_error = ""
        self._follow_gateway()

    @work(group="logs-gateway", exclusive=True, exit_on_error=False)
    async def _follow_gateway(self) -> None:
        """GoatFlow's own log buffer (each gateway context's, in a fleet), polled, into
        the session's LogStore."""
        from goatui.core.backends.base import store_sink

        poller = self.ctx.backend.log_poller()
        if poller is None:
            return
        feed = store_sink(self.ctx.session.logs)

        def on_round(entries: list[dict[str, object]], failures: list[GoatError]) -> None:
            self._gateway_error = "; ".join(failure.line() for failure in failures)
            feed(entries)

        await poller.run(on_round)

    # -- filter inputs -------------------------------------------------------------------

    def _set_filter(self, **changes: object) -> None:
        current: dict[str, object] = {
            "plugins": self.filter.plugins,
            "min_level": self.filter.min_level,
            "text": self.filter.text,
            "regex": self.filter.regex,
        }
        current.update(changes)
        try:
            new = LogFilter(**current)  # type: ignore[arg-type]
        except GoatError as exc:
            self.search_input.add_class("-invalid")
            self.query_one("#logs-status", Static).update(safe_text(exc.line(), one_line=True))
            self._status = ""
            return
        self.search_input.remove_class("-invalid")
        if new != self.filter:
            self.filter = new
            self.set_class(not new.is_empty, "-filtered")
            self.refresh_bindings()
            self.redraw()

    @on(Input.Changed, "#logs-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._set_filter(text=event.value)

    @on(Select.Changed, "#logs-plugin")
    def _plugin_changed(self, event: Select.Changed) -> None:
        value = event.value
        self._set_filter(plugins=frozenset({value}) if isinstance(value, str) else frozenset())

    @on(Select.Changed, "#logs-level")
    def _level_changed(self, event: Select.Changed) -> None:
        value = event.value
        self._set_filter(min_level=value if isinstance(value, str) else None)

    @on(Checkbox.Changed, "#logs-regex")
    def _regex_changed(self, event: Checkbox.Changed) -> None:
        show_regex(event.checkbox, event.value)
        self._set_filter(regex=event.value)

    # -- actions -----------------------------------------------------------------------

    @classmethod
    def offers(cls, action: str, ctx: ConsoleContext) -> bool:
        capabilities = ctx.backend.capabilities
        if action == "toggle_trace":  # host calls: only where goatui is or can be host
            hosts = capabilities.hosting or capabilities.in_process
            return hosts or ctx.session.host_state is not None
        if action == "attach":
            return capabilities.hosting
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return not self.filter.is_empty or self.search_input.has_focus
        return super().check_action(action, parameters)

    def action_toggle_follow(self) -> None:
        self.following = not self.following
        self.log_widget.auto_scroll = self.following
        if self.following:
            self.log_widget.scroll_end(animate=False)
        self._update_status()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.tick()

    def action_clear(self) -> None:
        self.floor = self.ctx.session.logs.last_seq
        self._seen = self.floor
        self.log_widget.clear()
        self.log_widget.refresh()
        self.trace_widget.clear()
        self.trace_widget.refresh()
        self._update_status()

    def action_search(self) -> None:
        focus_now(self.search_input)

    def action_cycle_level(self) -> None:
        order: list[str | None] = [None, *LEVEL_NAMES]
        following = order[(order.index(self.filter.min_level) + 1) % len(order)]
        select = self.query_one("#logs-level", Select)
        select.value = following if following is not None else Select.NULL

    def action_min_level(self, name: str) -> None:
        """One key per threshold (E errors, W warnings and worse …); again: any level."""
        select = self.query_one("#logs-level", Select)
        select.value = Select.NULL if self.filter.min_level == name else name

    def action_toggle_regex(self) -> None:
        box = self.query_one("#logs-regex", Checkbox)
        box.value = not box.value

    def action_clear_filter(self) -> None:
        self.search_input.value = ""
        self.query_one("#logs-plugin", Select).value = Select.NULL
        self.query_one("#logs-level", Select).value = Select.NULL
        self._set_filter(plugins=frozenset(), min_level=None, text="")
        self._focus_lines()

    def _focus_lines(self) -> None:
        """Focus the lines shown (never the log hidden under "host calls only": keys
        sent to a hidden widget waited for it to show, and the console went deaf)."""
        lines = self.default_focus()
        if lines is not None:
            focus_now(lines)

    def action_toggle_trace(self) -> None:
        self._trace_mode = (self._trace_mode + 1) % 3
        self.set_class(self._trace_mode > 0, "-trace")
        self.set_class(self._trace_mode == 2, "-trace-only")
        if self.app.focused in (self.log_widget, self.trace_widget):
            self._focus_lines()  # the pane that had the keys may be hidden now
        if self._trace_mode and self.ctx.session.host_state is None:
            toast(
                self,
                "no host calls yet: goatui hosts no plugin (--launch, --attach-host, --wasm, a)",
            )

    def action_export(self) -> None:
        entries = self.visible_entries()
        path = default_export_path(self.export_dir)
        self._export(entries, path)

    @work(thread=True, group="logs-export", exit_on_error=False)
    def _export(self, entries: list[LogEntry], path: Path) -> None:
        try:
            count = export_jsonl(entries, path)
        except OSError as exc:
            self.app.call_from_thread(
                toast, self, f"export failed: {describe(exc)}", severity="error"
            )
            return
        self.last_export = path
        what = "entry" if count == 1 else "entries"
        self.app.call_from_thread(toast, self, f"exported {count} {what} to {path}")

    def action_attach(self) -> None:
        session = self.ctx.session
        if not self.ctx.backend.capabilities.hosting:
            toast(
                self, "attaching the host needs plugin sockets, not a gateway", severity="warning"
            )
            return
        if self.ctx.read_only:
            toast(self, "read-only: attaching the host is disabled", severity="warning")
            return
        # Not the plugins goatui launched or runs itself (WASM): it is their host already.
        candidates = [
            s.name
            for s in self.ctx.live_plugins()
            if s.name not in session.attached
            and not session.is_launched(s.name)
            and not self.ctx.backend.runs_inside(s.name)
        ]
        if not candidates:
            toast(self, "no plugin to attach: goatui already hosts every plugin it sees")
            return
        chosen = next(iter(self.filter.plugins), None)
        self.app.push_screen(AttachHostScreen(candidates, chosen), self._attach_chosen)

    def _attach_chosen(self, name: str | None) -> None:
        if name:
            self._attach_host(name)

    @work(group="logs-attach", exit_on_error=False)
    async def _attach_host(self, name: str) -> None:
        try:
            address = await self.ctx.session.attach(name)
        except GoatError as exc:
            toast(self, f"could not attach {name}: {exc.line()}", severity="error")
            return
        toast(self, f"goatui is now the host of {name} ({address})", title="host")
        self._update_status()
