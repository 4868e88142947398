"""The log tail beside Invoke (ctrl+s): the chosen plugin's log lines as calls run.

Lines are the Logs view's own (format_line, ColumnHighlighter in a `Log`), read from
the same LogStore with a cursor of its own; the tail only ticks while it is shown.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Log

from goatui.core.logs import LogEntry
from goatui.core.sanitize import sanitize_line
from goatui.ui.views.base import View
from goatui.ui.views.logs import ColumnHighlighter, LogLines, format_line, view_tones

TAIL_LINES = 1_000
TICK_S = 0.2


class LogTail(Vertical):
    DEFAULT_CSS = """
    LogTail {
        dock: right;
        width: 45%;
        display: none;
        border-left: solid $primary;
        & > #log-tail-title { height: 1; padding: 0 1; color: $text-muted; }
        & > Log { height: 1fr; }
        &.-shown { display: block; }
    }
    """

    def __init__(self, owner: View, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.owner = owner
        self.plugin: str | None = None
        self._seen = 0

    def compose(self) -> ComposeResult:
        yield Label("log tail", id="log-tail-title")
        # Keys in order (goatui.ui.keys): Tab reaches it, and keys typed after the key
        # that leaves it must not stay behind.
        yield LogLines(max_lines=TAIL_LINES, highlight=True, id="log-tail-log")

    @property
    def log_widget(self) -> Log:
        return self.query_one(Log)

    def on_mount(self) -> None:
        self.log_widget.highlighter = ColumnHighlighter(view_tones(self.owner))
        self._timer = self.set_interval(TICK_S, self.tick, pause=True)

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def toggle(self, plugin: str | None) -> None:
        self.set_class(not self.shown, "-shown")
        if self.shown:
            self.follow(plugin, force=True)
            self._timer.resume()
        else:
            self._timer.pause()

    def follow(self, plugin: str | None, *, force: bool = False) -> None:
        """Show plugin's lines (every plugin's with None), starting from what is kept."""
        if plugin == self.plugin and not force:
            return
        self.plugin = plugin
        if not self.shown:
            return  # filled when shown
        title = f"log tail · {plugin}" if plugin else "log tail · every plugin"
        self.query_one("#log-tail-title", Label).update(sanitize_line(title))
        store = self.owner.ctx.session.logs
        self.log_widget.clear()
        self._seen = 0
        recent, _ = store.since(0)
        self._write(recent[-TAIL_LINES:])
        self._seen = store.last_seq

    def tick(self) -> None:
        store = self.owner.ctx.session.logs
        new, _missed = store.since(self._seen)
        self._seen = store.last_seq
        self._write(new)

    def _write(self, entries: list[LogEntry]) -> None:
        lines = [format_line(e) for e in entries if self.plugin in (None, e.plugin)]
        if lines:
            self.log_widget.write_lines(lines, scroll_end=True)
