"""The Invoke view (key 2, or `i` on a plugin): call a handler and read its result.

The function field completes from the plugin's manifest and recalls past calls with
up/down. Args are validated before anything is sent. The call runs in an exclusive
worker under the configured deadline (Escape cancels it); the result is classified off
the UI thread and shown capped until `a` shows all of it. Every call, whatever its
outcome, goes to the history file.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Label, Select, Static, TextArea
from textual.worker import Worker

from goatui.core.errors import GoatError, InvalidArgs
from goatui.core.history import HistoryEntry, Outcome
from goatui.core.models import CallResult
from goatui.core.results import ResultView, classify_result, format_size, parse_args
from goatui.core.sanitize import safe_text, sanitize_line
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import describe, error_code, toast
from goatui.ui.format import fmt_ms
from goatui.ui.messages import PluginsChanged, ShowView
from goatui.ui.screens.save import SavePrompt
from goatui.ui.views.base import View
from goatui.ui.widgets.function_input import FunctionInput
from goatui.ui.widgets.plugin_table import tone_colours
from goatui.ui.widgets.result_viewer import ResultViewer, Shown

_EXTENSIONS = {"json": ".json", "text": ".txt", "binary": ".bin", "empty": ".txt"}


@dataclass(frozen=True)
class LastResult:
    plugin: str
    function: str
    data: bytes
    view: ResultView
    code: str
    duration_ms: float


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


def default_save_name(plugin: str, function: str, kind: str, now: float) -> str:
    """A new file name under the cwd, safe on any filesystem."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    safe = [re.sub(r"[^A-Za-z0-9_.-]+", "_", part)[:40] for part in (plugin, function)]
    return f"goatui-{safe[0]}-{safe[1]}-{stamp}{_EXTENSIONS.get(kind, '.txt')}"


class InvokeView(View):
    LISTENS = True
    HELP_FROM = (FunctionInput,)

    BINDINGS = [
        Binding("ctrl+r", "send", "Send", id="invoke.send"),
        Binding("escape", "escape", "Cancel / back", id="invoke.escape"),
        Binding("c", "copy", "Copy result", id="invoke.copy"),
        Binding("s", "save", "Save result", id="invoke.save"),
        Binding("a", "show_all", "Show all", id="invoke.show_all"),
    ]

    def compose(self) -> ComposeResult:
        if self.ctx.read_only:
            yield Static("read-only: calls are disabled", id="invoke-read-only")
        with Horizontal(id="invoke-target"):
            yield Select[str]([], prompt="plugin", id="invoke-plugin", compact=True)
            yield FunctionInput(id="invoke-function", compact=True)
        yield Label("args (JSON) · ctrl+r sends · escape cancels or goes back", id="invoke-hint")
        yield TextArea("{}", id="invoke-args", show_line_numbers=True, tab_behavior="focus")
        yield Static(id="invoke-status")
        yield ResultViewer(id="invoke-result")

    def __init__(self, ctx: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(ctx, id=id)
        self._names: list[str] = []
        self._handlers: list[str] | None = None
        self._last: LastResult | None = None
        self._shown: Shown | None = None
        self._call_worker: Worker[None] | None = None
        # History recall: the entries stepped through, where we are, what was typed.
        self._recall: list[HistoryEntry] = []
        self._recall_pos = -1
        self._draft = ("", "")

    def on_mount(self) -> None:
        if json_highlighting():
            self.args_area.language = "json"
        self.update_plugins()
        # Read the history file off the UI thread; recall then works from memory.
        self.run_worker(self.ctx.history.entries, thread=True, group="history", exit_on_error=False)

    def focus_default(self) -> None:
        self.function_input.focus()

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
            current = self.plugin
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
        state = self.ctx.monitor.get(self.plugin) if self.plugin else None
        handlers = state.info.handlers() if state else []
        if handlers != self._handlers:
            self._handlers = handlers
            self.function_input.set_handlers(handlers)

    def on_plugins_changed(self, _message: PluginsChanged) -> None:
        self.update_plugins()

    @on(Select.Changed, "#invoke-plugin")
    def _plugin_changed(self) -> None:
        self._recall_pos = -1
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
            self.plugin_select.focus()
            return
        if not function:
            toast(self, "type the function to call", severity="warning")
            self.function_input.focus()
            return
        text = self.args_area.text
        try:
            args = parse_args(text)
        except InvalidArgs as exc:
            self._show_invalid_args(text, exc)
            return
        self._recall_pos = -1
        self._call_worker = self._call(plugin, function, text, args)

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
        self._last = None
        self.refresh_bindings()
        area = self.args_area
        area.focus()
        row = max(error.line_number - 1, 0)
        area.move_cursor((row, max(error.column - 1, 0)))

    @work(exclusive=True, group="invoke", exit_on_error=False)
    async def _call(self, plugin: str, function: str, text: str, args: bytes) -> None:
        at = self.ctx.clock()
        started = time.perf_counter()
        self._set_status(safe_text(f"calling {plugin}.{function} … escape cancels", one_line=True))
        self.add_class("-calling")
        try:
            result = await self.ctx.backend.call(plugin, function, args, self.ctx.config.timeout)
            view = await asyncio.to_thread(classify_result, result.data)
        except asyncio.CancelledError:
            elapsed = (time.perf_counter() - started) * 1000
            self._failed("CANCELLED", elapsed, "cancelled; the plugin may still finish it")
            self._remember(plugin, function, text, at, elapsed, "cancelled", "CANCELLED")
            raise
        except Exception as exc:  # every failure is shown, never left as "calling"
            elapsed = (time.perf_counter() - started) * 1000
            code = error_code(exc) if isinstance(exc, GoatError) else "ERROR"
            self._failed(code, elapsed, describe(exc))
            self._remember(plugin, function, text, at, elapsed, "error", describe(exc))
            return
        finally:
            self.remove_class("-calling")
        self._succeeded(plugin, function, result, view)
        self._remember(plugin, function, text, at, result.duration_ms, "ok", result.code)

    def _succeeded(self, plugin: str, function: str, result: CallResult, view: ResultView) -> None:
        self._last = LastResult(
            plugin, function, result.data, view, result.code, result.duration_ms
        )
        self._show(everything=False)

    def _show(self, *, everything: bool) -> None:
        assert self._last is not None
        self._shown = self.viewer.show_result(self._last.view, everything=everything)
        self._set_status(self._ok_status(self._last, self._shown))
        self.refresh_bindings()

    def _ok_status(self, last: LastResult, shown: Shown) -> Text:
        status = Text.assemble(
            (last.code, self._colour("success")),
            " · ",
            safe_text(f"{last.plugin}.{last.function}", one_line=True),
            f" · {fmt_ms(last.duration_ms)} ms · {format_size(len(last.data))}",
            f" · {last.view.kind}",
        )
        if not shown.complete:
            status.append(
                f" · showing {shown.lines:,} of {shown.total_lines:,} lines, "
                f"{format_size(shown.chars)} of {format_size(shown.total_chars)} (a: show all)",
                style="bold",
            )
        return status

    def _failed(self, code: str, duration_ms: float, message: str) -> None:
        self._last = None
        self._set_status(
            Text.assemble(
                (code, self._colour("error")),
                f" · {fmt_ms(duration_ms)} ms · ",
                safe_text(message, one_line=True),
            )
        )
        self.viewer.show_message("(no result)")
        self.refresh_bindings()

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
        self.run_worker(
            partial(self.ctx.history.append, entry),
            thread=True,
            group="history",
            exit_on_error=False,
        )

    def _set_status(self, text: Text) -> None:
        self.query_one("#invoke-status", Static).update(text)

    def _colour(self, tone: str) -> str:
        return tone_colours(self.app).get(tone, "")

    # -- escape, copy, save, show all --------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy", "save"):
            return self._last is not None
        if action == "show_all":
            return self._shown is not None and not self._shown.complete
        return True

    def action_escape(self) -> None:
        if self.calling and self._call_worker is not None:
            self._call_worker.cancel()
            return
        self.post_message(ShowView("plugins"))

    def action_copy(self) -> None:
        if self._last is None:
            return
        text = self._last.view.text
        self.app.copy_to_clipboard(text)
        toast(self, f"copied {format_size(len(text.encode()))} to the clipboard")

    def action_show_all(self) -> None:
        if self._last is not None:
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
