"""The Invoke view (key 2, or `i` on a plugin): call a handler and read its result.

The function field completes from the plugin's manifest and recalls past calls with
up/down. Args are validated before anything is sent. The call runs in an exclusive
worker under the configured deadline (Escape cancels it); the result is classified off
the UI thread and shown capped until `a` shows all of it. Every call, whatever its
outcome, goes to the history file (and to the audit log).

Tools on a result: `/` search and `$` JSONPath (on the result, see ResultViewer), `y`
/ `Y` copy the call as a `goatui call` / curl line, `h` opens the history (replay,
mark two results to diff), `d` diffs with the previous result of the same call. Host
calls the plugin made while serving the call are listed under the result.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import textwrap
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea
from textual.worker import Worker

from goatui.core.calls.copycmd import as_curl, as_goatui_call
from goatui.core.calls.history import HistoryEntry, Outcome
from goatui.core.calls.results import (
    ResultView,
    check_result,
    classify_result,
    complete_result,
    format_size,
    parse_args,
)
from goatui.core.errors import GoatError, InvalidArgs, PluginError, UsageError
from goatui.core.hosting.timeline import during, timeline_lines
from goatui.core.models import CallResult
from goatui.core.sanitize import safe_text, sanitize_line
from goatui.ui import auditing
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import describe, error_code, toast
from goatui.ui.format import fmt_ms
from goatui.ui.keys import KeysInOrder, focus_now
from goatui.ui.messages import PluginsChanged
from goatui.ui.screens.history import HistoryScreen, KeptResult, open_diff
from goatui.ui.screens.save import SavePrompt
from goatui.ui.views.base import View
from goatui.ui.widgets.function_input import FunctionInput
from goatui.ui.widgets.log_tail import LogTail
from goatui.ui.widgets.plugin_table import tone_colours
from goatui.ui.widgets.result_viewer import PREVIEW_CHARS, PREVIEW_LINES, ResultViewer, Shown
from goatui.ui.widgets.search_bar import SearchBar

ARGS_HINT = "args (JSON) · ctrl+r sends · escape cancels or goes back"
_EXTENSIONS = {"json": ".json", "text": ".txt", "binary": ".bin", "empty": ".txt"}
# How often a call in flight says how long it has taken.
ELAPSED_TICK_S = 0.1
# Results of this session kept in memory for diffs (the history file keeps none).
KEPT_RESULTS = 20


@dataclass(frozen=True)
class LastResult:
    plugin: str
    function: str
    data: bytes
    view: ResultView
    code: str
    duration_ms: float
    # When the call started (the history entry's `at`): links the two.
    at: float = 0.0


def args_excerpt(text: str, error: InvalidArgs) -> str:
    """Where the args are wrong: the offending line with a caret under the column."""
    lines = text.splitlines() or [""]
    index = min(max(error.line_number, 1), len(lines)) - 1
    prefix = f"{index + 1:>4} | "
    caret = " " * (len(prefix) + max(error.column - 1, 0)) + "^"
    where = f"line {error.line_number}, column {error.column}: {error.reason}"
    return "\n".join(
        [
            sanitize_line(where),
            "nothing was sent; fix the JSON and send again (ctrl+r)",
            "",
            prefix + sanitize_line(lines[index]),
            caret,
        ]
    )


def json_highlighting() -> bool:
    """Whether TextArea can highlight JSON: tree-sitter and its JSON grammar installed.

    `TextArea.available_languages` lists the built-in names whether or not the
    `textual[syntax]` extra is installed, so ask for the modules themselves.
    """
    return all(importlib.util.find_spec(m) is not None for m in ("tree_sitter", "tree_sitter_json"))


def calling_status(plugin: str, function: str, elapsed_s: float, deadline_s: float) -> Text:
    """The status line while a call is in flight: how long so far, against its deadline."""
    return safe_text(
        f"calling {plugin}.{function} … {elapsed_s:.1f}s of {deadline_s:g}s · escape cancels",
        one_line=True,
    )


def default_save_name(plugin: str, function: str, kind: str, now: float) -> str:
    """A new file name under the cwd, safe on any filesystem."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    safe = [re.sub(r"[^A-Za-z0-9_.-]+", "_", part)[:40] for part in (plugin, function)]
    return f"goatui-{safe[0]}-{safe[1]}-{stamp}{_EXTENSIONS.get(kind, '.txt')}"


class ArgsEditor(KeysInOrder, TextArea):
    """The args editor: a TextArea that keeps a burst of keys in order."""


class InvokeView(View):
    LISTENS = True
    HELP_FROM = (FunctionInput, ResultViewer, SearchBar)

    BINDINGS = [
        Binding("ctrl+r", "send", "Send", id="invoke.send"),
        Binding("escape", "escape", "Cancel / back", id="invoke.escape"),
        Binding("c", "copy", "Copy result", id="invoke.copy"),
        Binding("s", "save", "Save result", id="invoke.save"),
        Binding("a", "show_all", "Show all", id="invoke.show_all"),
        Binding("v", "show_raw", "Raw result (plugin's error)", id="invoke.raw"),
        Binding("y", "copy_call", "Copy as goatui call", show=False, id="invoke.copy_call"),
        Binding("Y", "copy_curl", "Copy as curl (gateway)", show=False, id="invoke.copy_curl"),
        Binding("h", "history", "History: replay, diff", show=False, id="invoke.history"),
        Binding("d", "diff_previous", "Diff with previous", show=False, id="invoke.diff"),
        Binding("ctrl+s", "toggle_split", "Log tail beside", show=False, id="invoke.split"),
    ]

    def compose(self) -> ComposeResult:
        if self.ctx.read_only:
            yield Static("read-only: calls are disabled", id="invoke-read-only")
        with Horizontal(id="invoke-target"):
            yield Select[str]([], prompt="plugin", id="invoke-plugin", compact=True)
            yield FunctionInput(id="invoke-function", compact=True)
        yield Label(ARGS_HINT, id="invoke-hint")
        yield ArgsEditor("{}", id="invoke-args", show_line_numbers=True, tab_behavior="focus")
        yield Static(id="invoke-status")
        yield SearchBar(id="invoke-search")
        yield ResultViewer(id="invoke-result")
        yield Static(id="invoke-timeline")
        yield LogTail(self, id="invoke-log-tail")

    def __init__(self, ctx: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(ctx, id=id)
        self._names: list[str] = []
        self._handlers: list[str] | None = None
        self._last: LastResult | None = None
        # The result of the last call when it was the plugin's error ({"error": ...}):
        # shown as a failure, the result itself one key (v) away.
        self._raw_error: LastResult | None = None
        self._shown: Shown | None = None
        self._call_worker: Worker[None] | None = None
        # History recall: the entries stepped through, where we are, what was typed.
        self._recall: list[HistoryEntry] = []
        self._recall_pos = -1
        self._draft = ("", "")
        self._kept: OrderedDict[float, KeptResult] = OrderedDict()
        self._show_all_when_ready = False
        # Set while a call to the context left behind is being cancelled.
        self._left_context = False
        self._chosen: str | None = None
        # The newest call of each function of the chosen plugin (from the history), the
        # args put in from one of them, and a call being loaded from the history.
        self._past: dict[str, HistoryEntry] = {}
        self._prefilled = ""
        self._loading_call = False

    def on_mount(self) -> None:
        self.query_one("#invoke-timeline").display = False
        if json_highlighting():
            self.args_area.language = "json"
        self.update_plugins()
        # Read the history file off the UI thread; recall then works from memory.
        self.run_worker(self._read_history, thread=True, group="history", exit_on_error=False)

    def default_focus(self) -> Widget | None:
        return self.function_input

    @property
    def plugin_select(self) -> Select[str]:
        return self.query_one("#invoke-plugin", Select)

    @property
    def function_input(self) -> FunctionInput:
        return self.query_one(FunctionInput)

    @property
    def args_area(self) -> TextArea:
        return self.query_one("#invoke-args", TextArea)

    @property
    def viewer(self) -> ResultViewer:
        return self.query_one(ResultViewer)

    @property
    def plugin(self) -> str | None:
        value = self.plugin_select.value
        return value if isinstance(value, str) else None

    @property
    def calling(self) -> bool:
        return self._call_worker is not None and self._call_worker.is_running

    # -- plugins -----------------------------------------------------------------------

    def update_plugins(self) -> None:
        """Offer the plugins present now, keeping the current choice."""
        names = [s.name for s in self.ctx.live_plugins()]
        if names != self._names:
            # The one chosen last, even if it went away for a while (a plugin restarting,
            # a context switched to one that has it too).
            current = self.plugin or self._chosen
            self._names = names
            select = self.plugin_select
            select.set_options((safe_text(n, one_line=True), n) for n in names)
            if current in names:
                select.value = current
        self._update_handlers()

    def prepare(self, plugin: str | None, *, replace: bool = True) -> None:
        """Preselect plugin: always after `i`; on key 2 only when none is chosen yet."""
        self.update_plugins()
        if plugin in self._names and (replace or self.plugin is None):
            self.plugin_select.value = plugin

    def _update_handlers(self) -> None:
        """Offer what can be known: the manifest's route, widget and job handlers, then
        every function called before (the history, this plugin's)."""
        plugin = self.plugin
        state = self.ctx.monitor.get(plugin) if plugin else None
        handlers = state.info.handlers() if state else []
        self._past = self.ctx.history.latest_calls(plugin) if plugin else {}
        handlers += [f for f in self._past if f not in handlers]
        if handlers != self._handlers:
            self._handlers = handlers
            self.function_input.set_handlers(handlers)

    def _history_read(self) -> None:
        """The history is in memory (read in a thread): offer its functions."""
        self._handlers = None
        self._update_handlers()

    def _read_history(self) -> None:
        self.ctx.history.entries()
        self.app.call_from_thread(self._history_read)

    @on(Input.Changed, "#invoke-function")
    def _function_typed(self, event: Input.Changed) -> None:
        """A function called before starts from its last args, unless the args were
        changed by hand (or the call was just loaded from the history)."""
        if self._loading_call or self._recall_pos != -1:
            self._loading_call = False
            return
        past = self._past.get(event.value.strip())
        text = self.args_area.text
        pristine = text.strip() in ("", "{}") or text == self._prefilled
        hint = ARGS_HINT
        if past is not None and pristine and not past.args_dropped:
            self._prefilled = past.args
            self.args_area.load_text(past.args)
            when = time.strftime("%m-%d %H:%M", time.localtime(past.at))
            hint = f"args (JSON) from its last call, {when} · ctrl+r sends · escape cancels or goes back"
        elif past is None and pristine and self._prefilled and text == self._prefilled:
            self._prefilled = ""
            self.args_area.load_text("{}")
        self.query_one("#invoke-hint", Label).update(hint)

    def on_plugins_changed(self, _message: PluginsChanged) -> None:
        self.update_plugins()

    def context_changed(self, old: str, new: str) -> None:
        """The result, its status and the results kept for diffs were the old context's:
        gone, and the status says so. What was typed stays, to call it here too."""
        if self.calling and self._call_worker is not None:
            self._left_context = True  # its cancellation is not news in the new context
            self._call_worker.cancel()
        self._last = self._shown = None
        self._kept.clear()
        self._recall_pos = -1
        self.query_one("#invoke-timeline").display = False
        self._set_status(
            safe_text(
                f"switched to context {new}: no result here yet (ctrl+r sends)", one_line=True
            )
        )
        self.viewer.show_message("", placeholder="no result in this context yet")
        self.refresh_bindings()

    @on(Select.Changed, "#invoke-plugin")
    def _plugin_changed(self) -> None:
        if self.plugin is not None:
            self._chosen = self.plugin
        self._recall_pos = -1
        self.query_one(LogTail).follow(self.plugin)
        self._update_handlers()

    # -- history recall ----------------------------------------------------------------

    @on(FunctionInput.Recall)
    def _recall_step(self, event: FunctionInput.Recall) -> None:
        if self._recall_pos == -1:
            self._recall = self.ctx.history.recall(self.plugin)
            self._draft = (self.function_input.value, self.args_area.text)
        position = self._recall_pos + event.step
        if position < -1 or position >= len(self._recall):
            self.app.bell()
            return
        self._recall_pos = position
        if position == -1:
            function, args = self._draft
        else:
            entry = self._recall[position]
            function, args = entry.function, entry.args
            if entry.plugin != self.plugin and entry.plugin in self._names:
                self.plugin_select.value = entry.plugin
        self.function_input.value = function
        self.function_input.cursor_position = len(function)
        self.args_area.load_text(args)

    # -- sending -----------------------------------------------------------------------

    def action_send(self) -> None:
        if self.ctx.read_only:
            toast(self, "read-only: invoking is disabled", severity="warning")
            return
        plugin, function = self.plugin, self.function_input.value.strip()
        if plugin is None:
            toast(self, "choose a plugin first", severity="warning")
            focus_now(self.plugin_select)
            return
        if not function:
            toast(self, "type the function to call", severity="warning")
            focus_now(self.function_input)
            return
        text = self.args_area.text
        try:
            args = parse_args(text, max_message_mb=self.ctx.backend.max_message_mb)
        except InvalidArgs as exc:
            self._show_invalid_args(text, exc)
            return
        except UsageError as exc:  # larger than the message limit: nothing is sent
            toast(self, exc.line(), severity="error")
            return
        self._recall_pos = -1
        self._call_worker = self._call(plugin, function, text, args)
        # The result's keys (h, d, /, n …) work at once; ctrl+r sends again from there.
        focus_now(self.viewer)

    def _show_invalid_args(self, text: str, error: InvalidArgs) -> None:
        """Point at the line and column; nothing is sent."""
        where = f"line {error.line_number}, column {error.column}: {error.reason}"
        self._set_status(
            Text.assemble(
                ("INVALID ARGS", self._colour("error")),
                " · ",
                safe_text(where, one_line=True),
                " · nothing sent",
            )
        )
        self.viewer.show_message(args_excerpt(text, error))
        self._last = self._raw_error = None
        self.refresh_bindings()
        area = self.args_area
        focus_now(area)
        row = max(error.line_number - 1, 0)
        area.move_cursor((row, max(error.column - 1, 0)))

    @work(exclusive=True, group="invoke", exit_on_error=False)
    async def _call(self, plugin: str, function: str, text: str, args: bytes) -> None:
        at = self.ctx.clock()
        wall = time.time()  # the host trace's clock, for the timeline
        started = time.perf_counter()
        self._left_context = False
        deadline = self.ctx.config.timeout

        def show_elapsed() -> None:
            elapsed = time.perf_counter() - started
            self._set_status(calling_status(plugin, function, elapsed, deadline))

        show_elapsed()
        ticking = self.set_interval(ELAPSED_TICK_S, show_elapsed)
        self.add_class("-calling")
        try:
            result = await self.ctx.backend.call(plugin, function, args, self.ctx.config.timeout)
            check_result(result, f"{plugin}.{function}")
            head = (PREVIEW_LINES, PREVIEW_CHARS)
            view = await asyncio.to_thread(classify_result, result.data, head=head)
        except asyncio.CancelledError:
            elapsed = (time.perf_counter() - started) * 1000
            if not self._left_context:
                self._failed("CANCELLED", elapsed, "cancelled; the plugin may still finish it")
            self._remember(plugin, function, text, at, elapsed, "cancelled", "CANCELLED")
            auditing.record(
                self, self.ctx, "invoke", f"{plugin}/{function}", cancelled=True, args=text
            )
            raise
        except Exception as exc:  # every failure is shown, never left as "calling"
            elapsed = (time.perf_counter() - started) * 1000
            code = error_code(exc) if isinstance(exc, GoatError) else "ERROR"
            self._failed(code, elapsed, describe(exc))
            if isinstance(exc, PluginError):
                elapsed = exc.duration_ms
                await self._keep_raw_error(plugin, function, exc, at)
            self._show_timeline(plugin, wall, time.time())  # what it did before failing
            self._remember(plugin, function, text, at, elapsed, "error", describe(exc))
            auditing.record(self, self.ctx, "invoke", f"{plugin}/{function}", error=exc, args=text)
            return
        finally:
            ticking.stop()
            self.remove_class("-calling")
        self._succeeded(plugin, function, result, view, at)
        if not view.complete:
            self._complete_last(view, at)
        self._remember(plugin, function, text, at, result.duration_ms, "ok", result.code)
        auditing.record(self, self.ctx, "invoke", f"{plugin}/{function}", args=text)
        self._show_timeline(plugin, wall, time.time())

    async def _keep_raw_error(
        self, plugin: str, function: str, error: PluginError, at: float
    ) -> None:
        """The plugin's error result, kept for `v`; the viewer says what happened."""
        view = await asyncio.to_thread(
            classify_result, error.data, head=(PREVIEW_LINES, PREVIEW_CHARS)
        )
        self._raw_error = LastResult(
            plugin, function, error.data, view, error.code, error.duration_ms, at
        )
        self.viewer.show_message(
            "\n".join(
                [
                    'the plugin answered with an error (its result is {"error": ...}):',
                    "",
                    *self._wrapped(error.reason, indent="  "),
                    "",
                    "v shows the result as it came",
                ]
            )
        )
        self.refresh_bindings()

    def _show_timeline(self, plugin: str, started: float, ended: float) -> None:
        """The host calls this plugin made between the call's start and end."""
        host = self.ctx.session.host_state
        calls, _ = during(plugin, started, ended, host.trace if host is not None else ())
        widget = self.query_one("#invoke-timeline", Static)
        lines = timeline_lines(calls, started, more=" (Logs view, t)")
        widget.update(Text("\n".join(lines)) if calls else "")
        widget.display = bool(calls)

    def _succeeded(
        self, plugin: str, function: str, result: CallResult, view: ResultView, at: float
    ) -> None:
        self._raw_error = None
        self._last = LastResult(
            plugin, function, result.data, view, result.code, result.duration_ms, at
        )
        self._kept[at] = KeptResult(at, plugin, function, view.kind, view.value)
        while len(self._kept) > KEPT_RESULTS:
            self._kept.popitem(last=False)
        self._show(everything=False)

    @work(exclusive=True, group="format", exit_on_error=False)
    async def _complete_last(self, view: ResultView, at: float) -> None:
        """Pretty-print the rest of a large result, after its head is on screen."""
        full = await asyncio.to_thread(complete_result, view)
        last = self._last
        if last is None or last.at != at:
            return  # another call since
        self._last = replace(last, view=full)
        self._shown = self.viewer.complete(full, everything=self._show_all_when_ready)
        self._show_all_when_ready = False
        self._set_status(self._ok_status(self._last, self._shown))
        self.refresh_bindings()

    def _show(self, *, everything: bool) -> None:
        assert self._last is not None
        self._show_all_when_ready = False
        self._shown = self.viewer.show_result(self._last.view, everything=everything)
        self._set_status(self._ok_status(self._last, self._shown))
        self.refresh_bindings()

    def _ok_status(self, last: LastResult, shown: Shown) -> Text:
        tone = "error" if last is self._raw_error else "success"
        status = Text.assemble(
            (last.code, self._colour(tone)),
            " · ",
            safe_text(f"{last.plugin}.{last.function}", one_line=True),
            f" · {fmt_ms(last.duration_ms)} ms · {format_size(len(last.data))}",
            f" · {last.view.kind}",
        )
        if not shown.known:
            status.append(
                f" · showing the first {shown.lines:,} lines, {format_size(shown.chars)}"
                " (formatting the rest…)",
                style="bold",
            )
        elif not shown.complete:
            status.append(
                f" · showing {shown.lines:,} of {shown.total_lines:,} lines, "
                f"{format_size(shown.chars)} of {format_size(shown.total_chars)} (a: show all)",
                style="bold",
            )
        return status

    def _failed(self, code: str, duration_ms: float, message: str) -> None:
        self._last = self._raw_error = None
        self.query_one("#invoke-timeline").display = False
        self._set_status(
            Text.assemble(
                (code, self._colour("error")),
                f" · {fmt_ms(duration_ms)} ms · ",
                safe_text(message, one_line=True),
            )
        )
        # The status line is one line and cuts a long message at the edge: whole here.
        self.viewer.show_message("\n".join(["(no result)", "", *self._wrapped(message)]))
        self.refresh_bindings()

    def _wrapped(self, message: str, indent: str = "") -> list[str]:
        """A message (one safe line) as lines that fit the result area."""
        width = max(self.viewer.size.width - 2, 40)
        text = sanitize_line(message) or "(no message)"
        return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent)

    def _remember(
        self,
        plugin: str,
        function: str,
        args: str,
        at: float,
        duration_ms: float | None,
        outcome: Outcome,
        detail: str,
    ) -> None:
        entry = HistoryEntry.make(plugin, function, args, at, duration_ms, outcome, detail)

        def append() -> None:
            self.ctx.history.append(entry)
            self.app.call_from_thread(self._history_read)  # offer it from now on

        self.run_worker(append, thread=True, group="history", exit_on_error=False)

    def _set_status(self, text: Text) -> None:
        # One line high whatever it says (styles/invoke.tcss): no layout pass, which a
        # call in flight would otherwise cost ten times a second.
        self.query_one("#invoke-status", Static).update(text, layout=False)

    def _colour(self, tone: str) -> str:
        return tone_colours(self.app).get(tone, "")

    # -- escape, copy, save, show all --------------------------------------------------

    @classmethod
    def offers(cls, action: str, ctx: ConsoleContext) -> bool:
        if action == "copy_curl":  # curl lines go through a gateway
            return ctx.backend.origin(None).gateway is not None
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.offers(action, self.ctx):
            return False
        if action in ("copy", "save"):
            return self._last is not None
        if action == "show_all":
            return self._shown is not None and not self._shown.complete
        if action == "diff_previous":
            return self._last is not None
        if action == "show_raw":
            return self._raw_error is not None and self._last is not self._raw_error
        return True

    def action_escape(self) -> None:
        if self.calling and self._call_worker is not None:
            self._call_worker.cancel()
            return
        self.show_view("plugins")

    def action_show_raw(self) -> None:
        """The plugin's error result as it came (then copy, save and diff work on it)."""
        if self._raw_error is None:
            return
        self._last = self._raw_error
        self._show(everything=False)

    def action_copy(self) -> None:
        if self._last is None:
            return
        if not self._last.view.complete:
            toast(self, "still formatting the whole result: copy again in a moment")
            return
        text = self._last.view.text
        self.app.copy_to_clipboard(text)
        toast(self, f"copied {format_size(len(text.encode()))} to the clipboard")

    def action_show_all(self) -> None:
        if self._last is None:
            return
        if not self._last.view.complete:
            self._show_all_when_ready = True  # _complete_last shows it
            toast(self, "formatting the whole result: it shows as soon as it is ready")
            return
        self._show(everything=True)

    def action_save(self) -> None:
        last = self._last
        if last is None:
            return
        name = default_save_name(last.plugin, last.function, last.view.kind, time.time())
        self.app.push_screen(SavePrompt(str(Path.cwd() / name), "the result"), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if path and self._last is not None:
            self._write(path, self._last.data)

    @work(thread=True, group="save", exit_on_error=False)
    def _write(self, path_text: str, data: bytes) -> None:
        path = Path(path_text).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        try:
            with open(path, "xb") as file:  # never overwrite
                file.write(data)
        except FileExistsError:
            self.app.call_from_thread(
                toast, self, f"{path} exists; nothing saved", severity="warning"
            )
            return
        self.app.call_from_thread(toast, self, f"saved {format_size(len(data))} to {path}")

    # -- search bar ----------------------------------------------------------------------

    @on(ResultViewer.FindRequested)
    def _open_search(self, event: ResultViewer.FindRequested) -> None:
        self.query_one(SearchBar).open(event.viewer, event.mode)

    @on(ResultViewer.Moved)
    def _match_moved(self, event: ResultViewer.Moved) -> None:
        bar = self.query_one(SearchBar)
        if event.position:
            bar.show_position(event.position)
        else:
            bar.remove_class("-open")

    # -- copy as a command -------------------------------------------------------------

    def _typed_call(self) -> tuple[str, str, str] | None:
        plugin, function = self.plugin, self.function_input.value.strip()
        if plugin is None or not function:
            toast(self, "choose a plugin and a function first", severity="warning")
            return None
        return plugin, function, self.args_area.text

    def action_copy_call(self) -> None:
        call = self._typed_call()
        if call is None:
            return
        plugin, function, args = call
        state = self.ctx.monitor.get(plugin)
        origin = self.ctx.backend.origin(state.info if state is not None else None)
        line = as_goatui_call(
            origin.name or plugin,
            function,
            args,
            sockets=origin.sockets,
            gateway=origin.gateway,
            context=origin.context,
            wasm=origin.wasm,
        )
        self._copy_line(line)

    def action_copy_curl(self) -> None:
        gateway = self.ctx.backend.origin(None).gateway
        if gateway is None:
            toast(self, "curl lines need gateway mode (--gateway URL)", severity="warning")
            return
        call = self._typed_call()
        if call is not None:
            self._copy_line(as_curl(gateway, *call))

    def _copy_line(self, line: str) -> None:
        self.app.copy_to_clipboard(line)
        toast(self, line, title="copied")

    # -- history, replay and diff ------------------------------------------------------

    def action_history(self) -> None:
        entries = self.ctx.history.recall()
        if not entries:
            toast(self, "no calls in the history yet")
            return
        self.app.push_screen(HistoryScreen(entries, dict(self._kept)), self._replay)

    def _replay(self, chosen: tuple[HistoryEntry, bool] | None) -> None:
        """A call from the history: loaded into the editor (Enter) to change it, or sent
        again at once (ctrl+r)."""
        if chosen is None:
            return
        entry, send_now = chosen
        if send_now and self.ctx.read_only:
            toast(self, "read-only: replaying calls is disabled", severity="warning")
            return
        if entry.args_dropped:
            toast(self, "its args were too large to keep: nothing loaded", severity="warning")
            return
        if entry.plugin not in self._names:
            toast(self, f"{entry.plugin} is not here now: nothing loaded", severity="warning")
            return
        self.plugin_select.value = entry.plugin
        self._loading_call = self.function_input.value != entry.function
        self.function_input.value = entry.function
        self.args_area.load_text(entry.args)
        if send_now:
            self.action_send()
        else:
            focus_now(self.args_area)  # to change it; ctrl+r sends

    def action_diff_previous(self) -> None:
        last = self._last
        if last is None:
            return
        same = [
            k
            for k in self._kept.values()
            if (k.plugin, k.function) == (last.plugin, last.function) and k.at < last.at
        ]
        if not same:
            toast(self, "no earlier result of this call in this session", severity="warning")
            return
        open_diff(self, same[-1], self._kept[last.at])

    # -- split: the log tail beside ------------------------------------------------------

    def action_toggle_split(self) -> None:
        self.query_one(LogTail).toggle(self.plugin)
