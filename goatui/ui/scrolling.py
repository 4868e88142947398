"""Scrolling keys that jump rather than glide.

Textual animates keyboard scrolling. Each frame of the animation draws every line of the
widget again (a 20 MB result, a busy log) and, over SSH, is output the operator waits
through: the result viewer's scroll keys took 56 ms at p95 animated and 14 ms jumping
(issue #9, docs/PERFORMANCE.md). The mouse wheel already scrolls without animating.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import OptionList

if TYPE_CHECKING:
    from textual.widget import Widget

    _WidgetMixin = Widget
else:
    _WidgetMixin = object  # as goatui.ui.keys: no Widget base in the MRO at run time


#: vim's keys beside the arrows, in every viewer that scrolls (issue #17); ids shared by
#: every viewer, so one [keys] line rebinds them all.
VIM_SCROLL: list[BindingType] = [
    Binding("j", "scroll_down", "Down", show=False, id="scroll.down"),
    Binding("k", "scroll_up", "Up", show=False, id="scroll.up"),
    Binding("g", "scroll_home", "Top", show=False, id="scroll.top"),
    Binding("G", "scroll_end", "Bottom", show=False, id="scroll.bottom"),
]


class JumpScroll(_WidgetMixin):
    """Widget mixin (before the Textual widget): up, down, page, home and end jump."""

    def action_scroll_up(self) -> None:
        self._jump(self.scroll_y - 1)

    def action_scroll_down(self) -> None:
        self._jump(self.scroll_y + 1)

    def action_page_up(self) -> None:
        self._jump(self.scroll_y - self.scrollable_content_region.height)

    def action_page_down(self) -> None:
        self._jump(self.scroll_y + self.scrollable_content_region.height)

    def action_scroll_home(self) -> None:
        self._jump(0, x=0 if self.scroll_y == 0 else None)  # again: to the left edge

    def action_scroll_end(self) -> None:
        self._jump(self.max_scroll_y)

    def _jump(self, y: float, x: float | None = None) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()  # nothing to scroll: the key goes on to the view
        self.scroll_to(x=x, y=y, animate=False, immediate=True)


class VimScroll(VerticalScroll):
    """A scrolling container that takes j, k, g and G too."""

    BINDINGS = VIM_SCROLL


class VimOptionList(OptionList):
    """A list to pick from that takes j, k, g and G too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("g", "first", "First", show=False, id="list.first"),
        Binding("G", "last", "Last", show=False, id="list.last"),
    ]
