"""End to end, in tmux: the operator flows of issue #17, one test per bug seen there."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
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

    def open_terminal(*args: str, env: dict[str, str] | None = None, **options: Any) -> Terminal:
        opened.append(tmux.open(goatui_command(*args, env=env), **options))
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


def title_row(screen: str) -> str:
    return screen.splitlines()[0] if screen else ""


def table_rows(screen: str) -> list[str]:
    """The plugins table's rows: below its header, above the detail pane's rule."""
    lines = screen.splitlines()
    start = next((i for i, line in enumerate(lines) if "In state" in line), None)
    if start is None:
        return []
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("─") or not line.strip():
            break
        rows.append(line)
    return rows


def count_rows(screen: str, status: str) -> int:
    return sum(status in row for row in table_rows(screen))


def test_a_fleet_going_down_is_one_notice_and_its_gone_rows_leave_on_r(
    plugins: Any, sock_dir: Path, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    """Two bugs of issue #17 on one fleet: a toast per plugin over the screen and the
    title when their process died, and GONE rows that never went (`r` kept them)."""
    fleet = plugins.start_fleet("fleet", 12)
    plugins.start("zeta")
    config = tmp_path / "goatui.toml"
    config.write_text(f'globs = ["{sock_dir}/goatflow-plugin-*.sock"]\n')
    term = terminal("--config", str(config))
    term.wait_for(lambda s: count_rows(s, "● SERVING") == 13, "the fleet and zeta serving")

    fleet.kill()  # SIGKILL: twelve plugins unreachable at once, their sockets left behind
    screen = term.wait_for(lambda s: "12 plugins unreachable" in s, "one notice for all")
    assert screen.count("unreachable") == 1 and "fleet-1:" not in screen
    assert "goatui — sockets · 13 plugins" in title_row(screen)

    for path in sock_dir.glob("goatflow-plugin-fleet-*.sock"):
        path.unlink()  # the sockets vanish: the rows are GONE
    term.wait_for(lambda s: count_rows(s, "○ GONE") == 12, "twelve GONE rows")
    term.keys("r")
    screen = term.wait_for(lambda s: len(table_rows(s)) == 1, "the GONE rows gone")
    assert "zeta" in table_rows(screen)[0] and "● SERVING" in table_rows(screen)[0]


def test_contexts_added_later_are_offered_and_a_switch_leaves_no_old_data(
    alpha: Any, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    """Two bugs of issue #17: ctrl+o said "no contexts" for contexts added after the
    start; after a switch from a gateway Invoke showed the gateway plugin's error and the
    Logs view its lines, unmarked."""
    from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

    config = tmp_path / "goatui.toml"
    config.write_text("")
    with GatewayServer() as gw:
        gw.state.log("alpha", "warn", "a line from the gateway")
        env = {"GOATFLOW_TOKEN": ADMIN_TOKEN}
        term = terminal("--config", str(config), "--gateway", gw.url, env=env)
        term.wait_for(lambda s: count_rows(s, "● ENABLED") >= 1, "the gateway's plugins")
        term.keys("C-o")
        term.wait_for(lambda s: "no contexts: add [contexts.NAME]" in s, "no contexts yet")

        term.keys("i")  # alpha, the first row
        term.wait_for(lambda s: "args (JSON)" in s, "Invoke")
        term.keys("fail", "C-r")
        term.wait_for(lambda s: "HTTP 400" in s or "failed" in s.split("args (JSON)")[1], "error")

        config.write_text(f'[contexts.local]\nsockets = ["{alpha.socket}"]\n')
        term.keys("C-o")
        term.wait_for(lambda s: "Switch context" in s and "local" in s, "the new context offered")
        term.keys("Enter")
        screen = term.wait_for(
            lambda s: "switched to context local" in s, "Invoke after the switch"
        )
        assert "HTTP 400" not in screen
        term.keys("5")
        term.wait_for(lambda s: "context switched from" in s, "the mark in the Logs view")
