"""Copy as a command: lines a shell runs as meant, never a token, and `--print-command`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

from goatui.core.calls.copycmd import as_curl, as_goatui_call, call_url, compact_args, shell_quote
from goatui.core.sanitize import UNSAFE_CODEPOINTS

BASH = shutil.which("bash")


def words_of(line: str, env: dict[str, str] | None = None) -> list[str]:
    """The words bash makes of line (its first word replaced by a printer)."""
    assert BASH is not None
    script = 'say() { printf "%s\\0" "$@"; }\nsay ' + line.split(" ", 1)[1]
    result = subprocess.run(
        [BASH, "-c", script],
        capture_output=True,
        env={"PATH": os.environ["PATH"], **(env or {})},
        timeout=10,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().split("\0")[:-1]


HOSTILE = "al\x1b]0;pwned\x07pha\u202e'$(touch /tmp/x)`id`\n"


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_goatui_line_is_one_safe_line_bash_reads_back() -> None:
    args = '{\n  "a": 1,\n  "s": "it\'s $HOME `id`",\n  "e": "\\u001b\\u009b"\n}'
    line = as_goatui_call(
        HOSTILE, "fn name", args, sockets=["/tmp/a b.sock", "/tmp/c.sock"], query="$.a"
    )
    assert "\n" not in line
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in line)
    assert words_of(line) == [
        "--socket",
        "/tmp/a b.sock",
        "--socket",
        "/tmp/c.sock",
        "call",
        HOSTILE,
        "fn name",
        '{"a":1,"s":"it\'s $HOME `id`","e":"\\u001b\\u009b"}',
        "--query",
        "$.a",
    ]
    assert as_goatui_call("p", "f", "", context="prod") == "goatui --context prod call p f '{}'"
    assert as_goatui_call("p", "f", "{}", gateway="https://g.example") == (
        "goatui --gateway https://g.example call p f '{}'"
    )
    assert compact_args("not json") == "not json"
    assert compact_args('{"n": 1e999}') == '{"n": 1e999}'  # Infinity would not be JSON
    assert shell_quote("plain") == "plain"


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_curl_line_refers_to_the_token_never_holds_it() -> None:
    line = as_curl("https://g.example/api/v1/", "a/b c", "f?x", '{"k": "v"}')
    assert line == (
        'curl -sS -X POST -H "Authorization: Bearer $GOATFLOW_TOKEN" '
        "-H 'Content-Type: application/json' --data-binary '{\"k\":\"v\"}' "
        "https://g.example/api/v1/plugins/a%2Fb%20c/call/f%3Fx"
    )
    assert words_of(line, {"GOATFLOW_TOKEN": "t0k"})[4] == "Authorization: Bearer t0k"
    assert call_url("http://h:1", "p", "f") == "http://h:1/api/v1/plugins/p/call/f"


# -- goatui call --print-command -----------------------------------------------------------


def test_print_command_calls_nothing_and_the_lines_work(
    cli, plugins, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    alpha = plugins.start("alpha")
    with GatewayServer() as gw:
        code, out, err = cli(
            "--gateway", gw.url + "/api/v1", "call", "alpha", "echo", '{"n": 1}', "--print-command"
        )
        assert (code, err) == (0, "")
        assert gw.state.requests == []  # nothing was sent
        goatui_line, curl_line = out.splitlines()
        assert goatui_line == f"goatui --gateway {gw.url} call alpha echo '{{\"n\":1}}'"
        assert "$GOATFLOW_TOKEN" in curl_line
        # Both lines, run by a shell, make the call.
        env = {**os.environ, "GOATFLOW_TOKEN": ADMIN_TOKEN, "NO_COLOR": "1"}
        shell = f'goatui() {{ {sys.executable} -m goatui "$@"; }}\n'
        for line in (goatui_line, curl_line):
            result = subprocess.run(
                ["bash", "-c", shell + line], capture_output=True, text=True, env=env, timeout=30
            )
            assert result.returncode == 0, (line, result.stderr)
            assert json.loads(result.stdout) == {"n": 1}
        assert ADMIN_TOKEN not in out

    # Sockets: only the goatui line, and it reaches the plugin.
    code, out, _ = cli("call", "alpha", "echo", "--print-command", "--socket", str(alpha.socket))
    [line] = out.splitlines()
    assert line == f"goatui --socket {alpha.socket} call alpha echo '{{}}'"
    # A context's gateway comes from the config; the goatui line names the context.
    config = alpha.socket.parent / "config.toml"
    config.write_text('[contexts.prod]\ngateway = "https://g.example"\n')
    code, out, _ = cli(
        "--config", str(config), "--context", "prod", "call", "p", "f", "--print-command"
    )
    assert out.splitlines()[0] == "goatui --context prod call p f '{}'"
    assert out.splitlines()[1].endswith("https://g.example/api/v1/plugins/p/call/f")
    # Invalid args are still refused.
    code, _, err = cli("call", "p", "f", "{", "--print-command", "--socket", str(alpha.socket))
    assert code == 2 and "invalid JSON" in err


def test_print_command_refuses_credentials_in_the_url(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("--gateway", "https://u:pw@g.example", "call", "p", "f", "--print-command")
    assert code == 2 and out == "" and "pw" not in err
