"""The console's side of the audit log: record an action off the UI thread.

For what the views do themselves (invoke, job trigger, enable / disable); the session
records restart, stop and attach-host on its own.

Writing the audit file is blocking I/O; it runs in a thread worker, and a failure to
write becomes a warning toast (it never undoes or blocks the action recorded).
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from goatui.core import audit
from goatui.core.errors import GoatError
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import describe, toast


def record(
    widget: Widget,
    ctx: ConsoleContext,
    action: str,
    target: str,
    *,
    error: BaseException | str | None = None,
    cancelled: bool = False,
    args: Any = None,
) -> None:
    """Append one audit entry: ok, cancelled, or an error (its line and CLI exit code;
    an error given as text maps to exit code 1)."""
    outcome = "cancelled" if cancelled else "error" if error is not None else "ok"
    exit_code = 0
    if isinstance(error, GoatError):
        exit_code = int(error.exit_code)
    elif error is not None:
        exit_code = 1
    where = ctx.backend.label
    message = error if isinstance(error, str) else describe(error) if error is not None else ""
    app = widget.app

    def write() -> None:
        problem = audit.record(
            action,
            target,
            outcome=outcome,
            error=message,
            exit_code=130 if cancelled else exit_code,
            where=where,
            args=args,
        )
        if problem:
            app.call_from_thread(toast, app, problem, title="audit", severity="warning")

    widget.run_worker(write, thread=True, group="audit", exit_on_error=False)
