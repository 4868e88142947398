"""The deadlines and size limits every transport shares (sockets, gateway, the host).

Here rather than in one transport so that using one (the gateway's httpx) never imports
another's library (grpc).
"""

from __future__ import annotations

import math

from goatui.core.errors import UsageError

MiB = 1024 * 1024
# gRPC's default receive limit is 4 MiB: too small for real reports.
DEFAULT_MAX_MESSAGE_MB = 64
DEFAULT_CALL_TIMEOUT_S = 30.0
DEFAULT_PROBE_TIMEOUT_S = 2.0


def _must(what: str, rule: str) -> str:
    """`WHAT must be RULE` (`must be RULE` when argparse names the option itself)."""
    return f"{what} must be {rule}" if what else f"must be {rule}"


# gRPC keeps message sizes in a signed 32-bit int: 2 GiB is past what it can send.
MAX_MESSAGE_MB = 2047
# A deadline, a wait or an interval longer than a day is a typo, not a plan.
MAX_SECONDS = 86_400.0


def check_seconds(value: float, what: str = "", *, allow_zero: bool = False) -> float:
    """value, or UsageError: a finite number of seconds above 0 (or 0), at most a day."""
    low = "0 or more" if allow_zero else "more than 0"
    if not (
        math.isfinite(value) and (value >= 0 if allow_zero else value > 0) and value <= MAX_SECONDS
    ):
        raise UsageError(
            _must(what, f"a number of seconds, {low} and at most {MAX_SECONDS:g}"),
            f"not {value!r}",
        )
    return float(value)


def check_message_mb(value: int, what: str = "") -> int:
    """value, or UsageError: a whole number of MiB from 1 to MAX_MESSAGE_MB."""
    if isinstance(value, bool) or not 1 <= value <= MAX_MESSAGE_MB:
        raise UsageError(
            _must(what, f"a whole number of MiB from 1 to {MAX_MESSAGE_MB}"), f"not {value!r}"
        )
    return int(value)


def check_count(value: int, what: str = "", *, low: int, high: int) -> int:
    """value, or UsageError: a whole number from low to high."""
    if isinstance(value, bool) or not low <= value <= high:
        raise UsageError(_must(what, f"a whole number from {low} to {high}"), f"not {value!r}")
    return int(value)


def check_args_size(args: bytes, max_message_mb: int) -> None:
    """Args above the message limit would fail in the transport, after the call was
    started, as if the result were too large: refuse them first (exit 2)."""
    if len(args) > max_message_mb * MiB:
        raise UsageError(
            f"the args are larger than the {max_message_mb} MiB message limit; nothing was sent",
            "raise it with --max-message-mb",
        )
