"""The call result: JSON highlighted, text as text, bytes as hex; fast when huge.

Rendering is lazy (LineView draws only visible lines), and the first PREVIEW_LINES
lines (or PREVIEW_CHARS characters) are shown until the operator asks for everything.
The text comes from goatui.core.results.classify_result, already sanitised.

`/` searches the shown lines (n / N step through the matches, which stay marked) and
`$` narrows a JSON result with a JSONPath query (goatui.core.calls.query); Escape shows the
whole result again. Both are typed into a SearchBar that the owning view places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.highlighter import JSONHighlighter
from textual.binding import Binding
from textual.message import Message

from goatui.core.calls.query import query_json, search_lines
from goatui.core.calls.results import ResultView
from goatui.core.errors import UsageError
from goatui.core.sanitize import safe_json_dumps
from goatui.ui.widgets.line_view import LineView

FindMode = Literal["search", "query"]
# Lines kept visible above and below a match that the view scrolls to.
CONTEXT_LINES = 3

PREVIEW_LINES = 5_000
PREVIEW_CHARS = 2 * 1024 * 1024

# JSONHighlighter's style names → theme variables (readable in light and dark themes).
_JSON_TONES = {
    "json.key": "text-primary",
    "json.str": "text-success",
    "json.number": "text-accent",
    "json.bool_true": "text-warning",
    "json.bool_false": "text-warning",
    "json.null": "text-error",
}


@dataclass(frozen=True)
class Shown:
    """How much of a result is on screen."""

    lines: int
    total_lines: int
    chars: int
    total_chars: int
    #: False while the rest of a large result is still being pretty-printed (the
    #: totals are then unknown and given as 0).
    known: bool = True

    @property
    def complete(self) -> bool:
        return self.known and self.lines >= self.total_lines and self.chars >= self.total_chars


def preview(text: str, max_lines: int, max_chars: int) -> str:
    """The head of text: at most max_lines lines and max_chars characters."""
    end = min(len(text), max_chars)
    position = -1
    for _ in range(max_lines):
        position = text.find("\n", position + 1, end)
        if position == -1:
            return text[:end]
    return text[:position]


def count_lines(text: str) -> int:
    return text.count("\n") + 1 if text else 0


class ResultViewer(LineView):
    BINDINGS = [
        Binding("slash", "find('search')", "Search the result", id="result.search"),
        Binding("n", "next_match(1)", "Next match", id="result.next"),
        Binding("N", "next_match(-1)", "Previous match", id="result.previous"),
        # `$`, as a JSONPath starts: j is vim's down, as in every viewer.
        Binding("dollar_sign", "find('query')", "Narrow JSON (JSONPath)", id="result.query"),
        Binding("escape", "restore", "Whole result again", id="result.restore"),
    ]

    class FindRequested(Message):
        """The operator pressed `/` or `$`: the owner opens its SearchBar."""

        def __init__(self, viewer: ResultViewer, mode: FindMode) -> None:
            super().__init__()
            self.viewer = viewer
            self.mode = mode

    class Moved(Message):
        """The current match changed (n / N) or the result was restored: bars update."""

        def __init__(self, position: str) -> None:
            super().__init__()
            self.position = position

    def on_mount(self) -> None:
        self._view: ResultView | None = None
        self._full: ResultView | None = None
        self._everything = False
        self.query_text = ""
        self.matches: list[tuple[int, int, int]] = []
        self.match_index = -1
        self.show_message("no result yet: ctrl+r sends the call")
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def show_result(self, view: ResultView, *, everything: bool = False) -> Shown:
        """Show a new result (whole: any query or search of the last one is dropped)."""
        self._full, self.query_text = view, ""
        return self._display(view, everything=everything)

    def _display(self, view: ResultView, *, everything: bool) -> Shown:
        self._view, self._everything = view, everything
        self.matches, self.match_index = [], -1
        if view.kind == "empty":
            self.set_lines(["(empty result)"], numbered=False)
            return Shown(0, 0, 0, 0)
        text = view.text
        # An incomplete view's text is its head, already no longer than a preview.
        whole = everything or not view.complete
        shown = text if whole else preview(text, PREVIEW_LINES, PREVIEW_CHARS)
        if view.kind == "json":
            variables = self.app.get_css_variables()
            styles = {name: variables.get(var, "") for name, var in _JSON_TONES.items()}
            self.set_lines(shown.split("\n"), JSONHighlighter(), styles)
        else:
            self.set_lines(shown.split("\n"))
        return self._shown(shown, view)

    @staticmethod
    def _shown(shown: str, view: ResultView) -> Shown:
        if not view.complete:
            return Shown(count_lines(shown), 0, len(shown), 0, known=False)
        return Shown(count_lines(shown), count_lines(view.text), len(shown), len(view.text))

    def complete(self, view: ResultView, *, everything: bool) -> Shown:
        """The whole text of the result shown by its head: shown at once if everything
        is asked for; otherwise the lines on screen stay (they are its head) and only
        the totals become known. A query's narrowed view is left as it is."""
        if self._full is None or self._full.value is not view.value:
            return Shown(0, 0, 0, 0)  # another result since
        self._full = view
        if self.narrowed:
            assert self._view is not None
            return self._shown("\n".join(self.lines), self._view)
        if everything:
            return self._display(view, everything=True)
        self._view = view
        return self._shown("\n".join(self.lines), view)

    def show_message(self, text: str, placeholder: str = "") -> None:
        """Plain lines (an error excerpt, a hint); text must already be safe to show.

        With no text, the placeholder is shown instead (e.g. "no result").
        """
        self._view = self._full = None
        self.query_text = ""
        self.matches, self.match_index = [], -1
        shown = text or (f"({placeholder})" if placeholder else "")
        self.set_lines(shown.split("\n") if shown else [], numbered=False)

    def _on_theme_changed(self, _theme: object) -> None:
        if self._view is not None:
            self._display(self._view, everything=self._everything)

    # -- search and query ----------------------------------------------------------------

    @property
    def narrowed(self) -> bool:
        return bool(self.query_text)

    @property
    def has_result(self) -> bool:
        return self._full is not None

    def search(self, pattern: str) -> str:
        """Mark every match of pattern and go to the first one below the top line.

        Returns what the search bar shows: "3/17", "no match", or why the pattern is bad.
        """
        try:
            self.matches = search_lines(self.lines, pattern) if pattern else []
        except UsageError as exc:
            self.matches = []
            self.set_marks([], None)
            return exc.line()
        if not self.matches:
            self.match_index = -1
            self.set_marks([], None)
            return "no match" if pattern else ""
        top = self.scroll_offset.y
        self.match_index = next(
            (i for i, (line, _, _) in enumerate(self.matches) if line >= top), 0
        )
        return self._go()

    def action_next_match(self, step: int) -> None:
        if self.matches:
            self.match_index = (self.match_index + step) % len(self.matches)
            self.post_message(self.Moved(self._go()))

    def _go(self) -> str:
        """Mark the current match and scroll it into view with lines around it."""
        line, start, end = self.matches[self.match_index]
        self.set_marks(self.matches, (line, start, end))
        height = max(self.scrollable_content_region.height, 1)
        context = min(CONTEXT_LINES, max((height - 1) // 2, 0))
        y = self.scroll_offset.y
        if line < y + context or line >= y + height - context:
            y = max(line - context, 0)
        width = max(self.scrollable_content_region.width - self._gutter, 1)
        x = self.scroll_offset.x
        if start < x or end > x + width:
            x = max(start - width // 4, 0)
        self.scroll_to(x, y, animate=False, immediate=True)
        more = "+" if len(self.matches) >= 10_000 else ""
        return f"{self.match_index + 1}/{len(self.matches)}{more}"

    def narrow(self, expr: str) -> str:
        """Show only what the JSONPath expression selects; returns "" or why not."""
        full = self._full
        if full is None or full.kind != "json":
            return "a JSONPath query needs a JSON result"
        try:
            value = query_json(full.value, expr)
        except UsageError as exc:
            return exc.line()
        self.query_text = expr
        text = safe_json_dumps(value)
        self._display(ResultView("json", text, value, len(text)), everything=self._everything)
        return ""

    def action_find(self, mode: FindMode) -> None:
        self.post_message(self.FindRequested(self, mode))

    def action_restore(self) -> None:
        if self._full is not None:
            self.query_text = ""
            self._display(self._full, everything=self._everything)
            self.post_message(self.Moved(""))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "find":
            return self.has_result
        if action == "next_match":
            return bool(self.matches)
        if action == "restore":
            # Otherwise Escape goes on to the view (cancel, back).
            return self.narrowed or bool(self.matches)
        return True
