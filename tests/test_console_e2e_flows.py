"""End to end, in tmux: the operator flows of issue #17, one test per bug seen there."""

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
def terminal(tmux: TmuxServer) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(*args: str, **options: Any) -> Terminal:
        opened.append(tmux.open(goatui_command(*args), **options))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.close()


def test_the_logs_view_keeps_taking_keys_after_host_calls_only(
    alpha: Any, terminal: Callable[..., Terminal]
) -> None:
    """`5`, `/`, `a`, Enter, `t`, `t`, Escape left the console deaf: `1` did nothing."""
    term = terminal("--socket", str(alpha.socket))
    term.wait_for(lambda s: "● SERVING" in s, "alpha serving")
    term.keys("5")
    term.wait_for(lambda s: "following" in s, "the Logs view")
    term.keys("/", "a", "Enter", "t", "t", "Escape")
    term.wait_for(lambda s: "host calls (t:" in s and "calls only" in s, "host calls only")
    term.keys("1")
    term.wait_for(lambda s: "In state" in s, "the Plugins view again")
    term.keys("?")
    term.wait_for(lambda s: "goatui keys" in s, "the help")
    term.keys("q", "q")
    term.wait_for(lambda s: "GOATUI-EXIT=0" in s, "a clean exit")
