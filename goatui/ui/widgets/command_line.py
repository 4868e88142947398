"""The `:` command line (k9s's habit): jump to a view or a plugin by name.

`:logs`, `:inv`, `:4` show a view; `:ctx prod` switches context (`:ctx` alone opens the
switcher); `:help` and `:quit` do what they say; anything else names a plugin, and the
Plugins view shows it selected (or filtered to what matches, when several do). Tab or
→ completes from the views, the commands and the plugins present now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.binding import Binding
from textual.suggester import SuggestFromList

from goatui.core.models import natural_key
from goatui.ui.keys import TextInput

#: Words that are commands, not plugin names.
COMMANDS = ("ctx", "context", "help", "quit", "q")


@dataclass(frozen=True)
class Command:
    """What a command line says to do: `kind` is "view", "context", "help", "quit",
    "plugin" (`target` a plugin's name), "filter" (several match) or "unknown"."""

    kind: str
    target: str = ""


def resolve(text: str, views: Sequence[tuple[str, str]], plugins: Sequence[str]) -> Command:
    """The command a line names. `views` are (name, title) in key order (1-5)."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return Command("unknown")
    head = words[0]
    rest = words[1].strip() if len(words) > 1 else ""
    lowered = head.lower()
    if lowered in ("ctx", "context"):
        return Command("context", rest)
    if lowered in ("help", "?", "keys"):
        return Command("help")
    if lowered in ("q", "quit", "q!"):
        return Command("quit")
    if lowered.isdigit() and 1 <= int(lowered) <= len(views):
        return Command("view", views[int(lowered) - 1][0])
    names = text.strip()
    for view, title in views:
        if lowered in (view, title.lower()):
            return Command("view", view)
    if names in plugins:
        return Command("plugin", names)
    for view, title in views:  # a view before a plugin by the same first letters
        if view.startswith(lowered) or title.lower().startswith(lowered):
            return Command("view", view)
    needle = names.lower()
    starting = [p for p in plugins if p.lower().startswith(needle)]
    matching = starting or [p for p in plugins if needle in p.lower()]
    if len(matching) == 1:
        return Command("plugin", matching[0])
    if matching:
        return Command("filter", names)
    return Command("unknown", names)


class CommandLine(TextInput):
    """One line at the bottom; Enter runs it, Escape closes it."""

    BINDINGS = [Binding("escape", "close", "Close", id="command.close")]

    def __init__(self, run: Callable[[str], object], *, id: str | None = None) -> None:
        super().__init__(
            placeholder="a view (logs, 4 …), a plugin, ctx NAME, help or quit; escape closes",
            id=id,
            compact=True,
            on_submit=self._submit,
        )
        self._run = run

    def offer(self, views: Sequence[tuple[str, str]], plugins: Sequence[str]) -> None:
        """Complete from these (names as they are; case does not matter)."""
        words = [*(v for v, _ in views), *COMMANDS[:3], *sorted(plugins, key=natural_key)]
        self.suggester = SuggestFromList(words, case_sensitive=False)

    def _submit(self, value: str) -> None:
        self._run(value)

    def action_close(self) -> None:
        self._run("")
