"""The one place where text from outside (plugins, gateways, files) is made safe to show.

Plugin output is untrusted: a result, a log message or a plugin's name could carry
terminal control sequences (ESC, CSI, OSC, DCS, C1, BEL, DEL) that would move the cursor,
retitle the window or worse, or Rich markup that would be interpreted. Everything shown
goes through `sanitize` (for plain strings) or `safe_text` (for Rich), which turn every
control character into a visible escape such as ``\\x1b`` and never parse markup.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Rich only for safe_text: the CLI's plain output must not pay for importing it.
    from rich.text import Text

# Newline and tab are the only controls kept: they are layout, not commands.
_KEPT = {0x09, 0x0A}
# Bidirectional overrides and isolates can reorder what the operator reads ("Trojan
# Source"); line/paragraph separators break lines behind the renderer's back.
_INVISIBLE_REORDERING = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_SEPARATORS = [0x2028, 0x2029]

_CONTROL_CODEPOINTS = [
    *(c for c in range(0x00, 0x20) if c not in _KEPT),
    0x7F,
    *range(0x80, 0xA0),
]

_TABLE: dict[int, str] = {c: f"\\x{c:02x}" for c in _CONTROL_CODEPOINTS}
_TABLE.update({c: f"\\u{c:04x}" for c in (*_INVISIBLE_REORDERING, *_SEPARATORS)})

# The same characters, escaped the way JSON spells them, for JSON output that must stay
# valid JSON (json.dumps already escapes C0; C1, DEL and the rest it passes through).
_JSON_TABLE: dict[int, str] = {c: f"\\u{c:04x}" for c in _TABLE}

# Every codepoint the sanitiser removes; tests and renderers check against this set.
UNSAFE_CODEPOINTS: frozenset[int] = frozenset(_TABLE)


def _char_class(codepoints: frozenset[int]) -> re.Pattern[str]:
    """A regex matching any of codepoints, written as ranges."""
    ordered = sorted(codepoints)
    ranges: list[list[int]] = []
    for c in ordered:
        if ranges and c == ranges[-1][1] + 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    parts = (f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    return re.compile("[" + "".join(parts) + "]")


# Finding none of them (the usual case) is ~10x faster than `translate` over a large
# text, and the text is not copied: a 20 MB result spent seconds here (issue #9).
_UNSAFE = _char_class(UNSAFE_CODEPOINTS)


def sanitize(text: str, *, keep_newlines: bool = True) -> str:
    """Return text with every control character replaced by a visible escape.

    With keep_newlines=False, newlines and tabs are escaped too (for one-line cells
    such as a plugin name or a table cell).
    """
    cleaned = text.translate(_TABLE) if _UNSAFE.search(text) else text
    if not keep_newlines:
        cleaned = cleaned.replace("\n", "\\n").replace("\t", "\\t")
    return cleaned


def sanitize_line(text: str) -> str:
    """A one-line form of text: for names, cells, status lines."""
    return sanitize(text, keep_newlines=False)


def safe_text(text: str, style: str = "", *, one_line: bool = False) -> Text:
    """A Rich Text of untrusted text: escapes applied, markup never interpreted."""
    from rich.text import Text

    return Text(sanitize(text, keep_newlines=not one_line), style=style)


def safe_json_dumps(value: Any, *, indent: int | None = 2) -> str:
    """JSON text for untrusted data that is still valid JSON and safe for a terminal."""
    return sanitize_json_text(json.dumps(value, indent=indent, ensure_ascii=False))


def sanitize_json_text(dumped: str) -> str:
    """JSON text (or the head of it) with unsafe characters as \\u escapes: still JSON."""
    return dumped.translate(_JSON_TABLE) if _UNSAFE.search(dumped) else dumped


def has_unsafe(text: str) -> bool:
    """True when text holds a character that `sanitize` would escape."""
    return _UNSAFE.search(text) is not None


def short_repr(text: str, limit: int = 40) -> str:
    """A short, escaped rendering of untrusted text for error messages."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
