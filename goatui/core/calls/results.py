"""Call arguments in, results out: JSON validated before sending, results shown safely.

What a result *means* is decided here, once, for every backend (sockets, the gateway,
WASM) and every caller (`call`, `job run`, `widget`, the console's Invoke and Jobs):

* a JSON object whose only key is `error`, with a string value, is the plugin's own
  error (GoatFlow's plugins answer failures that way, with HTTP 200): `check_result`
  raises `PluginError` (exit 1), which still carries the result for `--raw`;
* an empty result (no bytes at all) is a success with nothing to show: `EMPTY_RESULT`
  is what is said instead.
"""

from __future__ import annotations

import gc
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from goatui.core.errors import InvalidArgs, PluginError
from goatui.core.limits import MiB, check_args_size
from goatui.core.models import CallResult
from goatui.core.sanitize import safe_json_dumps, sanitize, sanitize_json_text
from goatui.core.secrets import scrub, scrub_bytes

ResultKind = Literal["json", "text", "binary", "empty"]

#: Said (on stderr, in the console) for a result with no bytes at all.
EMPTY_RESULT = "(empty result)"
# A result this small is parsed to see whether it is {"error": ...}; a larger one only
# when it starts that way (a 20 MB report is not parsed twice to find out it is not).
_ERROR_PARSE_MAX = 64 * 1024
_ERROR_HEAD = re.compile(rb'\A\s*\{\s*"error"\s*:')
# The plugin's message is one line of the operator's screen, not a document.
_ERROR_MESSAGE_MAX = 500


class _NotJson(Exception):
    """A value Python's json module takes but JSON does not: NaN, Infinity, 1e400."""

    def __init__(self, literal: str, reason: str) -> None:
        super().__init__(literal)
        self.literal = literal
        self.reason = reason


def _refuse_constant(literal: str) -> Any:
    raise _NotJson(literal, f"{literal} is not JSON; send null or a string")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotJson(literal, f"{literal} is too large for a JSON number")
    return value


# String literals, blanked out so a search for a bare word finds it only outside them.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# Text that may hold a surrogate: an escape of one, or one itself (from bytes that were
# not UTF-8). Only then is the text walked, which is slow for large args.
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


def _lone_surrogate(text: str) -> tuple[int, str] | None:
    """Where the first surrogate without its partner is in text's string literals, and
    how it is written there."""
    for literal in _STRING.finditer(text):
        body, start = literal.group(), literal.start()
        i, end = 1, len(body) - 1
        pending: tuple[int, str] | None = None  # a high surrogate waiting for its low one
        while i < end:
            if body[i] == "\\":
                width = 6 if body[i + 1] == "u" else 2
                code = int(body[i + 2 : i + 6], 16) if width == 6 else -1
            else:
                width, code = 1, ord(body[i])
            written = body[i : i + width]
            if pending is not None and not 0xDC00 <= code <= 0xDFFF:
                return pending
            if 0xD800 <= code <= 0xDBFF:
                pending = (start + i, written)
            elif 0xDC00 <= code <= 0xDFFF:
                if pending is None:
                    return start + i, written
                pending = None
            i += width
        if pending is not None:
            return pending
    return None


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_args(text: str, source: str = "args", *, max_message_mb: int | None = None) -> bytes:
    """Validate JSON args and return them as bytes to send; InvalidArgs points at the error.

    Refused besides what is not JSON at all: NaN, Infinity and numbers too large for a
    double (Python's json takes them; GoatFlow's Go plugins would not), and lone
    surrogates (`"\\ud800"`: no character; Go would turn it into U+FFFD unasked). With
    max_message_mb, args larger than the message limit are refused too (UsageError): the
    transport would fail them after starting the call, as if the result were too large.
    """
    if max_message_mb is not None and len(text) > max_message_mb * MiB:
        check_args_size(text.encode("utf-8", "surrogatepass"), max_message_mb)
    if not text.strip():
        return b"{}"
    try:
        json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise InvalidArgs(exc.msg, exc.lineno, exc.colno, source) from None
    except RecursionError:
        raise InvalidArgs("nested too deeply", 1, 1, source) from None
    except _NotJson as exc:
        blanked = _STRING.sub(lambda m: "_" * len(m.group()), text)
        index = max(blanked.find(exc.literal), 0)
        raise InvalidArgs(exc.reason, *_line_column(text, index), source) from None
    lone = _lone_surrogate(text) if _MAYBE_SURROGATE.search(text) else None
    if lone is not None:
        index, written = lone
        shown = written if written.startswith("\\") else written.encode("unicode_escape").decode()
        raise InvalidArgs(
            f"{shown} is half of a surrogate pair, not a character",
            *_line_column(text, index),
            source,
        )
    data = text.encode("utf-8")
    if max_message_mb is not None:
        check_args_size(data, max_message_mb)
    return data


def plugin_error(data: bytes) -> str | None:
    """The plugin's error message when the result is `{"error": "<message>"}` and
    nothing else (a JSON object whose only key is `error`, with a string value)."""
    head = data[:64].lstrip()
    if not head.startswith(b"{"):
        return None
    if len(data) > _ERROR_PARSE_MAX and not _ERROR_HEAD.match(data):
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("error"), str):
        return str(value["error"])
    return None


def check_result(result: CallResult, what: str, *, hint: str = "") -> CallResult:
    """The result, unless it is the plugin's own error: then PluginError (exit 1) saying
    `what` failed and how, with the result kept in it."""
    message = plugin_error(result.data)
    if message is None:
        return result
    if len(message) > _ERROR_MESSAGE_MAX:
        message = message[:_ERROR_MESSAGE_MAX] + "…"
    raise PluginError(
        f"{what}: the plugin answered with an error: {message or '(no message)'}",
        reason=message,
        data=result.data,
        duration_ms=result.duration_ms,
        hint=hint,
    )


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
