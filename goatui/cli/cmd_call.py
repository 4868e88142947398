"""`goatui call PLUGIN FUNCTION [ARGS]`: call a handler and print the result."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from goatui.core.errors import UsageError

if TYPE_CHECKING:
    from goatui.cli.parser import CommandFactory
    from goatui.core.config import Config


def add_parser(command: CommandFactory) -> None:
    parser = command("call", "call a plugin's handler and print the result")
    parser.add_argument("plugin", help="the plugin's registered name")
    parser.add_argument("function", help="the handler to call")
    parser.add_argument(
        "args",
        nargs="?",
        default="{}",
        help="JSON args: the text, - for stdin, or @FILE (default {})",
    )
    parser.set_defaults(handler=run)


def read_call_args(spec: str) -> tuple[str, str]:
    """The args text and where it came from: literal JSON, `-` (stdin) or `@FILE`."""
    if spec == "-":
        return sys.stdin.read(), "stdin"
    if spec.startswith("@"):
        path = spec[1:]
        try:
            return Path(path).read_text(encoding="utf-8"), path
        except OSError as exc:
            raise UsageError(f"cannot read args file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"args file {path} is not UTF-8 text") from None
    return spec, "args"


def run(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.common import build_session, call_timeout, run_in_session
    from goatui.cli.output import print_result
    from goatui.core.errors import ExitCode
    from goatui.core.results import classify_result, parse_args

    text, source = read_call_args(options.args)
    args = parse_args(text, source)
    timeout = call_timeout(options, config)
    session = build_session(options, config)

    async def work() -> int:
        result = await session.backend.call(options.plugin, options.function, args, timeout)
        print_result(classify_result(result.data))
        return ExitCode.OK

    return run_in_session(session, work)
