"""A read-only, scrollable view of many lines that only ever renders what is visible.

TextArea and Log get slow with hundreds of thousands of lines or megabyte-long ones;
this keeps a plain list of strings, and each screen line is sliced, highlighted and
rendered on demand (cached for lines of normal length). The text must already be safe
to show: it is drawn as Rich Text, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from goatui.ui.keys import KeysInOrder
from goatui.ui.scrolling import VIM_SCROLL, JumpScroll

# Lines longer than this are sliced to the visible window before highlighting.
LONG_LINE = 4_000


def line_width(line: str) -> int:
    return len(line) if line.isascii() else cell_len(line)


class LineView(KeysInOrder, JumpScroll, ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LineView {
        background: $surface;
        color: $foreground;
        & > .line-view--gutter {
            color: $text-muted;
        }
        & > .line-view--match {
            background: $warning-muted;
        }
        & > .line-view--match-current {
            background: $warning;
            color: $background;
        }
        &:focus {
            background-tint: $foreground 3%;
        }
    }
    """
    COMPONENT_CLASSES = {"line-view--gutter", "line-view--match", "line-view--match-current"}
    BINDINGS = VIM_SCROLL

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[str] = []
        self._highlighter: Highlighter | None = None
        self._styles: Mapping[str, str] = {}
        self._gutter = 0
        self._cache: LRUCache[int, Strip] = LRUCache(2_000)
        # Search matches to mark: line index → (start, end) columns; and the current one.
        self._marks: dict[int, list[tuple[int, int]]] = {}
        self._current_mark: tuple[int, int, int] | None = None
        self._base_style = Style()

    @property
    def lines(self) -> Sequence[str]:
        return self._lines

    def set_marks(
        self, matches: Sequence[tuple[int, int, int]], current: tuple[int, int, int] | None
    ) -> None:
        """Mark matches (line, start, end); the current one stands out."""
        marks: dict[int, list[tuple[int, int]]] = {}
        for line, start, end in matches:
            marks.setdefault(line, []).append((start, end))
        self._marks, self._current_mark = marks, current
        self._cache.clear()
        self.refresh()

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def set_lines(
        self,
        lines: list[str],
        highlighter: Highlighter | None = None,
        styles: Mapping[str, str] | None = None,
        *,
        numbered: bool = True,
    ) -> None:
        """Show lines; `styles` maps the highlighter's style names to theme colours."""
        self._lines = lines
        self._highlighter = highlighter
        self._styles = styles or {}
        self._gutter = len(str(len(lines))) + 2 if lines and numbered else 0
        self._marks, self._current_mark = {}, None
        width = max((line_width(line) for line in lines), default=0)
        self._cache.clear()
        self.virtual_size = Size(width + self._gutter, len(lines))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Widget.rich_style walks every ancestor's styles: once per paint, not per line.
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self._base_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        gutter = self._gutter_strip(index)
        body_width = max(width - self._gutter, 0)
        line = self._lines[index]
        if len(line) > LONG_LINE:
            # Only the visible slice of a huge line is ever rendered.
            body = self._strip_of(line[scroll_x : scroll_x + body_width + 1], index, scroll_x)
        else:
            body = self._cached(index, line).crop(scroll_x, scroll_x + body_width)
        body = body.extend_cell_length(body_width, style)
        return Strip.join([gutter, body]).apply_style(style)

    def _gutter_strip(self, index: int) -> Strip:
        if not self._gutter:
            return Strip([])
        number = f"{index + 1:>{self._gutter - 1}} "
        return Strip([Segment(number, self.get_component_rich_style("line-view--gutter"))])

    def _cached(self, index: int, line: str) -> Strip:
        strip = self._cache.get(index)
        if strip is None:
            strip = self._strip_of(line, index)
            self._cache[index] = strip
        return strip

    def _strip_of(self, line: str, index: int = -1, offset: int = 0) -> Strip:
        text = Text(line, no_wrap=True, end="")
        if self._highlighter is not None:
            self._highlighter.highlight(text)
            if self._styles:
                text.spans = [
                    Span(s.start, s.end, self._styles.get(str(s.style), s.style))
                    for s in text.spans
                ]
        for start, end in self._marks.get(index, ()):
            current = self._current_mark == (index, start, end)
            name = "line-view--match-current" if current else "line-view--match"
            if end - offset > 0:  # Rich reads a negative start as counted from the end
                style = self.get_component_rich_style(name)
                text.stylize(style, max(start - offset, 0), end - offset)
        segments = list(text.render(self.app.console))
        return Strip(segments, text.cell_len)
