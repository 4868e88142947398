"""`goatui audit`: the audit log of calls, job runs, enables and lifecycle actions."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from goatui.cli import argtypes
from goatui.core.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from goatui.core.config import Config

DESCRIPTION = """\
show the audit log: who invoked, triggered, enabled, disabled, launched, restarted,
stopped or took over which plugin, when, where and how it ended

The log is $XDG_STATE_HOME/goatui/audit.jsonl (one JSON object per line, mode 0600;
past 5 MiB it moves to audit.jsonl.1). Args are kept with secrets masked: values of
keys matching pass|secret|token|key|auth|credential|cookie, and anything shaped like a
JWT or a Bearer credential, show as "***". Tokens are never written."""

DEFAULT_LIMIT = 50
# Two full files of the smallest entries hold fewer than this.
MAX_LIMIT = 1_000_000


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("--json", action="store_true", help="print a JSON array of entries")
    parser.add_argument(
        "--limit",
        type=argtypes.count(low=0, high=MAX_LIMIT),
        metavar="N",
        default=DEFAULT_LIMIT,
        help=f"the newest N entries (default {DEFAULT_LIMIT}; 0 for all)",
    )
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.output import table, use_colour
    from goatui.core.audit import AuditLog
    from goatui.core.sanitize import safe_json_dumps, sanitize_line

    log = AuditLog()
    try:
        entries = log.read(options.limit or None)
    except OSError as exc:
        raise UsageError(f"cannot read the audit log {log.path}: {exc.strerror}") from None
    if options.json:
        print(safe_json_dumps([e.to_dict() for e in entries]))
        return ExitCode.OK
    if not entries:
        print(sanitize_line(f"no audit entries in {log.path}"), file=sys.stderr)
        return ExitCode.OK
    headers = ["WHEN", "WHO", "ACTION", "TARGET", "OUTCOME", "WHERE"]
    rows = [[e.when, e.who, e.action, e.target, e.outcome_text, e.where] for e in entries]
    # table() sanitises every cell: targets and errors carry plugin text.
    print(table(headers, rows, use_colour()))
    return ExitCode.OK
