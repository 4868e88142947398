"""The command line: `goatui [options] [COMMAND]` with no command opening the console."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from goatui import __version__
from goatui.core.config import CONFIG_ENV, config_path

EPILOG = f"""\
environment:
  GOATFLOW_PLUGIN_SOCKET  plugin socket(s) to use, ':'-separated (default: every
                          /tmp/goatflow-plugin-*.sock)
  {CONFIG_ENV:<22}  config file (default: {config_path()})
  NO_COLOR                plain output

exit codes:
  0 ok · 1 the plugin or gateway answered with an error · 2 usage or invalid input
  (nothing was sent) · 3 unreachable or timed out · 4 authentication or permission refused
"""


# Each command lives in its own module with `add_parser(command)`, which declares its
# arguments and sets `handler=run`.
COMMAND_MODULES = ("cmd_ls", "cmd_call", "cmd_demo")

CommandFactory = Callable[[str, str], argparse.ArgumentParser]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and exit 2, like every other usage error.
        self.exit(2, f"goatui: {message}; see `{self.prog} --help`\n")


def add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options every command takes, before or after the command name.

    On subcommands the defaults are suppressed so a value given before the command
    is not overwritten by the subcommand's default.
    """

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("where the plugins are")
    group.add_argument(
        "--socket",
        action="append",
        metavar="PATH",
        default=default([]),
        help="a plugin socket (path or unix:///path); repeatable",
    )
    group.add_argument(
        "--plugins-dir",
        metavar="DIR",
        default=default(None),
        help="GoatFlow plugins dir (DIR/<name>/manifest.json) for manifests",
    )
    group.add_argument(
        "--config", metavar="FILE", default=default(None), help="config file to read"
    )
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        default=default(None),
        help="deadline for each call (default 30)",
    )
    group.add_argument(
        "--max-message-mb",
        type=int,
        metavar="MB",
        default=default(None),
        help="largest result accepted, in MiB (default 64)",
    )
    group.add_argument(
        "--read-only",
        action="store_true",
        default=default(False),
        help="disable invoking, job triggers and other changes in the console",
    )


def build_parser() -> Parser:
    parser = Parser(
        prog="goatui",
        description="A terminal admin console for GoatFlow's gRPC plugins. "
        "With no command, opens the console.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"goatui {__version__}")
    add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_common(sub, top=False)
        return sub

    for module in COMMAND_MODULES:
        importlib.import_module(f"goatui.cli.{module}").add_parser(command)
    return parser
