"""End to end: the installed `goatui` console in a real terminal (tmux) on real plugins."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers.terminal import Terminal, TmuxServer, goatui_command

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def terminal(tmux: TmuxServer) -> Iterator[Callable[[str], Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(command: str) -> Terminal:
        opened.append(tmux.open(command))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.close()


def test_invoke_a_plugin_from_the_installed_console(
    plugins: Any, terminal: Callable[[str], Terminal]
) -> None:
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    term = terminal(goatui_command("--socket", str(alpha.socket), "--socket", str(beta.socket)))

    term.wait_for(
        lambda s: "alpha" in s and "beta" in s and s.count("● SERVING") >= 2, "both serving"
    )
    term.keys("Down")  # rows are by name: alpha, then beta
    term.keys("i")
    # The footer lists the function field's own keys once that field has focus.
    term.wait_for(lambda s: "beta" in function_line(s) and "Older call" in s, "the function field")
    # All at once, as a laggy link delivers them: each key must act in the order typed
    # (the Deletes empty the args editor's "{}" only if Tab has moved focus first).
    term.keys("echo", "Tab", "Delete", "Delete", '{"from": "e2e"}', "C-r")
    # The status and the result's lines may reach the terminal in separate frames.
    term.wait_for(
        lambda s: '"from": "e2e"' in s.partition("OK · beta.echo")[2], "the call's result"
    )

    term.keys("Escape")
    term.wait_for(lambda s: "In state" in s, "back on the plugins table")
    term.keys("q")
    term.wait_for(lambda s: "GOATUI-EXIT=0" in s, "a clean exit")


def function_line(screen: str) -> str:
    """The Invoke view's plugin-and-function line (the one with the select's arrow)."""
    return next((line.rstrip() for line in screen.splitlines() if "▼" in line), "")
