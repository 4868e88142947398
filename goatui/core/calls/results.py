"""Call arguments in, results out: JSON validated before sending, results shown safely."""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from typing import Any, Literal

from goatui.core.errors import InvalidArgs
from goatui.core.sanitize import safe_json_dumps, sanitize, sanitize_json_text
from goatui.core.secrets import scrub, scrub_bytes

ResultKind = Literal["json", "text", "binary", "empty"]


def parse_args(text: str, source: str = "args") -> bytes:
    """Validate JSON args and return them as bytes to send; InvalidArgs points at the error."""
    if not text.strip():
        return b"{}"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgs(exc.msg, exc.lineno, exc.colno, source) from None
    except RecursionError:
        raise InvalidArgs("nested too deeply", 1, 1, source) from None
    return text.encode("utf-8")


@dataclass(frozen=True)
class ResultView:
    """A result classified for display. `text` is already safe to show.

    `complete` is False when `text` is only the head of a large JSON result's
    pretty-printed text (classify_result's `head`); complete_result makes the rest.
    """

    kind: ResultKind
    text: str
    value: Any = None
    size: int = 0
    complete: bool = True


def hexdump(data: bytes, limit: int = 64 * 1024) -> str:
    """Bytes as `offset  hex  |ascii|` lines, capped at limit bytes."""
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset : offset + 16]
        hex_part = " ".join(f"{b:02x}" for b in chunk)
        ascii_part = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset:08x}  {hex_part:<47}  |{ascii_part}|")
    if len(data) > limit:
        lines.append(f"... {len(data) - limit} more bytes")
    return "\n".join(lines)


def _parse(text: str) -> Any:
    """json.loads with the cyclic collector paused.

    A large document is millions of new lists and dicts, and the collector would walk
    them, and everything else alive (such as the previous result), several times over
    while they are made: a third of classifying a 20 MB result (issue #9). JSON values
    hold no cycles, so nothing is left for it to find. It is paused for the whole
    process (it is global), for as long as the parse.
    """
    if not gc.isenabled():
        return json.loads(text)
    gc.disable()
    try:
        return json.loads(text)
    finally:
        gc.enable()


def pretty_json_head(value: Any, max_lines: int, max_chars: int) -> tuple[str, bool]:
    """safe_json_dumps(value), stopped after max_lines lines or max_chars characters
    (counted before unsafe characters are escaped):
    (text, whether it is the whole text).

    Pretty-printing is json's pure-Python encoder either way; stopping it after the head
    is what lets a 20 MB result show its first screen without waiting for the rest.
    """
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False)
    parts: list[str] = []
    lines = chars = 0
    for chunk in encoder.iterencode(value):
        parts.append(chunk)
        lines += chunk.count("\n")
        chars += len(chunk)
        if lines >= max_lines or chars > max_chars:
            # Scrubbed before it is cut: a secret cut in half is no longer recognised.
            head = scrub("".join(parts))
            end = min(len(head), max_chars)
            position = -1
            for _ in range(max_lines):
                position = head.find("\n", position + 1, end)
                if position == -1:
                    position = end
                    break
            return sanitize_json_text(head[:position]), False
    return sanitize_json_text("".join(parts)), True


def classify_result(data: bytes, *, head: tuple[int, int] | None = None) -> ResultView:
    """JSON pretty-printed, UTF-8 text as text, anything else as hex.

    With `head` (lines, characters), a JSON result longer than that gets only its head
    pretty-printed (complete=False): complete_result does the rest, off the screen path.
    """
    size = len(data)
    if not data:
        return ResultView("empty", "", None, 0)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ResultView("binary", hexdump(scrub_bytes(data)), None, size)
    try:
        value = _parse(text)
    except (ValueError, RecursionError):
        return ResultView("text", sanitize(text), None, size)
    try:
        if head is None:
            pretty, whole = safe_json_dumps(value), True
        else:
            pretty, whole = pretty_json_head(value, *head)
    except RecursionError:
        return ResultView("text", sanitize(text), None, size)
    return ResultView("json", pretty, value, size, complete=whole)


def complete_result(view: ResultView) -> ResultView:
    """The whole text of a result classified with a head (slow for a large one: call it
    in a thread)."""
    if view.complete:
        return view
    return ResultView(view.kind, safe_json_dumps(view.value), view.value, view.size)


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
