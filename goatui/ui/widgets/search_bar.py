"""The line under a result where `/` searches and `$` narrows with JSONPath.

Search is incremental (each keystroke re-marks the matches); a query runs on Enter,
and an invalid one is said on the bar (the result stays as it was). Enter hands the
keys back to the result (n / N step through matches); Escape closes the bar and shows
the whole result again.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label

from goatui.core.sanitize import sanitize_line
from goatui.ui.keys import TextInput, focus_now
from goatui.ui.widgets.result_viewer import FindMode, ResultViewer

_PROMPTS: dict[FindMode, tuple[str, str]] = {
    "search": ("/", "search the result (no capital letter: any case)"),
    "query": ("jsonpath", "e.g. $.reports[*].name, $..count, $.rows[?(@.n > 2)] then Enter"),
}


class SearchBar(Horizontal):
    DEFAULT_CSS = """
    SearchBar {
        display: none;
        height: 1;
        background: $surface;
        & > Label { padding: 0 1; color: $text-muted; }
        & > #search-bar-mode { color: $text-accent; text-style: bold; }
        & > Input { width: 1fr; min-width: 20; }
        & > #search-bar-status { max-width: 60%; }
        & > #search-bar-status.-error { color: $text-error; }
        &.-open { display: block; }
    }
    """
    BINDINGS = [Binding("escape", "close", "Close search", id="search_bar.close")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode: FindMode = "search"
        self.viewer: ResultViewer | None = None

    def compose(self) -> ComposeResult:
        yield Label("/", id="search-bar-mode")
        yield TextInput(compact=True, id="search-bar-input", on_submit=self._submitted)
        yield Label("", id="search-bar-status")

    @property
    def input(self) -> Input:
        return self.query_one("#search-bar-input", Input)

    def open(self, viewer: ResultViewer, mode: FindMode) -> None:
        self.viewer, self.mode = viewer, mode
        label, placeholder = _PROMPTS[mode]
        self.query_one("#search-bar-mode", Label).update(label)
        self.input.placeholder = placeholder
        self.input.value = (viewer.query_text or "$") if mode == "query" else ""
        self._say("")
        self.add_class("-open")
        focus_now(self.input)

    def _say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#search-bar-status", Label)
        status.update(sanitize_line(text))
        status.set_class(error, "-error")

    @on(Input.Changed, "#search-bar-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.mode == "search" and self.viewer is not None:
            found = self.viewer.search(event.value)
            self._say(found, error=bool(event.value) and not self.viewer.matches)

    def _submitted(self, value: str) -> None:
        viewer = self.viewer
        if viewer is None:
            return
        expression = value.strip()
        if self.mode == "query":
            problem = viewer.narrow(value) if expression else ""
            if problem:
                self._say(problem, error=True)
                return
            if not expression:
                viewer.action_restore()
            self._say(f"showing {expression}" if expression else "")
        focus_now(viewer)

    def show_position(self, position: str) -> None:
        """The current match, after n / N on the result."""
        self._say(position)

    def action_close(self) -> None:
        self.remove_class("-open")
        if self.viewer is not None:
            self.viewer.action_restore()
            self.viewer.set_marks([], None)
            self.viewer.matches = []
            focus_now(self.viewer)
