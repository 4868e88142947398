"""The footer, with the keys that work everywhere first: `?` (every key) and `q` (quit)
stay on screen however narrow the terminal and however many keys the view has (the
Logs view's twelve cut them off at 80 columns: issue #17)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: Actions of the App's bindings shown before the view's own.
FIRST = ("help", "quit")


class GoatFooter(Footer):
    """Textual's footer, `?` and `q` first. Uses `FooterKey` (Textual's own footer key
    widget, private: tests/test_private_internals.py checks it)."""

    def compose(self) -> ComposeResult:
        items = list(super().compose())
        first = [i for i in items if isinstance(i, FooterKey) and i.action in FIRST]
        yield from first
        yield from (i for i in items if i not in first)
