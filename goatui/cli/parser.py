"""The command line: `goatui [options] [COMMAND]` with no command opening the console."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from functools import partial
from typing import Any

from goatui import __version__
from goatui.cli import argtypes
from goatui.core.config import CONFIG_ENV, config_path

EPILOG = f"""\
environment:
  GOATFLOW_PLUGIN_SOCKET  plugin socket(s) to use, ':'-separated (default: every
                          /tmp/goatflow-plugin-*.sock)
  {CONFIG_ENV:<22}  config file (default: {config_path()})
  GOATFLOW_URL            GoatFlow's URL: use its plugin REST API (as --gateway)
  GOATFLOW_TOKEN          bearer token for the gateway (or --token-file FILE; else the
                          sign-in `goatui login` keeps for that gateway)
  NO_COLOR                plain output

exit codes:
  0 ok · 1 the plugin or gateway answered with an error · 2 usage or invalid input
  (nothing was sent) · 3 unreachable or timed out · 4 authentication or permission refused
  · 128+N ended by signal N, after stopping what it started (143 SIGTERM, 129 SIGHUP,
  130 Ctrl-C)
"""


# Every command: its module (goatui/cli/cmd_*.py, whose `add_arguments(name, parser)`
# declares the command's arguments and sets `handler=run`) and its line of help. Only
# the command that runs has its module imported and its arguments added: a run pays for
# one command's parser, not eleven modules' (issue #19).
COMMANDS: dict[str, tuple[str, str]] = {
    "ls": ("cmd_ls", "list plugins with health and latency"),
    "call": ("cmd_call", "call a plugin's handler and print the result"),
    "demo": ("cmd_demo", "run the bundled demo plugins and open the console on them"),
    "logs": (
        "cmd_logs",
        "print the plugins' log stream (their Log calls, and stdout/stderr of launched plugins)",
    ),
    "jobs": ("cmd_jobs", "list the jobs plugins declare, with their next runs"),
    "job": ("cmd_jobs", "act on one plugin job"),
    "enable": ("cmd_admin", "enable a plugin through the gateway (needs an admin token)"),
    "disable": ("cmd_admin", "disable a plugin through the gateway (needs an admin token)"),
    "login": (
        "cmd_login",
        "sign in to GoatFlow (POST /api/v1/auth/login) and keep the sign-in for this gateway",
    ),
    "logout": (
        "cmd_login",
        "forget the sign-in kept for a gateway (--gateway URL, --context NAME or $GOATFLOW_URL)",
    ),
    "widget": ("cmd_widget", "render a plugin's dashboard widget in the terminal"),
    "health": (
        "cmd_health",
        "check that plugins are up: a readiness check for scripts (like grpc-health-probe)",
    ),
    "audit": ("cmd_audit", "show the audit log of calls, job runs and other changes"),
    "completion": ("cmd_completion", "print a shell completion script (bash, zsh or fish)"),
}
#: Commands that take none of the options every other command takes.
WITHOUT_COMMON = frozenset({"completion"})


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._showing = False
        super().__init__(*args, **kwargs)
        self._deferred: list[tuple[int, Callable[[], None]]] = []

    def defer(self, setup: Callable[[], None]) -> None:
        """Run setup (which adds arguments) only if this parser is used.

        Every command's subparser takes the common options, ~20 arguments each: adding
        them to all of them cost more than the one command a run uses (issue #9). The
        arguments setup adds are placed where they would have been had it run now, so
        usage and help read the same. argparse's `_actions` and its handing a command to
        the subparser's `parse_known_args` are private: tests/test_private_internals.py.
        """
        self._deferred.append((len(self._actions), setup))

    def finish(self) -> None:
        """Add what `defer` put off now (shell completion lists every option)."""
        self._run_deferred()

    def _run_deferred(self) -> None:
        while self._deferred:
            position, setup = self._deferred.pop(0)
            before = len(self._actions)
            setup()
            added = self._actions[before:]
            del self._actions[before:]
            self._actions[position:position] = added

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        # argparse hands a subcommand's arguments to its parser through this method.
        self._run_deferred()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._run_deferred()
        self._showing = True
        return super().format_usage()

    def format_help(self) -> str:
        self._run_deferred()
        self._showing = True
        return super().format_help()

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument, only to check that the
        # argument can be shown; the formatter asks the terminal's width, which
        # imports shutil (and bz2 and lzma). The width matters only for what is shown.
        if self._showing:
            return super()._get_formatter()
        formatter: Any = self.formatter_class
        return formatter(prog=self.prog, width=80)  # type: ignore[no-any-return]

    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and exit 2, like every other usage error; argparse quotes what was
        # typed, which may hold a newline or an escape sequence.
        from goatui.core.sanitize import sanitize_line

        self.exit(2, f"goatui: {sanitize_line(message)}; see `{sanitize_line(self.prog)} --help`\n")


class _RefuseToken(argparse.Action):
    """`--token VALUE`: refused without echoing VALUE (argparse would, and argv shows in ps)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        parser.error(
            "a token is never taken on the command line (ps and shell history keep it); "
            "use GOATFLOW_TOKEN, --token-file FILE, or sign in with goatui login"
        )


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
        help="GoatFlow plugins dir: DIR/<name>/manifest.json for manifests, and its *.wasm "
        "plugins, which goatui runs itself",
    )
    group.add_argument(
        "--wasm",
        action="append",
        metavar="FILE",
        default=default([]),
        help="a WebAssembly plugin (.wasm) to run inside goatui, as GoatFlow would; repeatable",
    )
    group.add_argument(
        "--config", metavar="FILE", default=default(None), help="config file to read"
    )
    group.add_argument(
        "--timeout",
        type=argtypes.seconds(),
        metavar="SECONDS",
        default=default(None),
        help="deadline for each call (default 30, at most 86400)",
    )
    group.add_argument(
        "--max-message-mb",
        type=argtypes.message_mb,
        metavar="MB",
        default=default(None),
        help="largest result (and args) accepted, in MiB (default 64, at most 2047)",
    )
    group.add_argument(
        "--read-only",
        action="store_true",
        default=default(False),
        help="disable invoking, job triggers and other changes in the console",
    )

    gateway = parser.add_argument_group("through GoatFlow's plugin REST API (the gateway)")
    gateway.add_argument(
        "--gateway",
        metavar="URL",
        default=default(None),
        help="GoatFlow's URL; every command and view goes through its plugin API "
        "(default $GOATFLOW_URL)",
    )
    gateway.add_argument(
        "--context",
        action="append",
        metavar="NAME",
        default=default(None),
        help="a [contexts.NAME] table of the config file (a gateway or sockets); "
        "repeat it to see several contexts as one fleet",
    )
    gateway.add_argument(
        "--fleet",
        action="store_true",
        default=default(False),
        help="every context of the config file at once (names shared by several "
        "contexts become NAME@CONTEXT)",
    )
    gateway.add_argument(
        "--token-file",
        metavar="FILE",
        default=default(None),
        help="bearer token file, mode 0600 (default $GOATFLOW_TOKEN, else the sign-in "
        "`goatui login` keeps)",
    )
    gateway.add_argument(
        "--ca-cert", metavar="FILE", default=default(None), help="trust this CA for the gateway"
    )
    gateway.add_argument(
        "--insecure",
        action="store_true",
        default=default(False),
        help="do not verify the gateway's TLS certificate (warns)",
    )
    # Exact match for --token, so argparse does not take it as an abbreviation of --token-file.
    gateway.add_argument("--token", nargs="?", action=_RefuseToken, help=argparse.SUPPRESS)

    hosting = parser.add_argument_group("goatui as the plugins' host (HostService)")
    hosting.add_argument(
        "--launch",
        action="store_true",
        default=default(False),
        help="start every grpc plugin in --plugins-dir as GoatFlow does; goatui is their host",
    )
    hosting.add_argument(
        "--attach-host",
        action="store_true",
        default=default(False),
        help="make goatui the host of the plugins found on sockets (SetHost): their logs, "
        "cache, config and DB calls come here and stop reaching GoatFlow until it "
        "re-attaches them",
    )
    hosting.add_argument(
        "--db",
        metavar="FILE",
        default=default(None),
        help="SQLite file the host answers DBQuery/DBExec (and WASM db_query/db_exec) from",
    )
    hosting.add_argument(
        "--allow-http",
        action="store_true",
        default=default(False),
        help="let WASM plugins make HTTP requests (http_request); refused otherwise",
    )


def build_parser() -> Parser:
    parser = Parser(
        prog="goatui",
        description="A terminal admin console for GoatFlow's plugins (gRPC and WebAssembly). "
        "With no command, opens the console.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"goatui {__version__}")
    add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (module, help_text) in COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # Its own arguments first, then the common ones before them: as if added now.
        sub.defer(partial(_add_arguments, module, name, sub))
        if name not in WITHOUT_COMMON:
            sub.defer(partial(add_common, sub, top=False))
    return parser


def _add_arguments(module: str, name: str, parser: argparse.ArgumentParser) -> None:
    importlib.import_module(f"goatui.cli.{module}").add_arguments(name, parser)
