"""The audit log: who changed or called what, when, where, and how it ended.

Append-only JSON Lines at $XDG_STATE_HOME/goatui/audit.jsonl (file 0600, directory
0700), one object per action:

    {"when": "2026-05-01T09:12:03.120Z", "who": "alice@ops1", "action": "invoke",
     "target": "analytics/run_report", "outcome": "ok", "exit_code": 0, "error": "",
     "where": "https://goatflow.example.com", "args": {"id": "x", "api_key": "***"},
     "args_note": ""}

Actions: invoke, job-trigger, enable, disable, attach-host, launch, restart, reload, stop,
login, logout (target: the GoatFlow login; never a token or a password).
Outcome: ok, error (with `error`, one sanitised line, and the CLI `exit_code` it maps
to) or cancelled. `where` is the backend's label (a gateway's base URL, never a token).

Args are kept (up to 8 KiB of JSON; larger or non-JSON args are noted, not kept) with
secrets masked, recursively:
  * a value whose key matches /pass|secret|token|key|auth|credential|cookie/i is
    replaced by "***" (whatever it holds: a nested object goes too);
  * any string that looks like a JWT or a `Bearer …` credential, or holds a secret
    goatui holds (`goatui.core.secrets`: $GOATFLOW_TOKEN, token files, sign-ins, of
    any length), has that part replaced by "***". Error messages, the target and
    `where` are scrubbed the same way.
The key rule errs on the side of masking (`sort_key` is masked too).

`who` is getpass.getuser() (the login name, as the environment tells it) @ the host
name: a record for operators, not a tamper-proof trail. Past 5 MiB the file is renamed
to audit.jsonl.1 (the previous .1 goes) and a new one starts; an flock keeps two goatui
processes from rotating at once. Writing never breaks the action it records: a failure
comes back as one line to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goatui.core.config import state_home
from goatui.core.errors import GoatError
from goatui.core.filelock import open_locked, thread_lock, write_all
from goatui.core.sanitize import sanitize_json_text, sanitize_line
from goatui.core.secrets import REDACTED, register_environment_token, scrub

AUDIT_FILE = "audit.jsonl"
MAX_BYTES = 5 * 1024 * 1024
MAX_ARGS_CHARS = 8 * 1024
ERROR_CHARS = 500
ACTIONS = (
    "invoke",
    "job-trigger",
    "enable",
    "disable",
    "attach-host",
    "launch",
    "restart",
    "reload",
    "stop",
    "login",
    "logout",
)
OUTCOMES = ("ok", "error", "cancelled")

SECRET_KEY = re.compile(r"pass|secret|token|key|auth|credential|cookie", re.IGNORECASE)
_SECRET_TEXT = re.compile(
    r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"  # a JWT
    r"|(?<=Bearer )\S+",  # an Authorization header's credential
    re.IGNORECASE,
)


def audit_path() -> Path:
    return state_home() / AUDIT_FILE


def now_rfc3339() -> str:
    """UTC to the millisecond with a Z: one clock for entries from every host."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def who() -> str:
    import getpass  # here: it loads termios and pwd, and only a recorded action asks

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        user = f"uid-{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def target(plugin: str, item: str = "") -> str:
    """`plugin`, or `plugin/function` (or `plugin/job`)."""
    return f"{plugin}/{item}" if item else plugin


# -- masking -------------------------------------------------------------------------------


def scrub_text(text: str) -> str:
    """text with credentials in it (JWTs, Bearer values, every secret goatui holds) masked."""
    register_environment_token()  # also when the audit log is used on its own
    return _SECRET_TEXT.sub(REDACTED, scrub(text))


def redact(value: Any) -> Any:
    """A copy of a JSON value with secrets masked (the rules in the module docstring)."""
    if isinstance(value, dict):
        return {
            str(k): REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def _args_for_log(args: Any) -> tuple[Any, str]:
    """(the masked args, or None; why they are not kept, or "")."""
    if args is None:
        return None, ""
    if isinstance(args, bytes | bytearray | str):
        text = args.decode("utf-8", "replace") if isinstance(args, bytes | bytearray) else args
        if len(text) > MAX_ARGS_CHARS:
            return None, f"{len(text)} characters of args, not kept"
        if not text.strip():
            return {}, ""
        try:
            args = json.loads(text)
        except (ValueError, RecursionError):
            return None, "args are not JSON, not kept"
    try:
        masked = redact(args)
        size = len(json.dumps(masked, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError):
        return None, "args are not JSON, not kept"
    if size > MAX_ARGS_CHARS:
        return None, f"{size} characters of args, not kept"
    return masked, ""


# -- entries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    when: str
    who: str
    action: str
    target: str
    outcome: str
    exit_code: int = 0
    error: str = ""
    where: str = ""
    args: Any = None
    args_note: str = ""

    def to_line(self) -> str:
        # Every field, always: a stable shape for jq and friends. Lone surrogates (JSON
        # args may hold them) and invisible characters as \u escapes: still the same JSON,
        # and always encodable.
        return sanitize_json_text(
            json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_line(cls, line: str) -> AuditEntry | None:
        """One line parsed; None for a malformed one (it must not hide the rest)."""
        try:
            data: Any = json.loads(line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        texts = ("when", "who", "action", "target", "outcome", "error", "where", "args_note")
        if not all(isinstance(data.get(k, ""), str) for k in texts):
            return None
        if not all(data.get(k) for k in texts[:5]):
            return None
        code = data.get("exit_code", 0)
        return cls(
            when=data["when"],
            who=data["who"],
            action=data["action"],
            target=data["target"],
            outcome=data["outcome"],
            exit_code=code if isinstance(code, int) and not isinstance(code, bool) else 0,
            error=data.get("error", ""),
            where=data.get("where", ""),
            args=data.get("args"),
            args_note=data.get("args_note", ""),
        )

    @property
    def outcome_text(self) -> str:
        """`ok`, `cancelled`, or `error (exit 3): message` for a table cell."""
        if self.outcome == "error":
            return f"error (exit {self.exit_code}): {self.error}"
        return self.outcome


def make_entry(
    action: str,
    target: str,
    *,
    outcome: str = "ok",
    error: str = "",
    exit_code: int = 0,
    where: str = "",
    args: Any = None,
) -> AuditEntry:
    """An entry stamped now, by whoever runs goatui, with args masked and error scrubbed."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    kept, note = _args_for_log(args)
    return AuditEntry(
        when=now_rfc3339(),
        who=who(),
        action=action,
        target=scrub_text(target),
        outcome=outcome,
        exit_code=exit_code,
        error=sanitize_line(scrub_text(error))[:ERROR_CHARS],
        where=scrub_text(where),
        args=kept,
        args_note=note,
    )


# -- the file ------------------------------------------------------------------------------


class AuditLog:
    """The audit file. Blocking I/O: the console calls it from a worker thread."""

    def __init__(self, path: Path | None = None, max_bytes: int = MAX_BYTES) -> None:
        self.path = path if path is not None else audit_path()
        self.max_bytes = max(max_bytes, 1024)

    @property
    def rotated(self) -> Path:
        return self.path.with_name(self.path.name + ".1")

    def append(self, entry: AuditEntry) -> None:
        """Add one line (rotating first when the file is full). Raises OSError."""
        line = (entry.to_line() + "\n").encode("utf-8")
        with thread_lock(self.path):
            self._make_dir()
            fd = open_locked(self.path)
            try:
                size = os.fstat(fd).st_size
                if size and size + len(line) > self.max_bytes:
                    fd = self._rotate(fd)
                write_all(fd, line)
            finally:
                os.close(fd)  # also releases the flock

    def _make_dir(self) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            if directory.stat().st_mode & 0o077:
                directory.chmod(0o700)

    def _rotate(self, fd: int) -> int:
        """Rename the full file to .1 (the flock on fd is still held); a new fd."""
        os.replace(self.path, self.rotated)
        os.close(fd)
        return open_locked(self.path)

    def read(self, limit: int | None = None) -> list[AuditEntry]:
        """The newest `limit` entries (all when None), oldest first, across the rotation."""
        entries: deque[AuditEntry] = deque(maxlen=limit if limit and limit > 0 else None)
        for path in (self.rotated, self.path):
            try:
                with open(path, encoding="utf-8", errors="replace") as file:
                    for line in file:
                        entry = AuditEntry.from_line(line)
                        if entry is not None:
                            entries.append(entry)
            except FileNotFoundError:
                continue
        return list(entries)


def record(
    action: str,
    target: str,
    *,
    outcome: str = "ok",
    error: str = "",
    exit_code: int = 0,
    where: str = "",
    args: Any = None,
    log: AuditLog | None = None,
) -> str | None:
    """Append one entry. Never raises: returns None when written, else why not (a
    failure to record an action must never lose what the action brought).

    For the console's invoke / trigger / enable actions (from a worker thread), the CLI
    commands and the session's launch / restart / stop / attach-host.
    """
    entry = make_entry(
        action,
        target,
        outcome=outcome,
        error=error,
        exit_code=exit_code,
        where=where,
        args=args,
    )
    audit = log if log is not None else AuditLog()
    try:
        audit.append(entry)
    except OSError as exc:
        return sanitize_line(f"audit log {audit.path} not written: {exc.strerror or exc}")
    except Exception as exc:  # whatever it is, the action it records has happened
        return sanitize_line(f"audit log {audit.path} not written: {type(exc).__name__}: {exc}")
    return None


def outcome_of(failure: BaseException | None) -> dict[str, Any]:
    """`record`'s outcome, error and exit_code for how an action ended (None: it worked)."""
    if failure is None:
        return {"outcome": "ok", "error": "", "exit_code": 0}
    if isinstance(failure, KeyboardInterrupt | asyncio.CancelledError):
        return {"outcome": "cancelled", "error": "", "exit_code": 130}
    if isinstance(failure, GoatError):
        return {"outcome": "error", "error": failure.line(), "exit_code": int(failure.exit_code)}
    return {"outcome": "error", "error": f"{type(failure).__name__}: {failure}", "exit_code": 1}


@contextlib.contextmanager
def audited(
    action: str,
    target: str,
    *,
    where: str = "",
    args: Any = None,
    on_problem: Callable[[str], object] | None = None,
    log: AuditLog | None = None,
) -> Iterator[None]:
    """Record how the block ends: ok, a GoatError (its line and exit code), cancelled,
    or another exception. The exception goes on; a failure to write goes to on_problem.
    """

    def write(failure: BaseException | None) -> None:
        problem = record(action, target, where=where, args=args, log=log, **outcome_of(failure))
        if problem and on_problem is not None:
            on_problem(problem)

    try:
        yield
    except BaseException as exc:
        write(exc)
        raise
    write(None)
