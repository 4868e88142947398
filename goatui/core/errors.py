"""Typed errors the CLI and the console can explain, each with its exit code.

Exit codes (README, `goatui --help`):
    0 ok · 1 the plugin or gateway answered with an error · 2 usage or invalid input
    (nothing was sent) · 3 unreachable or timed out · 4 authentication or permission refused
"""

from __future__ import annotations

from enum import IntEnum

from goatui.core.sanitize import sanitize_line


class ExitCode(IntEnum):
    OK = 0
    REMOTE_ERROR = 1
    USAGE = 2
    UNREACHABLE = 3
    AUTH = 4


class GoatError(Exception):
    """An error an operator can act on: one line saying what is wrong and what to do."""

    exit_code: ExitCode = ExitCode.REMOTE_ERROR

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def line(self) -> str:
        """The single line shown to the operator (already sanitised)."""
        text = self.message if not self.hint else f"{self.message}; {self.hint}"
        return sanitize_line(text)

    def __str__(self) -> str:
        return self.line()


class UsageError(GoatError):
    """Bad input from the operator; nothing was sent."""

    exit_code = ExitCode.USAGE


class InvalidArgs(UsageError):
    """Call arguments that are not valid JSON (line and column are 1-based)."""

    def __init__(self, reason: str, line: int, column: int, source: str = "args") -> None:
        super().__init__(
            f"invalid JSON in {source} at line {line}, column {column}: {reason}",
            "nothing was sent; fix the JSON and try again",
        )
        self.reason = reason
        self.line_number = line
        self.column = column


class NotFound(UsageError):
    """An unknown plugin, function, widget or job named by the operator."""


class Unreachable(GoatError):
    """The plugin or gateway could not be reached, or went away during a call."""

    exit_code = ExitCode.UNREACHABLE


class TimedOut(Unreachable):
    """No answer before the deadline."""


class NoAnswer(TimedOut):
    """Something accepted the connection and then said nothing: a hung plugin, likely."""

    def __init__(self, what: str, seconds: float, who: str = "the plugin") -> None:
        super().__init__(
            f"{what} timed out after {seconds:.3g}s: {who} accepted the connection but did"
            " not answer",
            "is it hung? check the plugin, or restart it",
        )
        self.seconds = seconds


class PermissionRefused(GoatError):
    """Authentication failed or permission was refused (token, socket permissions)."""

    exit_code = ExitCode.AUTH


class RemoteError(GoatError):
    """The plugin or gateway answered with an error."""

    exit_code = ExitCode.REMOTE_ERROR

    def __init__(self, message: str, code: str = "UNKNOWN", hint: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


class ResultTooLarge(RemoteError):
    """A result above the configured message-size limit."""


class PluginError(RemoteError):
    """The plugin answered, and its answer is its own error: the result `{"error": "..."}`
    (GoatFlow's convention; `goatui.core.calls.results.plugin_error` is the rule).

    `reason` is the plugin's own message (untrusted: sanitise it to show it); `data` is
    the result as it came, for whoever shows it anyway (`--raw`, the console's raw view);
    `duration_ms` is how long the call took.
    """

    def __init__(
        self, message: str, *, reason: str, data: bytes, duration_ms: float, hint: str = ""
    ) -> None:
        super().__init__(message, code="PLUGIN_ERROR", hint=hint)
        self.reason = reason
        self.data = data
        self.duration_ms = duration_ms


def not_loaded_error(plugin: str, what: str) -> RemoteError:
    """For a plugin a gateway lists but has not loaded yet (GoatFlow's lazy loading):
    what it has (widgets, jobs) is unknown until a call loads it. Exit 1."""
    return RemoteError(
        f"{what}: plugin {plugin!r} is not loaded yet; call any of its handlers to load it",
        code="NOT_LOADED",
        hint="GoatFlow loads a plugin on its first call",
    )
