"""The one place where text from outside (plugins, gateways, files) is made safe to show.

Plugin output is untrusted: a result, a log message or a plugin's name could carry
terminal control sequences (ESC, CSI, OSC, DCS, C1, BEL, DEL) that would move the cursor,
retitle the window or worse, or Rich markup that would be interpreted. Everything shown
goes through `sanitize` (for plain strings) or `safe_text` (for Rich), which turn every
control character into a visible escape such as ``\\x1b`` and never parse markup.

Characters a terminal draws as nothing are escaped the same way (``\\u200b``,
``\\U000e0041``), so two names that differ only by one never look alike: format
characters (Unicode category Cf: zero-width spaces and joiners, the soft hyphen, the
byte-order mark, bidirectional controls, tag characters), every other default-ignorable
code point (variation selectors, Hangul fillers, the combining grapheme joiner), line
and paragraph separators, and lone surrogates (which no terminal encoding can carry).
The price: an emoji built with a joiner or a variation selector shows its escapes.

Every text made safe here is also scrubbed of the secrets goatui holds
(`goatui.core.secrets`), so a server that echoes the operator's token shows `***`.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

from goatui.core.secrets import scrub

if TYPE_CHECKING:
    # Rich only for safe_text: the CLI's plain output must not pay for importing it.
    from rich.text import Text

# Drawn as nothing, or able to reorder or break what the operator reads. Written out
# rather than computed from unicodedata at import (a CLI run would pay ~0.1 s for
# walking every code point); tests/test_sanitize.py checks the list against unicodedata.
_INVISIBLE_RANGES = [
    # Format characters (Cf), as of Unicode 15.1.
    (0x00AD, 0x00AD),  # soft hyphen
    (0x0600, 0x0605),
    (0x061C, 0x061C),  # Arabic letter mark
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; LRM, RLM
    (0x202A, 0x202E),  # bidirectional embeddings and overrides ("Trojan Source")
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x206F),  # bidirectional isolates, deprecated format characters
    (0xFEFF, 0xFEFF),  # zero-width no-break space (byte-order mark)
    (0xFFF9, 0xFFFB),  # interlinear annotation
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    # The rest of Unicode's default-ignorable code points.
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),
    (0x180B, 0x180D),  # Mongolian variation selectors
    (0x180F, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),  # tag characters, variation selectors supplement
    # Line and paragraph separators break lines behind the renderer's back.
    (0x2028, 0x2029),
    # Lone surrogates: not characters at all; printing one would fail to encode.
    (0xD800, 0xDFFF),
]
# C0 but newline and tab (layout, not commands), DEL and C1.
_CONTROL_RANGES = [(0x00, 0x08), (0x0B, 0x1F), (0x7F, 0x9F)]


def _escape(codepoint: int) -> str:
    if codepoint <= 0xFF:
        return f"\\x{codepoint:02x}"
    if codepoint <= 0xFFFF:
        return f"\\u{codepoint:04x}"
    return f"\\U{codepoint:08x}"


def json_escape(codepoint: int) -> str:
    """How JSON spells a code point: \\uXXXX, or a surrogate pair above the BMP."""
    if codepoint <= 0xFFFF:
        return f"\\u{codepoint:04x}"
    offset = codepoint - 0x10000
    return f"\\u{0xD800 + (offset >> 10):04x}\\u{0xDC00 + (offset & 0x3FF):04x}"


# The tables below hold ~6,300 code points (tag characters, surrogates): made when first
# needed (an unsafe character found), not at import, which cost every `goatui call`
# ~6 ms (issue #19). Finding none (the usual case) needs only the regex.
@functools.cache
def _unsafe_codepoints() -> frozenset[int]:
    return frozenset(c for a, b in (*_CONTROL_RANGES, *_INVISIBLE_RANGES) for c in range(a, b + 1))


@functools.cache
def _table() -> dict[int, str]:
    return {c: _escape(c) for c in _unsafe_codepoints()}


@functools.cache
def _json_table() -> dict[int, str]:
    """The same characters, escaped the way JSON spells them, for JSON output that must
    stay valid JSON (json.dumps already escapes C0; C1, DEL and the rest it passes)."""
    return {c: json_escape(c) for c in _unsafe_codepoints()}


def __getattr__(name: str) -> frozenset[int]:
    # UNSAFE_CODEPOINTS: every code point the sanitiser escapes (tests and renderers
    # check against it), made on first use.
    if name == "UNSAFE_CODEPOINTS":
        return _unsafe_codepoints()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _char_class(ranges: list[tuple[int, int]]) -> re.Pattern[str]:
    """A regex matching any code point of the ranges."""

    def char(c: int) -> str:
        return f"\\u{c:04x}" if c <= 0xFFFF else f"\\U{c:08x}"

    parts = (char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in sorted(ranges))
    return re.compile("[" + "".join(parts) + "]")


# Finding none of them (the usual case) is ~10x faster than `translate` over a large
# text, and the text is not copied: a 20 MB result spent seconds here (issue #9).
_UNSAFE = _char_class([*_CONTROL_RANGES, *_INVISIBLE_RANGES])


def sanitize(text: str, *, keep_newlines: bool = True) -> str:
    """Return text with every control and invisible character replaced by a visible
    escape, and every secret goatui holds by `***`.

    With keep_newlines=False, newlines and tabs are escaped too (for one-line cells
    such as a plugin name or a table cell).
    """
    cleaned = text.translate(_table()) if _UNSAFE.search(text) else text
    if not keep_newlines:
        cleaned = cleaned.replace("\n", "\\n").replace("\t", "\\t")
    # After escaping: a secret is visible ASCII, which escaping leaves as it is.
    return scrub(cleaned)


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
    """JSON text (or the head of it) with unsafe characters as \\u escapes and secrets
    as `***`: still JSON."""
    return scrub(dumped.translate(_json_table()) if _UNSAFE.search(dumped) else dumped)


def has_unsafe(text: str) -> bool:
    """True when text holds a character that `sanitize` would escape."""
    return _UNSAFE.search(text) is not None


def clip(text: str, limit: int) -> str:
    """At most limit characters of untrusted text, cut only after secrets are scrubbed:
    half a token would not be recognised as one once it is cut."""
    return scrub(text)[:limit]


def short_repr(text: str, limit: int = 40) -> str:
    """A short, escaped rendering of untrusted text for error messages."""
    text = scrub(text)
    return repr(text if len(text) <= limit else text[:limit] + "…")
