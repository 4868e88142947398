"""What every dialog shares: a footer of its own, listing the dialog's keys.

The main screen's footer stays visible under a dialog and listed the view's keys, none
of which works while the dialog is open (`q` said Quit where it closes the history).
"""

from __future__ import annotations

from typing import TypeVar

from textual import events, on
from textual.screen import ModalScreen

from goatui.ui.widgets.footer import GoatFooter

Result = TypeVar("Result")


class Dialog(ModalScreen[Result]):
    """A modal screen with its own footer, over the main screen's (docked at the bottom,
    outside the dialog's layout)."""

    @on(events.Mount)
    def _mount_footer(self) -> None:
        self.mount(GoatFooter())
