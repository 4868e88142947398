"""Classifying results: a large JSON result's head first, the rest on demand."""

from __future__ import annotations

import json

import pytest

from goatui.core.calls.results import classify_result, complete_result
from goatui.core.sanitize import safe_json_dumps
from goatui.ui.widgets.result_viewer import preview

VALUE = {"rows": [{"n": n, "name": f"row {n}\u009b[2J"} for n in range(3000)]}
DATA = json.dumps(VALUE).encode()
WHOLE = safe_json_dumps(VALUE)  # 15,000 lines; the C1 CSI becomes \u009b


@pytest.mark.parametrize(("lines", "chars"), [(5000, 10**9), (10, 10**9), (10**9, 4096), (1, 1)])
def test_the_head_is_the_start_of_the_whole_text(lines: int, chars: int) -> None:
    view = classify_result(DATA, head=(lines, chars))
    assert (view.kind, view.complete, view.value, view.size) == ("json", False, VALUE, len(DATA))
    # Cut before escaping: a prefix of the whole text, about as long as its preview.
    assert WHOLE.startswith(view.text)
    assert len(preview(WHOLE, lines, chars)) <= len(view.text) < 2 * max(chars, 100)
    assert "\x9b" not in view.text
    whole = complete_result(view)
    assert (whole.text, whole.complete, whole.value) == (WHOLE, True, VALUE)


def test_a_head_in_lines_is_exactly_the_viewer_preview() -> None:
    view = classify_result(DATA, head=(5000, 2 * 1024 * 1024))
    assert view.text == preview(WHOLE, 5000, 2 * 1024 * 1024)
    assert "\\u009b" in view.text  # escaped, still JSON text


def test_a_result_within_the_head_is_complete_at_once() -> None:
    view = classify_result(DATA, head=(10**9, 10**9))
    assert view.complete and view.text == WHOLE
    assert complete_result(view) is view
    assert classify_result(DATA) == view  # no head: the whole text, as the CLI wants it


def test_results_that_are_not_json_ignore_the_head() -> None:
    assert classify_result(b"plain \x1b[31mtext", head=(1, 1)).text == "plain \\x1b[31mtext"
    assert classify_result(b"\xff\x00", head=(1, 1)).kind == "binary"
