"""The structural JSON diff behind replay: kinds, paths, array alignment, safe rendering."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from goatui.core.calls.jsondiff import Change, diff, diff_text, format_path, render_diff
from goatui.core.sanitize import UNSAFE_CODEPOINTS


def kinds(a: object, b: object) -> list[tuple[str, str]]:
    return [(c.path, c.kind) for c in diff(a, b)]


def test_kinds_and_paths() -> None:
    old = {"a": 1, "gone": True, "nest": {"x": [1, 2]}, "t": 1, "odd key": "s"}
    new = {"a": 2, "nest": {"x": [1, 2, 3]}, "t": "1", "odd key": "s", "new": None}
    changes = diff(old, new)
    assert [(c.path, c.kind, c.old, c.new) for c in changes] == [
        ("$.a", "changed", 1, 2),
        ("$.gone", "removed", True, None),
        ("$.nest.x[2]", "added", None, 3),
        ("$.t", "type", 1, "1"),
        ("$.new", "added", None, None),
    ]
    assert format_path(["rows", 3, "count"]) == "$.rows[3].count"
    assert format_path(["a b", 0, 'q"']) == '$["a b"][0]["q\\""]'
    assert format_path([]) == "$"


def test_json_equality() -> None:
    assert diff({"a": 1, "b": [1, {"c": 2}]}, {"b": [1.0, {"c": 2}], "a": 1.0}) == []
    assert kinds(True, 1) == [("$", "type")]  # a boolean is not a number
    assert kinds(None, 0) == [("$", "type")]
    assert kinds({}, []) == [("$", "type")]
    assert kinds(1, 1) == []


def test_arrays_align_on_equal_elements() -> None:
    rows = [{"id": i, "count": i} for i in range(50)]
    moved = [{"id": -1}, *(dict(r) for r in rows)]
    moved[11]["count"] = 99  # rows[10] of the old array
    assert kinds(rows, moved) == [("$[0]", "added"), ("$[11].count", "changed")]
    # A row changed in place next to an inserted one is still the same row.
    assert kinds([{"id": 1, "n": "a"}], [{"id": 0}, {"id": 1, "n": "b"}]) == [
        ("$[0]", "added"),
        ("$[1].n", "changed"),
    ]
    assert kinds([1, 2, 3, 4], [9, 2, 8]) == [
        ("$[0]", "changed"),
        ("$[2]", "changed"),
        ("$[3]", "removed"),
    ]


def test_rendering_is_coloured_cut_and_inert() -> None:
    hostile = "\x1b]0;pwned\x07[bold red]markup[/]\x9b31m"
    changes = diff(
        {"k": 1, hostile: 1, "long": "x"},
        {"k": "1", hostile: 2, "long": "y" * 1000, "n": [1]},
    )
    text = render_diff(changes)
    plain = text.plain
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in plain)
    assert "[bold red]markup[/]" in plain  # shown as typed, never interpreted
    assert [span.style for span in text.spans] == ["magenta", "yellow", "yellow", "green"]
    lines = plain.splitlines()
    assert lines[0] == '! $.k: 1 (number) → "1" (string)'
    assert lines[1].startswith('~ $["\\u001b]0;pwned')  # the key, as its JSON escape
    assert len(lines[2]) < 260 and lines[2].endswith("…")
    assert lines[3] == "+ $.n: [1]"
    assert diff_text(changes) == plain
    assert diff_text([]) == "no differences"
    many = [Change(("i", n), "added", None, n) for n in range(30)]
    assert diff_text(many, limit=10).splitlines()[-1] == "… 20 more changes"


def test_deep_nesting_does_not_crash() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(5000):
        child: list[object] = []
        node.append(child)
        node = child
    changes = diff(deep, [1])
    assert len(changes) == 1 and changes[0].path == "$"
    assert "nested too deeply" in diff_text(changes)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab", max_size=2),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text("xy", max_size=2), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(JSON, JSON)
def test_no_changes_exactly_when_equal(a: object, b: object) -> None:
    # JSON equality (true is not 1, unlike Python's): compare the canonical text.
    same = json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert (diff(a, b) == []) == same
    assert diff(a, a) == []


def test_history_entry_by_index_for_replay(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from goatui.core.calls.history import History, HistoryEntry

    history = History(tmp_path / "history.jsonl")
    for i, plugin in enumerate(("alpha", "beta", "alpha")):
        history.append(HistoryEntry.make(plugin, "echo", f'{{"i": {i}}}', float(i), 1.0, "ok"))
    again = History(tmp_path / "history.jsonl")  # read back from the file
    assert again.at(0) is not None and again.at(0).args == '{"i": 2}'  # 0 is the newest
    assert [again.at(n).args for n in (1, 2)] == ['{"i": 1}', '{"i": 0}']  # type: ignore[union-attr]
    assert again.at(1, plugin="alpha").args == '{"i": 0}'  # type: ignore[union-attr]
    assert again.at(3) is None and again.at(-1) is None
