"""The command palette (ctrl+p): the console's main actions and one entry per plugin."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from goatui.core.sanitize import sanitize_line

if TYPE_CHECKING:
    from goatui.ui.app import GoatApp

Command = tuple[Content, str, Callable[[], object]]


class GoatCommands(Provider):
    def _commands(self) -> list[Command]:
        app: GoatApp = self.app  # type: ignore[assignment]
        commands: list[Command] = []
        for key, (view, title) in enumerate(app.VIEWS, start=1):
            commands.append(
                (
                    Content(f"Show {title}"),
                    f"the {title} view (key {key})",
                    partial(app.show_view, view),
                )
            )
        commands += [
            (Content("Refresh now"), "rediscover and probe every plugin (r)", app.action_refresh),
            (Content("Filter plugins"), "filter the plugins table by name (/)", app.filter_plugins),
            (Content("Keys"), "every key goatui knows (?)", app.action_help),
            (
                Content("Call history"),
                "replay a call, mark two results to diff them (h in Invoke)",
                app.show_history,
            ),
            (
                Content("Audit log"),
                "what was invoked, triggered, enabled, restarted … from goatui",
                app.action_audit,
            ),
            (
                Content("Switch context…"),
                "reconnect to another [contexts.NAME] of the config (ctrl+o)",
                app.action_switch_context,
            ),
            (Content("Quit"), "close goatui and the plugins it started (q)", app.action_quit),
        ]
        if app.ctx.backend.sign_in_status():
            commands.append(
                (
                    Content("Sign in…"),
                    "sign in to the gateway (L): a new token, admin rights back",
                    app.action_sign_in,
                )
            )
        if not app.ctx.read_only:
            for state in app.ctx.live_plugins():
                # Plugin names are untrusted: plain Content, never markup.
                display = Content(f"Invoke {sanitize_line(state.name)}")
                action = partial(app.show_view, "invoke", state.name)
                commands.append((display, "call one of its handlers", action))
        return commands

    async def discover(self) -> Hits:
        for display, help_text, callback in self._commands():
            yield DiscoveryHit(display, callback, text=display.plain, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for display, help_text, callback in self._commands():
            score = matcher.match(display.plain)
            if score > 0:
                yield Hit(score, display, callback, text=display.plain, help=help_text)
