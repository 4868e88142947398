"""The one sanitiser: nothing from outside reaches the terminal as a control sequence."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest
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
from goatui.core.secrets import register_secret

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


# -- invisible characters ------------------------------------------------------------------


def test_names_that_differ_only_by_an_invisible_character_never_look_alike() -> None:
    invisible = [
        "\u200b",  # zero-width space
        "\u200c",
        "\u200d",
        "\u2060",  # word joiner
        "\ufeff",  # byte-order mark
        "\u00ad",  # soft hyphen
        "\U000e0041",  # tag latin capital A
        "\U000e007f",  # cancel tag
        "\ufe0f",  # variation selector 16
        "\U000e0100",  # variation selector 17
        "\u3164",  # Hangul filler
        "\u034f",  # combining grapheme joiner
        "\u2066",  # left-to-right isolate
        "\ud800",  # a lone surrogate
    ]
    for ch in invisible:
        shown = sanitize_line("billing" + ch)
        assert shown != "billing" and not has_unsafe(shown), repr(ch)
        assert shown.startswith("billing\\") and shown.isascii()
    assert sanitize("\U000e0041") == "\\U000e0041"
    assert safe_json_dumps("\U000e0041") == '"\\udb40\\udc41"'


def test_every_format_control_and_separator_character_is_unsafe() -> None:
    """The hand-written list against this interpreter's Unicode database: every code
    point of category Cc (but \\n and \\t), Cf, Cs, Zl or Zp is escaped."""
    missing = [
        f"U+{c:04X}"
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        and c not in (0x09, 0x0A)
        and c not in UNSAFE_CODEPOINTS
    ]
    assert missing == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_any_code_point_comes_out_printable_and_encodable(text: str) -> None:
    """Surrogates included: whatever a plugin or a JSON document holds, what is shown
    encodes to UTF-8 and holds no control, format or separator character."""
    for cleaned in (sanitize_line(text), safe_json_dumps(text)):
        cleaned.encode("utf-8")
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in cleaned)
    assert json.loads(safe_json_dumps(text)) == text


# -- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["x", "k3Y", 'a"b\\c', "eyJ0." + "s" * 5000])
def test_a_registered_secret_of_any_length_is_scrubbed_everywhere(secret: str) -> None:
    from goatui.core.calls.results import classify_result
    from goatui.core.sanitize import clip, short_repr

    register_secret(secret)
    around = f"before {secret} after"
    shown = [
        sanitize(around),
        sanitize_line(around),
        safe_json_dumps({"error": around}),
        safe_json_dumps([around], indent=None),
        clip(around, 20),  # cut after scrubbing, so no prefix of it survives
        short_repr(around),
        classify_result(json.dumps({"e": around}).encode()).text,
        classify_result(json.dumps({"e": [around] * 500}).encode(), head=(5, 200)).text,
        classify_result(b"\xff" + around.encode()).text,  # a hexdump's ASCII column
    ]
    for text in shown:
        assert "***" in text, text[:200]
        if len(secret) > 1:
            assert secret not in text and json.dumps(secret)[1:-1] not in text
            assert secret[:-1] not in text.replace("before", "").replace("after", "")
