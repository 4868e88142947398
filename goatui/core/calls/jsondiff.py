"""A structural diff of two JSON values: what a replayed call changed.

`diff(a, b)` lists changes, each at a JSONPath-like path (`$.rows[3].count`,
`$["odd key"]`), of one kind:

    added     present only in b           (old is None)
    removed   present only in a           (new is None)
    changed   same JSON type, other value
    type      the JSON type changed (number -> string, object -> array, ...)

Equality is JSON's: 1 and 1.0 are the same number, true is not 1, objects ignore key
order. Arrays are aligned on their equal elements (difflib), so a row inserted at the top
is one `added` change, not a change of every row below it; elements that differ in place
are compared inside. A removed element's path indexes a; every other path indexes b.

`render_diff` gives Rich Text (+ green, - red, ~ yellow, ! magenta) and `diff_text` the
same lines plain. Paths and values come from plugins: both are sanitised, and long
values are cut.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from goatui.core.sanitize import safe_json_dumps, sanitize_line

if TYPE_CHECKING:
    from rich.text import Text

ChangeKind = Literal["added", "removed", "changed", "type"]
PathPart = str | int

# One rendered value is cut after this many characters (a whole report is not a line).
VALUE_CHARS = 200
# Rendering stops after this many changes, saying how many more there are.
RENDER_LIMIT = 1000

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MARKS: dict[ChangeKind, tuple[str, str]] = {
    "added": ("+", "green"),
    "removed": ("-", "red"),
    "changed": ("~", "yellow"),
    "type": ("!", "magenta"),
}


@dataclass(frozen=True)
class Change:
    parts: tuple[PathPart, ...]
    kind: ChangeKind
    old: Any = None
    new: Any = None

    @property
    def path(self) -> str:
        return format_path(self.parts)


def format_path(parts: Iterable[PathPart]) -> str:
    """`$`, then `.name` for identifier keys, `["other key"]` for the rest, `[3]` for indexes."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


def json_type(value: Any) -> str:
    """JSON's name for the value's type (bool before number: True is an int in Python)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def diff(a: Any, b: Any) -> list[Change]:
    """The changes that turn a into b, in document order."""
    changes: list[Change] = []
    try:
        _diff(a, b, (), changes)
    except RecursionError:
        # Nested deeper than Python recurses: say the whole value changed.
        return [Change((), "changed", a, b)]
    return changes


def _diff(a: Any, b: Any, parts: tuple[PathPart, ...], out: list[Change]) -> None:
    kind_a, kind_b = json_type(a), json_type(b)
    if kind_a != kind_b:
        out.append(Change(parts, "type", a, b))
    elif kind_a == "object":
        for key in a:
            if key not in b:
                out.append(Change((*parts, key), "removed", a[key], None))
            else:
                _diff(a[key], b[key], (*parts, key), out)
        for key in b:
            if key not in a:
                out.append(Change((*parts, key), "added", None, b[key]))
    elif kind_a == "array":
        _diff_arrays(a, b, parts, out)
    elif a != b:
        out.append(Change(parts, "changed", a, b))


def _key(value: Any) -> str:
    """A canonical form, so equal JSON values align whatever their key order."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    except (TypeError, ValueError):
        return repr(value)


def _diff_arrays(
    a: Sequence[Any], b: Sequence[Any], parts: tuple[PathPart, ...], out: list[Change]
) -> None:
    # difflib's autojunk stays on: it keeps huge arrays of repeated values fast, and the
    # result is still a correct (if longer) list of changes.
    matcher = difflib.SequenceMatcher(None, [_key(x) for x in a], [_key(x) for x in b])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # Pairs are compared inside (a row whose count moved is one change at .count);
        # what is left between them was removed or added. Emitted in reading order.
        i, j = 0, 0
        for pi, pj in [*_pair(a[i1:i2], b[j1:j2]), (i2 - i1, j2 - j1)]:
            out.extend(Change((*parts, i1 + k), "removed", a[i1 + k], None) for k in range(i, pi))
            out.extend(Change((*parts, j1 + k), "added", None, b[j1 + k]) for k in range(j, pj))
            if pi < i2 - i1:
                _diff(a[i1 + pi], b[j1 + pj], (*parts, j1 + pj), out)
            i, j = pi + 1, pj + 1


# Blocks larger than this (elements of a times elements of b) are paired in place.
_PAIRING_CELLS = 2500


def _pair(a: Sequence[Any], b: Sequence[Any]) -> list[tuple[int, int]]:
    """Which replaced elements are the same element changed, in order.

    Blocks of equal length pair in place. Otherwise the in-order pairing with the most
    similar objects wins (a row added above a changed row is an addition, not a change
    of the row); only elements with something in common are paired.
    """
    if len(a) == len(b) or not a or not b or len(a) * len(b) > _PAIRING_CELLS:
        return [(k, k) for k in range(min(len(a), len(b)))]
    score = [[_similarity(x, y) for y in b] for x in a]
    # best[i][j]: the best total pairing a[i:] with b[j:].
    best = [[0.0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            take = score[i][j] + best[i + 1][j + 1] if score[i][j] > 0 else 0.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if score[i][j] > 0 and best[i][j] == score[i][j] + best[i + 1][j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _similarity(x: Any, y: Any) -> float:
    """0 (nothing to pair) to 1: for objects, how much of their keys and values agree."""
    if json_type(x) != json_type(y):
        return 0.0
    if isinstance(x, dict):
        keys = x.keys() | y.keys()
        # An equal value counts 1, a key both have with another value 1/2.
        shared = [k for k in keys if k in x and k in y]
        same = sum(1.0 if _key(x[k]) == _key(y[k]) else 0.5 for k in shared)
        return same / len(keys) if keys else 1.0
    if isinstance(x, list):
        return 0.5 if x and y else 0.1
    # Two numbers (or strings...) in the same place: a change, when nothing better pairs.
    return 0.1


# -- showing it ----------------------------------------------------------------------------


def short_json(value: Any, limit: int = VALUE_CHARS) -> str:
    """A value as one line of JSON, safe for a terminal, cut to limit characters."""
    try:
        text = safe_json_dumps(value, indent=None)
    except (TypeError, ValueError):
        text = repr(value)
    except RecursionError:
        text = f"<{json_type(value)} nested too deeply to show>"
    text = sanitize_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def change_line(change: Change) -> str:
    """One plain line: mark, path, and the value(s)."""
    mark = _MARKS[change.kind][0]
    path = sanitize_line(change.path)
    if change.kind == "added":
        return f"{mark} {path}: {short_json(change.new)}"
    if change.kind == "removed":
        return f"{mark} {path}: {short_json(change.old)}"
    if change.kind == "type":
        return (
            f"{mark} {path}: {short_json(change.old)} ({json_type(change.old)}) → "
            f"{short_json(change.new)} ({json_type(change.new)})"
        )
    return f"{mark} {path}: {short_json(change.old)} → {short_json(change.new)}"


def _lines(changes: Sequence[Change], limit: int) -> tuple[list[tuple[str, str]], str]:
    shown = [(change_line(c), _MARKS[c.kind][1]) for c in changes[:limit]]
    if not changes:
        return shown, "no differences"
    more = len(changes) - limit
    return shown, f"… {more} more changes" if more > 0 else ""


def diff_text(changes: Sequence[Change], limit: int = RENDER_LIMIT) -> str:
    """The changes as plain lines (for scripts and the clipboard)."""
    lines, tail = _lines(changes, limit)
    return "\n".join([*(text for text, _ in lines), *([tail] if tail else [])])


def render_diff(changes: Sequence[Change], limit: int = RENDER_LIMIT) -> Text:
    """The changes as Rich Text, one coloured line each; markup is never interpreted."""
    # Rich only here: `call --query` uses this module's paths and needs no Rich.
    from rich.text import Text

    lines, tail = _lines(changes, limit)
    text = Text()
    for i, (line, style) in enumerate(lines):
        if i:
            text.append("\n")
        text.append(line, style=style)
    if tail:
        text.append(("\n" if lines else "") + tail, style="dim")
    return text
