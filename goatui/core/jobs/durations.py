"""Go durations ("300ms", "1.5h", "2h45m"), read exactly as Go's time.ParseDuration does.

A job's `timeout` in a manifest is a Go duration (PROTOCOL.md); GoatFlow parses it with
time.ParseDuration, so goatui refuses and accepts the same strings.
"""

from __future__ import annotations

import re
from fractions import Fraction

from goatui.core.sanitize import short_repr

_GO_UNITS_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu; Go accepts both
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_GO_COMPONENT = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")
# time.Duration is an int64 of nanoseconds; Go refuses anything that does not fit.
_GO_MAX_NS = (1 << 63) - 1


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration ("300ms", "1.5h", "2h45m"), as time.ParseDuration reads it.

    Raises ValueError saying what is wrong.
    """
    if not isinstance(text, str):
        raise ValueError(f"a duration must be text such as '5m', not {type(text).__name__}")
    body = text
    negative = False
    if body[:1] in ("+", "-"):
        negative = body[0] == "-"
        body = body[1:]
    if body == "0":  # the only unitless duration Go accepts
        return 0.0
    if not body:
        raise ValueError(f"invalid duration {short_repr(text)}: empty")
    total = Fraction(0)
    pos = 0
    while pos < len(body):
        match = _GO_COMPONENT.match(body, pos)
        assert match is not None  # every group may be empty, so it always matches
        whole, frac, unit = match.groups()
        if not whole and not frac:
            raise ValueError(f"invalid duration {short_repr(text)}: expected a number at {pos + 1}")
        if not unit:
            raise ValueError(f"invalid duration {short_repr(text)}: missing unit after a number")
        if unit not in _GO_UNITS_NS:
            raise ValueError(
                f"invalid duration {short_repr(text)}: unknown unit {short_repr(unit)} "
                "(use ns, us, ms, s, m or h)"
            )
        if len(whole) > 30:  # way past int64 nanoseconds; spare int() a huge string
            raise ValueError(f"invalid duration {short_repr(text)}: out of range")
        number = Fraction(int(whole or "0"))
        if frac:
            # Go ignores fraction digits beyond what int64 can hold; nanoseconds are
            # truncated below anyway, so 30 digits is plenty.
            frac = frac[:30]
            number += Fraction(int(frac), 10 ** len(frac))
        total += number * _GO_UNITS_NS[unit]
        if total > _GO_MAX_NS + 1:
            raise ValueError(f"invalid duration {short_repr(text)}: out of range")
        pos = match.end()
    nanos = int(total)  # Go truncates sub-nanosecond fractions
    if nanos > _GO_MAX_NS + (1 if negative else 0):
        raise ValueError(f"invalid duration {short_repr(text)}: out of range")
    return (-nanos if negative else nanos) / 1e9
