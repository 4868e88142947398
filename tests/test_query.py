"""JSONPath queries on results and text search: the core, and `goatui call --query`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goatui.core.calls.query import Match, compile_query, query_json, query_matches, search_lines
from goatui.core.errors import ExitCode, UsageError
from goatui.core.sanitize import UNSAFE_CODEPOINTS

RESULT = {
    "total": 2,
    "rows": [{"id": 1, "count": 3, "odd key": [7]}, {"id": 2, "count": 1}],
}


def test_one_match_is_the_value_several_a_list_none_empty() -> None:
    assert query_json(RESULT, "$.total") == 2
    assert query_json(RESULT, "$.rows[*].id") == [1, 2]
    assert query_json(RESULT, "$..count") == [3, 1]
    assert query_json(RESULT, "$.rows[?(@.count > 2)].id") == 1
    assert query_json(RESULT, "$.rows[-1]") == {"id": 2, "count": 1}
    assert query_json(RESULT, "$.nope") == []
    assert query_json(RESULT, "$") == RESULT
    # One match that is a list looks like several: query_matches tells them apart.
    assert query_json(RESULT, '$.rows[0]["odd key"]') == [7]
    assert query_matches(RESULT, '$.rows[0]["odd key"]') == [Match('$.rows[0]["odd key"]', [7])]
    assert [m.path for m in query_matches(RESULT, "$.rows[*].id")] == [
        "$.rows[0].id",
        "$.rows[1].id",
    ]
    compiled = compile_query("$.rows[*].count")
    assert query_json(RESULT, compiled) == [3, 1]


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ("$.[", "near the end"),
        ("$.rows[?(@.x ==)]", "at 1:"),
        ("", "empty query"),
        ("$.a\x1b[31m", "\\x1b"),  # the expression is echoed inert
    ],
)
def test_invalid_expressions_are_usage_errors(expr: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        compile_query(expr)
    assert caught.value.exit_code == ExitCode.USAGE
    assert says in caught.value.line()
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in caught.value.line())


def test_search_lines_smart_case_regex_and_empty_matches() -> None:
    lines = ["Hello hello", "nothing", "HELLO"]
    assert search_lines(lines, "hello") == [(0, 0, 5), (0, 6, 11), (2, 0, 5)]
    assert search_lines(lines, "Hello") == [(0, 0, 5)]  # a capital: case matters
    assert search_lines(lines, "hello", case_sensitive=True) == [(0, 6, 11)]
    assert search_lines(["a1b22"], r"\d+", regex=True) == [(0, 1, 2), (0, 3, 5)]
    assert search_lines(["a(b"], "(") == [(0, 1, 2)]  # text, not a regex
    assert search_lines(["abc"], "^", regex=True) == []  # empty matches highlight nothing
    assert search_lines(["abc"], "") == []
    assert len(search_lines(["x" * 100], "x", limit=10)) == 10
    with pytest.raises(UsageError, match="invalid regex"):
        search_lines(["a"], "(", regex=True)


# -- goatui call --query, in-process against a real plugin -------------------------------


@pytest.fixture(scope="module")
def alpha(module_plugins):  # type: ignore[no-untyped-def]
    return module_plugins.start("alpha")


def test_call_query(alpha, cli, sock_dir: Path) -> None:  # type: ignore[no-untyped-def]
    socket = ("--socket", str(alpha.socket))
    args = json.dumps(RESULT)
    code, out, err = cli("call", "alpha", "echo", args, "--query", "$.rows[*].id", *socket)
    assert (code, json.loads(out), err) == (0, [1, 2], "")
    code, out, _ = cli("call", "alpha", "echo", args, "--query", "$.rows[0]", *socket)
    assert json.loads(out) == RESULT["rows"][0]
    code, out, err = cli("call", "alpha", "echo", args, "--query", "$.nope", *socket)
    assert (code, json.loads(out)) == (0, [])
    assert err == "goatui: note: the query matched nothing\n"
    # A result that is not JSON: the call worked, the query cannot: exit 1, one line.
    code, out, err = cli("call", "alpha", "text", "--query", "$.a", *socket)
    assert (code, out) == (1, "")
    assert err == "goatui: --query needs a JSON result; this one is text\n"
    # Plugin text stays inert through a query.
    code, out, _ = cli("call", "alpha", "hostile", "--query", "$.msg", *socket)
    assert code == 0 and "\\u001b[2J" in out
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in out)
    # An invalid query is refused before anything is sent: exit 2, not 3, even though
    # nothing listens on this socket.
    missing = str(sock_dir / "goatflow-plugin-ghost.sock")
    code, _, err = cli("call", "ghost", "echo", "--query", "$.[", "--socket", missing)
    assert code == 2 and "invalid JSONPath query" in err and len(err.splitlines()) == 1


def test_call_query_help_mentions_jsonpath(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("call", "--help")
    assert code == 0 and "--query JSONPATH" in out and "--print-command" in out
