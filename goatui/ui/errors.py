"""Exceptions and notices as the operator sees them: one safe line, never markup."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel
from textual.widget import Widget

from goatui.core.errors import (
    GoatError,
    NotFound,
    PermissionRefused,
    RemoteError,
    TimedOut,
    Unreachable,
)
from goatui.core.sanitize import sanitize_line


def describe(error: BaseException | None) -> str:
    """One line for any exception a worker may end with."""
    if error is None:
        return "unknown error"
    if isinstance(error, GoatError):
        return error.line()
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return sanitize_line(f"{error.strerror}{where}")
    return sanitize_line(f"{type(error).__name__}: {error}")


def error_code(error: GoatError) -> str:
    """The gRPC status name a failed call maps to, for the status line and history."""
    if isinstance(error, RemoteError):
        return error.code
    if isinstance(error, TimedOut):
        return "DEADLINE_EXCEEDED"
    if isinstance(error, Unreachable):
        return "UNAVAILABLE"
    if isinstance(error, PermissionRefused):
        return "PERMISSION_DENIED"
    if isinstance(error, NotFound):
        return "NOT_FOUND"
    return "ERROR"


def toast(
    node: Widget | App[Any],
    message: str,
    *,
    severity: SeverityLevel = "information",
    title: str = "",
    timeout: float | None = None,
) -> None:
    """A notification whose text is shown literally (plugin text may look like markup)."""
    node.notify(
        sanitize_line(message),
        title=sanitize_line(title),
        severity=severity,
        timeout=timeout,
        markup=False,
    )
