"""The one sanitiser: nothing from outside reaches the terminal as a control sequence."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from goatui.core.sanitize import (
    UNSAFE_CODEPOINTS,
    has_unsafe,
    safe_json_dumps,
    safe_text,
    sanitize,
    sanitize_line,
)

HOSTILE = "\x1b[2J\x1b]0;title\x07\x1bP+q\x1b\\\x9b31m\x90\x7f\r\x08[bold red]x[/]\u202e"


def test_escapes_every_control_sequence_visibly() -> None:
    cleaned = sanitize(HOSTILE)
    assert not has_unsafe(cleaned)
    assert "\\x1b[2J" in cleaned
    assert "\\x9b" in cleaned
    assert "\\x07" in cleaned
    assert "\\u202e" in cleaned


def test_keeps_newlines_and_tabs_unless_one_line() -> None:
    assert sanitize("a\n\tb") == "a\n\tb"
    assert sanitize_line("a\n\tb") == "a\\n\\tb"


def test_rich_markup_is_not_interpreted() -> None:
    console = Console(file=None, width=80, record=True, color_system=None)
    console.print(safe_text("[bold red]x[/]"))
    assert "[bold red]x[/]" in console.export_text()


def test_json_output_stays_valid_json() -> None:
    value = {"m": "\x9b\x1b\x7f\u2028"}
    text = safe_json_dumps(value)
    assert not has_unsafe(text)
    assert json.loads(text) == value


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_sanitize_never_leaves_unsafe_characters(text: str) -> None:
    cleaned = sanitize(text)
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in cleaned)
    assert "\n" not in sanitize_line(text)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.text() | st.integers(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_safe_json_round_trips(value: object) -> None:
    text = safe_json_dumps(value)
    assert not has_unsafe(text)
    assert json.loads(text) == value
