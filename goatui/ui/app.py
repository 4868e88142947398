"""The console: wires the views to the session, the plugin monitor and the call history.

`run_console(session)` is the entry point (goatui.cli.commands.open_console). At mount
the app starts the session in a worker (that launches the plugins of `goatui demo`),
then the monitor. Both are closed when the app ends, whichever way it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import time
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import cast

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import Header, Label, Static, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState, WorkType

from goatui.core.backends.base import SignInStatus
from goatui.core.backends.contexts import available_contexts, backend_for_context
from goatui.core.calls.history import History
from goatui.core.config import Config, load_config, save_setting
from goatui.core.errors import GoatError
from goatui.core.logs import GOATUI_FIELD, RELOAD, LogEntry
from goatui.core.models import Health
from goatui.core.monitor import PluginMonitor
from goatui.core.notices import TransitionNotices
from goatui.core.sanitize import sanitize_line
from goatui.core.session import Session
from goatui.core.signals import CONSOLE_SIGNALS, SignalExit, exit_code_of
from goatui.ui.commands import GoatCommands
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import describe, toast
from goatui.ui.hub import MonitorHub
from goatui.ui.keymap import checked_keymap, in_force
from goatui.ui.keys import TypedAheadKeys, focus_now, is_shown
from goatui.ui.messages import PluginsChanged, PluginTransition, RefreshRequested
from goatui.ui.paths import stylesheets
from goatui.ui.screens.audit import AuditScreen
from goatui.ui.screens.confirm import ConfirmScreen
from goatui.ui.screens.contexts import ContextScreen
from goatui.ui.screens.help import HelpScreen, Section
from goatui.ui.scrolling import VIM_SCROLL
from goatui.ui.terminal import hangup_safe
from goatui.ui.views.base import View
from goatui.ui.views.plugins import PluginsView
from goatui.ui.widgets.command_line import CommandLine, resolve
from goatui.ui.widgets.footer import GoatFooter
from goatui.ui.widgets.row_table import RowTable

# Where each view lives. The console imports and mounts a view other than Plugins only
# when it is first shown, or in the background once the plugin rows are on screen
# (`lazy_views`): most of the start-up time went to the four views not yet visible.
_VIEW_MODULES: dict[str, tuple[str, str]] = {
    "plugins": ("goatui.ui.views.plugins", "PluginsView"),
    "invoke": ("goatui.ui.views.invoke", "InvokeView"),
    "widgets": ("goatui.ui.views.widgets", "WidgetsView"),
    "jobs": ("goatui.ui.views.jobs", "JobsView"),
    "logs": ("goatui.ui.views.logs", "LogsView"),
}


def view_class(name: str) -> type[View]:
    module, attribute = _VIEW_MODULES[name]
    cls: type[View] = getattr(importlib.import_module(module), attribute)
    return cls


class MainScreen(Screen[None]):
    # Start on the table, not on the first input in the DOM (the hidden filter, or a
    # field of another tab). Modal screens keep Textual's default.
    AUTO_FOCUS = "#plugins-table"


class GoatApp(TypedAheadKeys, App[int]):
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
        Binding("ctrl+o", "switch_context", "Switch context", show=False, id="app.context"),
        Binding("L", "sign_in", "Sign in", id="app.sign_in"),
        Binding("colon", "command_line", "Command", show=False, id="app.command"),
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        # Textual only hints "press q to quit" on Ctrl-C, and inputs take it as copy:
        # operators expect Ctrl-C to end a terminal program, so it quits, from anywhere.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.interrupt"),
    ]

    def __init__(
        self,
        session: Session,
        *,
        monitor: PluginMonitor | None = None,
        history: History | None = None,
        lazy_views: bool = False,
        keep_long_lived: bool = False,
    ) -> None:
        """`lazy_views`: mount only the Plugins view at start, the others after the
        first rows are drawn or when first shown (the real console; tests keep every
        view in the DOM from the start). `keep_long_lived`: see `_keep_long_lived` (the
        real console; it changes the collector for the whole process)."""
        super().__init__()
        self._lazy_views = lazy_views
        self._keep_long_lived_on = keep_long_lived
        self._kept_for = 0  # how many plugins there were at the last _keep_long_lived
        self._mounting: dict[str, asyncio.Task[None]] = {}
        self._starting: asyncio.Future[GoatError | None] | None = None
        if monitor is None:
            monitor = PluginMonitor(session.backend, interval=session.config.probe_interval)
        self.ctx = ConsoleContext(
            session=session,
            monitor=monitor,
            hub=MonitorHub(monitor, self),
            history=history if history is not None else History(),
        )
        self._session_closed = False
        self._notices = TransitionNotices()
        #: The config's [keys] in force (binding id → keys), checked.
        self.keymap: dict[str, str] = {}
        self._clashes_said: set[frozenset[str]] = set()
        self._notices_due: float | None = None
        self._notices_timer: Timer | None = None

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Header()
        if self.ctx.read_only:
            yield Static(
                "READ-ONLY · invoking and job triggers are disabled", id="read-only-banner"
            )
        # The backend's warnings (e.g. --insecure) stay on screen, not only in a toast.
        yield Static(id="gateway-warnings")
        # Signed out of a gateway: said once, here, with the key that signs in again.
        yield Static(id="sign-in-notice")
        with TabbedContent(initial="plugins", id="views"):
            for key, (view, title) in enumerate(self.VIEWS, start=1):
                with TabPane(f"{key} {title}", id=view):
                    if view == "plugins" or not self._lazy_views:
                        yield view_class(view)(self.ctx, id=f"{view}-view")
        with Horizontal(id="command-bar"):
            yield Label(":", id="command-prompt")
            yield CommandLine(self._run_command, id="command-line")
        yield GoatFooter()

    def get_driver_class(self) -> type[Driver]:
        # A hung-up terminal must not stop the shutdown (goatui.ui.terminal).
        return hangup_safe(super().get_driver_class())

    def on_mount(self) -> None:
        theme = self.ctx.config.theme
        if theme and theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._save_theme)
        # Views are switched with 1-5; keep the tab strip out of the focus chain.
        self.query_one(Tabs).can_focus = False
        self.ctx.hub.subscribe(self)
        # goatui's own lines in the log stream that the operator must see now (a WASM
        # plugin reloaded because its file changed).
        self.ctx.session.logs.subscribe_marked(self._announce)
        self._sign_in_shown: tuple[object, ...] | None = None
        self._quiet_unknown: set[str] = set()  # went UNKNOWN because signed out
        self.apply_keys(self.ctx.config.keys)
        self._update_subtitle()
        self._show_warnings()
        self._show_sign_in()
        # Reading the backend's sign-in state is cheap: a second is soon enough to say
        # the console got signed out (a refresh refused, in any view's request).
        self.set_interval(1.0, self._show_sign_in)
        self._start()

    def _announce(self, entry: LogEntry) -> None:
        # The operator's own R is answered where it was pressed.
        if entry.fields.get(GOATUI_FIELD) == RELOAD and entry.fields.get("by") == "file":
            severity: SeverityLevel = "error" if entry.level == "error" else "information"
            toast(self, entry.message, title="reload", severity=severity)

    def begin_start(self) -> None:
        """Start the session and the monitor now. run_console calls it before the app
        runs, so plugins answer Register while Textual builds the first screen."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start_session())

    async def _start_session(self) -> GoatError | None:
        failure = None
        try:
            await self.ctx.session.start()
        except GoatError as exc:
            failure = exc  # said once the app can show it; the monitor starts anyway
        await self.ctx.monitor.start()
        return failure

    @work(group="session", exit_on_error=False)
    async def _start(self) -> None:
        self.begin_start()
        assert self._starting is not None
        failure = await asyncio.shield(self._starting)
        if failure is not None:
            toast(self, failure.line(), title="startup", severity="error", timeout=15)
        self._tell_all(self.ctx.session.problems, "plugin", "error", 15)
        self._tell_all(self.ctx.session.notices, "host", "information", 10)
        self._update_subtitle()
        self.query_one(PluginsView).redraw()  # what the monitor found before the mount
        if self._lazy_views:
            # After the rows are drawn: the operator sees plugins first.
            self.call_after_refresh(self._mount_views)
        else:
            self._keep_long_lived()

    @work(group="views", exit_on_error=False)
    async def _mount_views(self) -> None:
        for view, _ in self.VIEWS:
            await self.ensure_view(view)
        self._keep_long_lived()

    def _keep_long_lived(self) -> None:
        """Take what exists now out of the cyclic collector's walks (`gc.freeze`): the
        screen, the views, every plugin's state and channel. With 1,000 plugins that is
        ~220,000 objects, and each full collection walking them paused the console
        ~300 ms (keys p95 ~440 ms, issue #19). They are still freed when no longer
        referenced; only a reference cycle among them would outlive the console's use.
        Again whenever what lasts grew by a tenth: plugins found, and Health.Watch
        streams opened (each keeps ~30 objects waiting for the next change)."""
        if self._keep_long_lived_on:
            gc.freeze()
            self._kept_for = self._long_lived()

    def _long_lived(self) -> int:
        states = self.ctx.monitor.states.values()
        return len(states) + sum(1 for s in states if s.watching)

    async def ensure_view(self, name: str) -> View:
        """The view, mounted first if it is not yet (lazy_views)."""
        view = self._mounted_view(name)
        if view is not None:
            return view
        if name not in self._mounting:
            self._mounting[name] = asyncio.ensure_future(self._mount_view(name))
        await asyncio.shield(self._mounting[name])
        return self.view(name)

    async def _mount_view(self, name: str) -> None:
        view = view_class(name)(self.ctx, id=f"{name}-view")
        await self.query_one(f"#{name}", TabPane).mount(view)

    async def close_session(self) -> None:
        """Stop the monitor, then close the session (launched plugins, channels). Once."""
        if self._session_closed:
            return
        self._session_closed = True
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()  # quit while still starting (launching, say)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._starting
        try:
            await self.ctx.monitor.stop()
        finally:
            await self.ctx.session.close()

    async def on_unmount(self) -> None:
        await self.close_session()

    # -- views -------------------------------------------------------------------------

    def view(self, name: str) -> View:
        return self.query_one(f"#{name}-view", View)

    def _mounted_view(self, name: str) -> View | None:
        mounting = self._mounting.get(name)
        if mounting is not None and not mounting.done():
            return None  # in the DOM, but its widgets are not composed yet
        try:
            return self.view(name)
        except NoMatches:
            return None

    def show_view(self, name: str, plugin: str | None = None) -> None:
        self.query_one(TabbedContent).active = name
        view = self._mounted_view(name)
        if view is None:
            # Shown before its background mount got to it: mount it now, then show.
            # Keys typed meanwhile wait for it (goatui.ui.keys), not the hidden table.
            self.hold_keys()

            # A function, not a coroutine: quitting first leaves no coroutine unawaited.
            async def show() -> None:
                await self._show_mounted(name, plugin)

            self.run_worker(cast(WorkType[None], show), group="views", exit_on_error=False)
            return
        # Key 2 offers Invoke the plugin selected in the table; `i` insists on its own,
        # as `l` does on the Logs view's filter.
        selected = self.query_one(PluginsView).selected()
        fallback = selected.name if selected is not None else None
        view.prepare(plugin or fallback, replace=plugin is not None)
        # Now, so keys typed next find it; the pane is displayed from this moment.
        self._focus(view)

    async def _show_mounted(self, name: str, plugin: str | None) -> None:
        try:
            await self.ensure_view(name)
        finally:
            self.release_keys()
        if self.query_one(TabbedContent).active == name:  # not left meanwhile
            self.show_view(name, plugin)

    def _focus_active_view(self, *, force: bool = False) -> None:
        # Decided when it runs, not when scheduled: focusing a widget in another tab
        # would switch to that tab, and keys typed meanwhile must keep their focus.
        active = self.query_one(TabbedContent).active
        view = self._mounted_view(active) if active else None
        if view is None:
            return
        focused = self.focused
        if force or focused is None or view not in focused.ancestors_with_self:
            self._focus(view)

    def recover_focus(self) -> None:
        """The focus is on a widget hidden for good (goatui.ui.keys): on the main screen,
        move it to what the active view offers; on a dialog, to the dialog itself."""
        active = self.query_one(TabbedContent).active
        view = self._mounted_view(active) if active else None
        if view is None or self.screen is not view.screen:
            self.screen.set_focus(None)
            return
        self._focus(view)

    def _focus(self, view: View) -> None:
        target = view.default_focus()
        # Nothing focusable and shown: no focus at all, rather than a widget in a hidden
        # tab or a hidden pane. The view's own screen: a dialog may be open over it.
        shown = target is not None and target.focusable and is_shown(target)
        view.screen.set_focus(target if shown else None)

    def action_show_view(self, name: str) -> None:
        self.show_view(name)

    @on(TabbedContent.TabActivated)
    def _tab_clicked(self, event: TabbedContent.TabActivated) -> None:
        name = event.pane.id
        if self._lazy_views and name and self._mounted_view(name) is None:
            # NoMatches: the console is closing and its tabs are going away.
            with contextlib.suppress(NoMatches):
                self.show_view(name)  # mounts it, then focuses it
            return
        self.call_after_refresh(self._focus_active_view)

    # -- the command line (:) -------------------------------------------------------------

    def action_command_line(self) -> None:
        line = self.query_one(CommandLine)
        line.offer(self.VIEWS, [s.name for s in self.ctx.live_plugins()])
        line.value = ""
        self.screen.add_class("-commanding")
        focus_now(line)

    def _run_command(self, text: str) -> None:
        """What the command line says (goatui.ui.widgets.command_line); "" closes it."""
        self.screen.remove_class("-commanding")
        command = resolve(text, self.VIEWS, [s.name for s in self.ctx.live_plugins()])
        if command.kind == "view":
            self.show_view(command.target)
            return
        self._focus_active_view(force=True)
        if command.kind in ("plugin", "filter"):
            self.show_view("plugins")
            plugins = self.query_one(PluginsView)
            if command.kind == "plugin":
                plugins.show_plugin(command.target)
            else:
                plugins.filter_to(command.target)
        elif command.kind == "context":
            if command.target:
                self.switch_context(command.target)
            else:
                self.action_switch_context()
        elif command.kind == "help":
            self.action_help()
        elif command.kind == "quit":
            self.run_worker(self.action_quit(), group="quit", exit_on_error=False)
        elif text.strip():
            toast(self, f"no view, command or plugin matches {text.strip()!r}", severity="warning")

    def filter_plugins(self) -> None:
        self.show_view("plugins")
        self.query_one(PluginsView).action_filter()

    # -- actions -----------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.ctx.monitor.refresh()
        active = self.query_one(TabbedContent).active
        view = self._mounted_view(active) if active else None
        if view is not None:
            view.post_message(RefreshRequested())
        self.notify("refreshing", timeout=1.5)

    async def action_quit(self) -> None:
        """Quit; first a warning when goatui is the host of plugins it did not start
        (y or ctrl+c there quits)."""
        taken = self.ctx.session.taken_over()
        if taken and not isinstance(self.screen, ConfirmScreen):
            self.push_screen(quit_warning(taken), self._quit_confirmed)
            return
        await super().action_quit()

    def _quit_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.exit()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    def show_history(self) -> None:
        self.run_worker(self._show_history(), group="views", exit_on_error=False)

    async def _show_history(self) -> None:
        from goatui.ui.views.invoke import InvokeView

        view = await self.ensure_view("invoke")
        self.show_view("invoke")
        if isinstance(view, InvokeView):
            view.action_history()

    def action_audit(self) -> None:
        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen())

    def help_sections(self) -> list[Section]:
        """The keys in force (the config's [keys] applied), straight from the bindings
        of each part of the console, only those that work with this backend."""
        everywhere = [
            *(b for b in _bindings(self.BINDINGS) if self.check_action(b.action, ()) is not False),
            Binding("ctrl+p", "command_palette", "Command palette (also: change theme)"),
            Binding("tab,shift+tab", "focus_next", "Next / previous field"),
            Binding("ctrl+q", "quit", "Quit now"),
        ]
        sections: list[Section] = [("Everywhere", everywhere)]
        for view, title in self.VIEWS:
            cls = view_class(view)
            keys = [
                b
                for b in _bindings([*cls.BINDINGS, *(b for w in cls.HELP_FROM for b in w.BINDINGS)])
                if cls.offers(b.action.partition("(")[0], self.ctx)
            ]
            if keys:
                sections.append((f"{title} view", keys))
        sections.append(("Every table", _bindings(RowTable.BINDINGS)))
        sections.append(("Every viewer (results, logs, the detail pane)", _bindings(VIM_SCROLL)))
        sections.append(("This help", _bindings(HelpScreen.BINDINGS)))
        return [(title, [in_force(b, self.keymap) for b in keys]) for title, keys in sections]

    # -- the operator's keys ([keys] in the config) ------------------------------------------

    def apply_keys(self, keys: Mapping[str, str]) -> None:
        """Rebind by binding id (goatui.ui.keymap); an id nobody has is said."""
        valid, unknown = checked_keymap(keys, self.BINDINGS)
        if valid != self.keymap:
            self.keymap = valid
            self.set_keymap(valid)
        for binding_id in unknown:
            where = self.ctx.config.path or "the config"
            toast(
                self,
                f"[keys] in {where}: no binding has the id {binding_id!r} (? lists the ids)",
                severity="warning",
            )

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        said = frozenset(b.id or b.action for b in clashed_bindings)
        if said in self._clashes_said:
            return  # Textual asks at every key while the clash stands
        self._clashes_said.add(said)
        lost = ", ".join(sorted(f"{b.key} ({b.id or b.description})" for b in clashed_bindings))
        toast(
            self,
            f"[keys] gave keys that other bindings had to new ones: {lost} now do the new "
            "binding's work; give those bindings keys of their own (? lists them)",
            severity="warning",
        )

    # -- monitor updates ---------------------------------------------------------------

    def on_plugins_changed(self, _message: PluginsChanged) -> None:
        self._update_subtitle()
        if self._keep_long_lived_on and self._long_lived() > 1.1 * self._kept_for + 10:
            self._keep_long_lived()

    def on_plugin_transition(self, message: PluginTransition) -> None:
        """Gathered into few notices (goatui.core.notices): one per cause, paced per
        plugin, so a mass event or a flapping plugin cannot flood the screen."""
        change = message.transition
        if change.new == Health.UNKNOWN and self._signed_out():
            # Every plugin of a signed-out gateway goes UNKNOWN at once, and back after
            # the sign-in: the sign-in notice says why, once, not a notice of its own.
            self._quiet_unknown.add(message.name)
            return
        if change.old == Health.UNKNOWN and message.name in self._quiet_unknown:
            self._quiet_unknown.discard(message.name)
            return
        self._notices.add(
            message.name,
            change.old,
            change.new,
            change.error,
            time.monotonic(),
            changes=1 + change.folded,
        )
        self._schedule_notices()

    def _schedule_notices(self) -> None:
        due = self._notices.due()
        if due is None or (self._notices_due is not None and self._notices_due <= due):
            return  # nothing waits, or a timer that comes sooner is set
        if self._notices_timer is not None:
            self._notices_timer.stop()
        self._notices_due = due
        # Never 0: Textual's timer divides by its interval when it runs late, and a
        # notice due already (the loop was busy) killed the timer, and every notice after.
        delay = max(due - time.monotonic(), SOONEST_NOTICE_S)
        self._notices_timer = self.set_timer(delay, self._tell)

    def _tell(self) -> None:
        self._notices_timer = self._notices_due = None
        notices = self._notices.flush(time.monotonic())
        for notice in notices:
            toast(self, notice.text, title=notice.title, severity=notice.severity)
        if notices and self.ctx.config.bell:
            self.bell()
        self._schedule_notices()

    def _tell_all(
        self, lines: list[str], title: str, severity: SeverityLevel, timeout: float
    ) -> None:
        """A toast each for a few lines; for many, one toast and every line in the logs
        (a plugins dir of 100 broken plugins must not bury the screen)."""
        if len(lines) <= MAX_TOASTS_AT_ONCE:
            for line in lines:
                toast(self, line, title=title, severity=severity, timeout=timeout)
            return
        level = "error" if severity == "error" else "info"
        for line in lines:
            self.ctx.session.logs.add("goatui", level, line)
        more = f"{len(lines)} {title} messages, the first: {lines[0]} (all in the Logs view)"
        toast(self, more, title=title, severity=severity, timeout=timeout)

    def _show_warnings(self) -> None:
        warnings = list(self.ctx.backend.warnings)
        line = self.query_one("#gateway-warnings", Static)
        line.update(Text("\n".join(f"⚠ {sanitize_line(w)}" for w in warnings)))
        line.display = bool(warnings)
        for warning in warnings:
            toast(self, warning, title="connection", severity="warning", timeout=15)

    # -- contexts ----------------------------------------------------------------------

    def action_switch_context(self) -> None:
        # Keys typed after ctrl+o (down, enter) wait for the switcher, not the view.
        self.hold_keys()
        self._open_switcher()

    async def _read_config_again(self) -> Config:
        """The config file read again, in a thread: contexts added since the start (and
        [keys] changed) are in force. A file broken meanwhile is said; what was read
        before stays."""
        config = self.ctx.config
        try:
            fresh = await asyncio.to_thread(read_again, config.path)
        except GoatError as exc:
            toast(self, f"{exc.line()} (using the contexts read before)", severity="error")
        else:
            if fresh is not None:
                config.contexts = fresh.contexts
                config.keys = fresh.keys
                self.apply_keys(fresh.keys)
        return config

    @work(group="context-switcher", exit_on_error=False)
    async def _open_switcher(self) -> None:
        """The config file read again (contexts added since the start are offered), then
        the switcher."""
        try:
            config = await self._read_config_again()
            try:
                contexts = available_contexts(config)
            except GoatError as exc:
                toast(self, exc.line(), title="contexts", severity="error")
                return
            if not contexts:
                where = config.path or "the config file"
                toast(
                    self, f"no contexts: add [contexts.NAME] tables to {where}", severity="warning"
                )
                return
            switcher = ContextScreen(contexts, self.ctx.backend.label)
            await self.push_screen(switcher, self._context_chosen)
        finally:
            self.release_keys()

    def _context_chosen(self, name: str | None) -> None:
        if name:
            self.switch_context(name, read_config=False)  # read as the switcher opened

    @work(group="context", exclusive=True, exit_on_error=False)
    async def switch_context(self, name: str, *, read_config: bool = True) -> None:
        """Build the new backend first (a bad context keeps the old one), then swap:
        stop the old monitor, close the old backend, start a monitor on the new one.
        The config is read again first: `:ctx NAME` may name a context added since."""
        config = await self._read_config_again() if read_config else self.ctx.config
        try:
            backend = backend_for_context(config, name, read_only=self.ctx.read_only or None)
        except GoatError as exc:
            toast(self, exc.line(), title=f"context {name}", severity="error")
            return
        session, old_monitor = self.ctx.session, self.ctx.monitor
        await old_monitor.stop()
        self._notices = TransitionNotices()  # nothing more about the old context's plugins
        old_label = session.backend.label
        new_label = backend.label if name in backend.label else f"{name} ({backend.label})"
        old_backend, session.backend = session.backend, backend
        monitor = PluginMonitor(backend, interval=self.ctx.config.probe_interval)
        self.ctx.monitor = monitor
        self.ctx.hub.rebind(monitor)
        try:
            await old_backend.close()
        finally:
            self._update_subtitle()
            self._show_warnings()
            self._show_sign_in()
            toast(self, f"switched to context {name} ({backend.label})", title="context")
            # Every view shows the new context's data only, or marks where the old
            # one's ends (the log stream).
            for view_name, _ in self.VIEWS:
                view = self._mounted_view(view_name)
                if view is not None:
                    view.context_changed(old_label, new_label)
            await monitor.start()
            self._update_subtitle()
            self.refresh_bindings()  # what the new backend offers (e, host calls…)

    def _update_subtitle(self) -> None:
        live = len(self.ctx.live_plugins())
        plugins = f"{live} plugin{'s' if live != 1 else ''}"
        statuses = self.ctx.backend.sign_in_status()
        # One gateway: who is signed in (k9s shows the user and cluster up top too).
        who = f" · {statuses[0].describe()}" if len(statuses) == 1 else ""
        self.sub_title = f"{self.ctx.backend.label}{who} · {plugins}"

    # -- signing in (gateways) ---------------------------------------------------------

    def _signed_out(self) -> bool:
        return any(s.problem for s in self.ctx.backend.sign_in_status())

    def _show_sign_in(self) -> None:
        """The one notice for a gateway that needs a sign-in, and the subtitle's user."""
        statuses = self.ctx.backend.sign_in_status()
        shown = tuple((s.gateway, s.problem, s.admin_lost, s.user, s.admin) for s in statuses)
        if shown == self._sign_in_shown:
            return
        self._sign_in_shown = shown
        lines = []
        for status in statuses:
            where = status.context or status.gateway
            if status.problem:
                lines.append(f"⚠ {where}: {status.problem} · press L to sign in")
            elif status.admin_lost:
                lines.append(
                    f"⚠ {where}: admin rights lost at the last token refresh (GoatFlow's "
                    "refreshed tokens carry none): logs, enable and disable need a new "
                    "sign-in · press L"
                )
        notice = self.query_one("#sign-in-notice", Static)
        notice.update(Text("\n".join(sanitize_line(line) for line in lines)))
        notice.display = bool(lines)
        self._update_subtitle()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sign_in":
            return bool(self.ctx.backend.sign_in_status())  # gateways only
        return True

    def action_sign_in(self) -> None:
        from goatui.ui.screens.sign_in import SignInScreen

        statuses = self.ctx.backend.sign_in_status()
        if not statuses:
            toast(self, "signing in is for gateways (--gateway URL)", severity="warning")
            return
        if isinstance(self.screen, SignInScreen):
            return
        # The gateway that needs it most: signed out, then admin rights lost.
        status = min(statuses, key=lambda s: (not s.problem, not s.admin_lost))
        self.push_screen(SignInScreen(self.ctx.backend, status), self._signed_in)

    def _signed_in(self, status: SignInStatus | None) -> None:
        if status is None:
            return
        role = " (admin)" if status.admin else ""
        toast(self, f"signed in to {status.gateway} as {status.user}{role}", title="sign-in")
        self._show_sign_in()
        self.ctx.monitor.refresh()

    # -- theme and errors --------------------------------------------------------------

    def _save_theme(self, theme: Theme) -> None:
        config = self.ctx.config
        if theme.name == config.theme:
            return  # the one loaded at start: nothing to save
        config.theme = theme.name
        save = partial(save_setting, "theme", theme.name, config.path)
        self.run_worker(save, thread=True, group="config", exit_on_error=False)

    def _handle_exception(self, error: Exception) -> None:
        # Textual's private hook and `_exit`: tests/test_private_internals.py checks both.
        # Quitting tears the widgets down while a lazily mounted view may still be
        # mounting, and a Select mounting then misses its own overlay. Nothing the
        # operator did or can fix: the exit they asked for goes on, without a traceback.
        # (`is_running` turns False when the app shuts down by any other way.)
        closing = self._exit or not self.is_running
        if closing and isinstance(error, NoMatches):
            self.log.warning(f"while closing: {error}")
            return
        super()._handle_exception(error)

    @on(Worker.StateChanged)
    def _report_worker_error(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            toast(self, describe(event.worker.error), title="error", severity="error")


def quit_warning(taken: list[str]) -> ConfirmScreen:
    """What quitting does to plugins goatui took over, and what to do about it."""
    names = ", ".join(taken[:5]) + (f" and {len(taken) - 5} more" if len(taken) > 5 else "")
    question = Text.assemble(
        "goatui is the host of ", (sanitize_line(names), "bold"), ", which it did not start."
    )
    their, them = ("their", "them") if len(taken) > 1 else ("its", "it")
    detail = (
        f"Once goatui quits, {their} log, cache, config and database calls go to a socket "
        f"that no longer exists, and fail, until GoatFlow attaches {them} again: after "
        f"quitting, restart {them}, or have GoatFlow re-attach {them}."
    )
    return ConfirmScreen(question, "Quit", detail=detail, warning="Quit anyway?")


def read_again(path: Path | None) -> Config | None:
    """The config file as it is now; None when there is none (what was read stays)."""
    if path is None or not path.exists():
        return None
    return load_config(path)


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


# Past this many start-up messages, one toast says how many (goatui.core.notices does
# the same for state changes).
MAX_TOASTS_AT_ONCE = 3
#: The soonest a notice timer fires (a timer of 0 s fails in Textual).
SOONEST_NOTICE_S = 0.01


def run_console(session: Session) -> int:
    """Run the console until the operator quits; the session is closed in any case."""
    app = GoatApp(session, lazy_views=True, keep_long_lived=True)

    # SIGTERM and SIGHUP (the SSH session dropping) end the console the way q does: in
    # the event loop, so the terminal is restored and the plugins stopped; should the
    # loop be stuck, the safety net cleans up without it (goatui.core.signals). A
    # hung-up terminal used to do that (Textual's output queue, see goatui.ui.terminal).
    with SignalExit(session.abandon, CONSOLE_SIGNALS) as signals:

        async def main() -> int:
            signals.deliver_to(lambda signum: app.exit(return_code=exit_code_of(signum)))
            app.begin_start()
            try:
                await app.run_async()
            finally:
                await app.close_session()
            return app.return_code or 0

        return asyncio.run(main())
