"""What all views share: the console context, monitor updates, worker errors as toasts."""

from __future__ import annotations

from typing import ClassVar, Protocol, cast

from textual import events, on
from textual.containers import Container
from textual.dom import DOMNode
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from goatui.ui.context import ConsoleContext
from goatui.ui.errors import describe, toast


class Console(Protocol):
    """What views ask of the app that holds them."""

    def prepare(self, plugin: str | None, *, replace: bool) -> None:
        """Shown for a plugin: `replace` when the operator named it (`i` on its row),
        else the one selected in the Plugins view, to offer when none is chosen yet."""

    def context_changed(self, old: str, new: str) -> None:
        """The console switched contexts (old and new as the operator knows them): drop
        what came from the old one, or mark where it ends."""

    def show_view(self, name: str, plugin: str | None = None) -> None: ...


class View(Container):
    """A top-level view. Subclasses set `LISTENS = True` to get PluginsChanged messages.

    Views own their workers; a worker that fails ends up here as one notification, so
    no view needs its own error plumbing.
    """

    LISTENS = False
    #: Widgets inside the view whose own BINDINGS belong in its section of the help.
    HELP_FROM: ClassVar[tuple[type[DOMNode], ...]] = ()

    def __init__(self, ctx: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ctx = ctx

    @classmethod
    def offers(cls, action: str, ctx: ConsoleContext) -> bool:
        """Whether the key for action works with this backend and session at all (a
        gateway's enable, host calls where goatui can host): the footer and the help
        list only what does. A view's check_action hides what this refuses."""
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.offers(action, self.ctx) or False

    def default_focus(self) -> Widget | None:
        """What the operator most likely wants focused when this view is shown."""
        return self

    def prepare(self, plugin: str | None, *, replace: bool) -> None:
        """Shown for a plugin: `replace` when the operator named it (`i` on its row),
        else the one selected in the Plugins view, to offer when none is chosen yet."""

    def context_changed(self, old: str, new: str) -> None:
        """The console switched contexts (old and new as the operator knows them): drop
        what came from the old one, or mark where it ends."""

    def show_view(self, name: str, plugin: str | None = None) -> None:
        """Switch to another view now; `plugin` preselects a plugin there (Invoke).

        A direct call, not a message: keys typed right after the switching key must
        find the new view's focus (see goatui.ui.keys).
        """
        cast(Console, self.app).show_view(name, plugin)

    @on(events.Mount)
    def _listen(self) -> None:
        if self.LISTENS:
            self.ctx.hub.subscribe(self)

    @on(events.Unmount)
    def _stop_listening(self) -> None:
        self.ctx.hub.unsubscribe(self)

    @on(Worker.StateChanged)
    def _report_worker_error(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            toast(self, describe(event.worker.error), title="error", severity="error")
