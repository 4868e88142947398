"""Querying a JSON result (JSONPath) and searching shown text: the operator's `/` and `--query`.

Queries use jsonpath-ng's extended grammar (filters, slices, `..`): a real query
language beats one we would write. The result of `query_json` is collapsed the way a
script wants it:

    exactly one match   -> that value        (`$.total` -> 42)
    several matches     -> a list of them     (`$.rows[*].id` -> [1, 2, 3])
    no match            -> []                 (and `query_matches` says there were none)

A single match that is itself a list is returned as that list, so "one list" and
"several values" can look alike: `query_matches` gives the matches unambiguously.

`search_lines` finds a text or a regex in lines of shown text (the result viewer's `/`),
with smart case: a pattern with no capital letter ignores case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from goatui.core.calls.jsondiff import PathPart, format_path
from goatui.core.errors import UsageError
from goatui.core.sanitize import sanitize_line

if TYPE_CHECKING:
    from jsonpath_ng import JSONPath

# Longer expressions are refused: a query is typed by a person, not generated.
MAX_EXPR_CHARS = 4096


@dataclass(frozen=True)
class Match:
    """One value a query found, and where: `$.rows[1].id`, spelled as jsondiff spells it."""

    path: str
    value: Any


def compile_query(expr: str) -> JSONPath:
    """The parsed JSONPath expression; UsageError (exit 2) saying where it is wrong.

    Parse it before sending anything, so a typo costs no call.
    """
    text = expr.strip()
    shown = sanitize_line(text[:200])
    if not text:
        raise UsageError("empty query", "e.g. --query '$.rows[*].id'")
    if len(text) > MAX_EXPR_CHARS:
        raise UsageError(f"query is longer than {MAX_EXPR_CHARS} characters")
    # Imported here: scripts that never query do not pay for the parser.
    from jsonpath_ng.exceptions import JSONPathError
    from jsonpath_ng.ext.parser import parse

    try:
        parsed: JSONPath = parse(text)
        return parsed
    except (JSONPathError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        # The library's messages name the position ("Parse error at 1:4 near token b").
        reason = sanitize_line(str(exc)) or type(exc).__name__
        raise UsageError(
            f"invalid JSONPath query {shown}: {reason}",
            "e.g. $.rows[0].name, $.rows[*].id, $..count, $.rows[?(@.count > 2)]",
        ) from None


def query_matches(value: Any, expr: str | JSONPath) -> list[Match]:
    """Every match of expr (text, or a `compile_query` result) in value, in document order."""
    compiled = compile_query(expr) if isinstance(expr, str) else expr
    try:
        found = compiled.find(value)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # Filters compare what the plugin sent; a comparison the data cannot take is
        # the query's problem, said plainly rather than as a traceback.
        raise UsageError(
            f"query {sanitize_line(str(expr)[:200])} cannot be applied to this result: "
            f"{sanitize_line(str(exc)) or type(exc).__name__}"
        ) from None
    return [Match(_path(m.full_path), m.value) for m in found]


def _path(full_path: Any) -> str:
    """jsonpath-ng's path of a match (`rows.[1].id`) as `$.rows[1].id`; its own text for
    the rare path that is not plain keys and indexes (e.g. `len`)."""
    from jsonpath_ng.jsonpath import Child, Fields, Index, Root

    parts: list[PathPart] = []
    stack = [full_path]
    while stack:
        node = stack.pop()
        if isinstance(node, Child):
            stack += [node.right, node.left]
        elif isinstance(node, Fields) and len(node.fields) == 1:
            parts.append(node.fields[0])
        elif isinstance(node, Index):
            # jsonpath-ng 1.7 holds `indices`; 1.6 a single `index`.
            indices = getattr(node, "indices", None) or (getattr(node, "index", None),)
            if len(indices) != 1 or not isinstance(indices[0], int):
                return str(full_path)
            parts.append(indices[0])
        elif not isinstance(node, Root):
            return str(full_path)
    return format_path(parts)


def query_json(value: Any, expr: str | JSONPath) -> Any:
    """The query's result: one match as itself, several as a list, none as []."""
    matches = query_matches(value, expr)
    if len(matches) == 1:
        return matches[0].value
    return [m.value for m in matches]


# -- search in shown text ------------------------------------------------------------------


def compile_search(
    pattern: str, *, regex: bool = False, case_sensitive: bool | None = None
) -> re.Pattern[str]:
    """The pattern as a compiled regex; UsageError for an invalid one.

    case_sensitive None is smart case: sensitive only when the pattern has a capital.
    """
    if case_sensitive is None:
        case_sensitive = any(ch.isupper() for ch in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        return re.compile(pattern if regex else re.escape(pattern), flags)
    except (re.error, RecursionError, OverflowError) as exc:
        raise UsageError(f"invalid regex {sanitize_line(pattern[:200])}: {exc}") from None


def search_lines(
    lines: Sequence[str],
    pattern: str,
    regex: bool = False,
    *,
    case_sensitive: bool | None = None,
    limit: int = 10_000,
) -> list[tuple[int, int, int]]:
    """Every match as (line index from 0, start column, end column), in reading order.

    Empty matches (a regex like `^` or `x*`) are skipped: they highlight nothing and
    would stop `n` from moving. At most `limit` matches (the viewer shows the count).
    """
    if not pattern:
        return []
    compiled = compile_search(pattern, regex=regex, case_sensitive=case_sensitive)
    found: list[tuple[int, int, int]] = []
    for number, line in enumerate(lines):
        for match in compiled.finditer(line):
            start, end = match.span()
            if start == end:
                continue
            found.append((number, start, end))
            if len(found) >= limit:
                return found
    return found
