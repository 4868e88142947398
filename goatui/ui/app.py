"""The console: wires the views to the session, the plugin monitor and the call history.

`run_console(session)` is the entry point (goatui.cli.commands.open_console). At mount
the app starts the session in a worker (that launches the plugins of `goatui demo`),
then the monitor. Both are closed when the app ends, whichever way it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import partial

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from goatui.core.config import save_setting
from goatui.core.errors import GoatError
from goatui.core.history import History
from goatui.core.models import Health
from goatui.core.monitor import GONE, PluginMonitor
from goatui.core.session import Session
from goatui.ui.commands import GoatCommands
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import describe, toast
from goatui.ui.hub import MonitorHub
from goatui.ui.messages import PluginsChanged, PluginTransition, RefreshRequested, ShowView
from goatui.ui.paths import stylesheets
from goatui.ui.screens.help import HelpScreen, Section
from goatui.ui.views.base import View
from goatui.ui.views.invoke import InvokeView
from goatui.ui.views.jobs import JobsView
from goatui.ui.views.logs import LogsView
from goatui.ui.views.plugins import PluginsView
from goatui.ui.views.widgets import WidgetsView

_VIEW_CLASSES: tuple[type[View], ...] = (PluginsView, InvokeView, WidgetsView, JobsView, LogsView)


class MainScreen(Screen[None]):
    # Start on the table, not on the first input in the DOM (the hidden filter, or a
    # field of another tab). Modal screens keep Textual's default.
    AUTO_FOCUS = "#plugins-table"


class GoatApp(App[int]):
    TITLE = "goatui"
    CSS_PATH = stylesheets()
    COMMANDS = App.COMMANDS | {GoatCommands}
    # Wide terminals put the plugin detail beside the table instead of under it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]

    VIEWS: tuple[tuple[str, str], ...] = (
        ("plugins", "Plugins"),
        ("invoke", "Invoke"),
        ("widgets", "Widgets"),
        ("jobs", "Jobs"),
        ("logs", "Logs"),
    )

    BINDINGS = [
        *(
            Binding(str(key), f"show_view('{view}')", title, show=False, id=f"app.view.{view}")
            for key, (view, title) in enumerate(VIEWS, start=1)
        ),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        session: Session,
        *,
        monitor: PluginMonitor | None = None,
        history: History | None = None,
    ) -> None:
        super().__init__()
        if monitor is None:
            monitor = PluginMonitor(session.backend, interval=session.config.probe_interval)
        self.ctx = ConsoleContext(
            session=session,
            monitor=monitor,
            hub=MonitorHub(monitor, self),
            history=history if history is not None else History(),
        )
        self._session_closed = False

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Header()
        if self.ctx.read_only:
            yield Static(
                "READ-ONLY · invoking and job triggers are disabled", id="read-only-banner"
            )
        with TabbedContent(initial="plugins", id="views"):
            views = zip(self.VIEWS, _VIEW_CLASSES, strict=True)
            for key, ((view, title), cls) in enumerate(views, start=1):
                with TabPane(f"{key} {title}", id=view):
                    yield cls(self.ctx, id=f"{view}-view")
        yield Footer()

    def on_mount(self) -> None:
        theme = self.ctx.config.theme
        if theme and theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._save_theme)
        # Views are switched with 1-5; keep the tab strip out of the focus chain.
        self.query_one(Tabs).can_focus = False
        self.ctx.hub.subscribe(self)
        self._update_subtitle()
        self._start()

    @work(group="session", exit_on_error=False)
    async def _start(self) -> None:
        try:
            await self.ctx.session.start()
        except GoatError as exc:
            toast(self, exc.line(), title="startup", severity="error", timeout=15)
        for problem in self.ctx.session.problems:
            toast(self, problem, title="plugin", severity="error", timeout=15)
        for notice in self.ctx.session.notices:
            toast(self, notice, title="host", timeout=10)
        await self.ctx.monitor.start()
        self._update_subtitle()

    async def close_session(self) -> None:
        """Stop the monitor, then close the session (launched plugins, channels). Once."""
        if self._session_closed:
            return
        self._session_closed = True
        try:
            await self.ctx.monitor.stop()
        finally:
            await self.ctx.session.close()

    async def on_unmount(self) -> None:
        await self.close_session()

    # -- views -------------------------------------------------------------------------

    def view(self, name: str) -> View:
        return self.query_one(f"#{name}-view", View)

    def show_view(self, name: str, plugin: str | None = None) -> None:
        self.query_one(TabbedContent).active = name
        view = self.view(name)
        if isinstance(view, InvokeView):
            # Key 2 offers the plugin selected in the table; `i` insists on its own.
            selected = self.query_one(PluginsView).selected()
            fallback = selected.name if selected is not None else None
            view.prepare(plugin or fallback, replace=plugin is not None)
        self.call_after_refresh(self._focus_active_view)

    def _focus_active_view(self) -> None:
        # Decided when it runs, not when scheduled: focusing a widget in another tab
        # would switch to that tab, and keys typed meanwhile must keep their focus.
        active = self.query_one(TabbedContent).active
        if not active:
            return
        view = self.view(active)
        focused = self.focused
        if focused is None or view not in focused.ancestors_with_self:
            view.focus_default()

    def action_show_view(self, name: str) -> None:
        self.show_view(name)

    def on_show_view(self, message: ShowView) -> None:
        self.show_view(message.view, message.plugin)

    @on(TabbedContent.TabActivated)
    def _tab_clicked(self) -> None:
        self.call_after_refresh(self._focus_active_view)

    def filter_plugins(self) -> None:
        self.show_view("plugins")
        self.query_one(PluginsView).action_filter()

    # -- actions -----------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.ctx.monitor.refresh()
        active = self.query_one(TabbedContent).active
        if active:
            self.view(active).post_message(RefreshRequested())
        self.notify("refreshing", timeout=1.5)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    def help_sections(self) -> list[Section]:
        """The key list, straight from the bindings of each part of the console."""
        everywhere = [
            *_bindings(self.BINDINGS),
            Binding("ctrl+p", "command_palette", "Command palette (also: change theme)"),
            Binding("tab,shift+tab", "focus_next", "Next / previous field"),
            Binding("ctrl+q", "quit", "Quit now"),
        ]
        sections: list[Section] = [("Everywhere", everywhere)]
        for (_, title), cls in zip(self.VIEWS, _VIEW_CLASSES, strict=True):
            keys = _bindings([*cls.BINDINGS, *(b for w in cls.HELP_FROM for b in w.BINDINGS)])
            if keys:
                sections.append((f"{title} view", keys))
        sections.append(("This help", _bindings(HelpScreen.BINDINGS)))
        return sections

    # -- monitor updates ---------------------------------------------------------------

    def on_plugins_changed(self, _message: PluginsChanged) -> None:
        self._update_subtitle()

    def on_plugin_transition(self, message: PluginTransition) -> None:
        change = message.transition
        severity: SeverityLevel
        if change.new in (Health.SERVING, Health.ENABLED):
            severity = "information"
        elif change.new in (Health.NOT_SERVING, Health.UNREACHABLE, GONE):
            severity = "error"
        else:
            severity = "warning"
        detail = f" ({change.error})" if change.error else ""
        toast(
            self,
            f"{message.name}: {change.old} → {change.new}{detail}",
            title="plugin state",
            severity=severity,
        )
        if self.ctx.config.bell:
            self.bell()

    def _update_subtitle(self) -> None:
        live = len(self.ctx.live_plugins())
        self.sub_title = f"{self.ctx.backend.label} · {live} plugin{'s' if live != 1 else ''}"

    # -- theme and errors --------------------------------------------------------------

    def _save_theme(self, theme: Theme) -> None:
        config = self.ctx.config
        if theme.name == config.theme:
            return  # the one loaded at start: nothing to save
        config.theme = theme.name
        save = partial(save_setting, "theme", theme.name, config.path)
        self.run_worker(save, thread=True, group="config", exit_on_error=False)

    @on(Worker.StateChanged)
    def _report_worker_error(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            toast(self, describe(event.worker.error), title="error", severity="error")


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


def run_console(session: Session) -> int:
    """Run the console until the operator quits; the session is closed in any case."""
    app = GoatApp(session)

    async def main() -> int:
        try:
            await app.run_async()
        finally:
            await app.close_session()
        return app.return_code or 0

    return asyncio.run(main())
