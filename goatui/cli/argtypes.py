"""Argument types for numbers an operator types: refused at parse time, in one line.

argparse's own `type=float` takes `nan`, `inf` and `1e309`, and `type=int` takes a
number of any size; each type here also applies the range the value must be in
(`goatui.core.limits`), so a bad value is one line and exit 2 before anything starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from goatui.core.errors import UsageError
from goatui.core.limits import check_count, check_message_mb, check_seconds


def _refused(error: UsageError) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(error.line())


def seconds(*, allow_zero: bool = False) -> Callable[[str], float]:
    """A number of seconds: finite, above 0 (or 0), at most a day."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        try:
            return check_seconds(value, allow_zero=allow_zero)
        except UsageError as exc:
            raise _refused(exc) from None

    return parse


def whole_number(text: str, unit: str) -> int:
    try:
        return int(text)
    except ValueError:  # also a number of more than 4,300 digits
        raise argparse.ArgumentTypeError(f"not a whole number of {unit}: {text[:40]!r}") from None


def message_mb(text: str) -> int:
    """A message-size limit in MiB, from 1 to what gRPC can carry."""
    try:
        return check_message_mb(whole_number(text, "MiB"))
    except UsageError as exc:
        raise _refused(exc) from None


def count(*, low: int, high: int, unit: str = "entries") -> Callable[[str], int]:
    """A whole number from low to high."""

    def parse(text: str) -> int:
        try:
            return check_count(whole_number(text, unit), low=low, high=high)
        except UsageError as exc:
            raise _refused(exc) from None

    return parse
