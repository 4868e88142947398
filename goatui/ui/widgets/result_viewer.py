"""The call result: JSON highlighted, text as text, bytes as hex; fast when huge.

Rendering is lazy (LineView draws only visible lines), and the first PREVIEW_LINES
lines (or PREVIEW_CHARS characters) are shown until the operator asks for everything.
The text comes from goatui.core.results.classify_result, already sanitised.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.highlighter import JSONHighlighter

from goatui.core.results import ResultView
from goatui.ui.widgets.line_view import LineView

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

    @property
    def complete(self) -> bool:
        return self.lines >= self.total_lines and self.chars >= self.total_chars


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
    def on_mount(self) -> None:
        self._view: ResultView | None = None
        self._everything = False
        self.show_message("no result yet: ctrl+r sends the call")
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def show_result(self, view: ResultView, *, everything: bool = False) -> Shown:
        self._view, self._everything = view, everything
        if view.kind == "empty":
            self.set_lines(["(empty result)"], numbered=False)
            return Shown(0, 0, 0, 0)
        text = view.text
        shown = text if everything else preview(text, PREVIEW_LINES, PREVIEW_CHARS)
        if view.kind == "json":
            variables = self.app.get_css_variables()
            styles = {name: variables.get(var, "") for name, var in _JSON_TONES.items()}
            self.set_lines(shown.split("\n"), JSONHighlighter(), styles)
        else:
            self.set_lines(shown.split("\n"))
        return Shown(count_lines(shown), count_lines(text), len(shown), len(text))

    def show_message(self, text: str, placeholder: str = "") -> None:
        """Plain lines (an error excerpt, a hint); text must already be safe to show.

        With no text, the placeholder is shown instead (e.g. "no result").
        """
        self._view = None
        shown = text or (f"({placeholder})" if placeholder else "")
        self.set_lines(shown.split("\n") if shown else [], numbered=False)

    def _on_theme_changed(self, _theme: object) -> None:
        if self._view is not None:
            self.show_result(self._view, everything=self._everything)
