"""`goatui enable NAME` / `goatui disable NAME`: a gateway admin switching a plugin."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from goatui.core.errors import ExitCode, UsageError
from goatui.core.sanitize import sanitize_line

if TYPE_CHECKING:
    from goatui.core.config import Config


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    """`enable` and `disable`."""
    parser.add_argument("plugin", help="the plugin's name")
    parser.add_argument(
        "-y", "--yes", action="store_true", help="do not ask (needed when not on a terminal)"
    )
    parser.set_defaults(handler=run, enable=name == "enable")


def confirm(question: str) -> bool:
    """Ask on the terminal; without one, only --yes may confirm (scripts must be explicit)."""
    if not sys.stdin.isatty():
        raise UsageError("not confirmed: stdin is not a terminal", "pass --yes")
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def run(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.common import build_session, run_in_session

    verb = "enable" if options.enable else "disable"
    if options.read_only or config.read_only:
        raise UsageError(f"--read-only: refusing to {verb} {options.plugin!r}")
    session = build_session(options, config)
    if not session.backend.capabilities.enable_disable:
        raise UsageError(f"{verb} works through a gateway", "pass --gateway URL or --context NAME")
    plugin = sanitize_line(options.plugin)
    if not options.yes and not confirm(f"{verb} plugin {plugin} on {session.backend.label}?"):
        print("not changed", file=sys.stderr)
        return int(ExitCode.USAGE)

    async def work() -> int:
        from goatui.core.audit import audited

        def warn(problem: str) -> None:
            print(f"goatui: warning: {problem}", file=sys.stderr)

        with audited(verb, options.plugin, where=session.backend.label, on_problem=warn):
            status = await session.backend.set_enabled(options.plugin, options.enable)
        print(f"{plugin}: {sanitize_line(status)}")
        return ExitCode.OK

    return run_in_session(session, work)
