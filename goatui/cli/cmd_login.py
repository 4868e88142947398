"""`goatui login` / `goatui logout`: a GoatFlow sign-in kept for a gateway.

The password is asked without echo on the terminal, or read from stdin with
--password-stdin; never from an option or the environment (ps, shell history and
/proc/PID/environ would keep it). The tokens GoatFlow gives go to goatui's state
directory (file 0600, directory 0700), one file per gateway, and are refreshed there
as they expire (goatui.core.backends.gateway.signin).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from goatui.core.errors import ExitCode, UsageError
from goatui.core.sanitize import sanitize_line

if TYPE_CHECKING:
    from goatui.core.backends.base import Backend
    from goatui.core.config import Config

LOGIN_DESCRIPTION = """\
sign in to GoatFlow (POST /api/v1/auth/login) and keep the sign-in for this gateway

The gateway is --gateway URL, --context NAME or $GOATFLOW_URL. The login is --user
LOGIN, else asked on the terminal; the password is asked without echo, or read from
stdin with --password-stdin (never from an option or the environment). GoatFlow's
tokens are kept in goatui's state directory (file 0600, directory 0700) and used by
every command and the console for that gateway, refreshed before they expire (15
minutes in GoatFlow). Explicit tokens still win: --token-file, a context's
token_file, then $GOATFLOW_TOKEN, then this sign-in.

GoatFlow gives refreshed tokens no admin rights: after the first refresh, admin
actions (logs, enable, disable) need `goatui login` again."""

LOGOUT_DESCRIPTION = """\
forget the sign-in kept for a gateway (--gateway URL, --context NAME or $GOATFLOW_URL)"""

# A password is a line, not a file: refuse to read more than this from stdin.
_PASSWORD_MAX = 4096


class _RefusePassword(argparse.Action):
    """`--password VALUE`: refused without echoing VALUE (argv shows in ps)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        parser.error(
            "a password is never taken on the command line (ps and shell history keep it); "
            "it is asked without echo, or read from stdin with --password-stdin"
        )


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    """`login` and `logout`."""
    if name == "logout":
        parser.description = LOGOUT_DESCRIPTION
        parser.set_defaults(handler=run_logout)
        return
    login = parser
    login.description = LOGIN_DESCRIPTION
    login.add_argument("--user", metavar="LOGIN", help="the GoatFlow login (default: asked)")
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (one line) instead of asking",
    )
    login.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    login.set_defaults(handler=run_login)


def gateway_backend(options: argparse.Namespace, config: Config, verb: str) -> Backend:
    """The one gateway the options name (a fleet, sockets or nothing is a usage error)."""
    from goatui.cli.common import single_backend

    contexts = list(getattr(options, "context", None) or [])
    if getattr(options, "fleet", False) or len(contexts) > 1:
        raise UsageError(f"{verb} one gateway at a time", "name it with --context NAME")
    backend = single_backend(options, config, contexts[0] if contexts else None, False)
    if backend is None or not backend.sign_in_status():
        raise UsageError(
            f"{verb} needs a gateway", "pass --gateway URL or --context NAME (or set GOATFLOW_URL)"
        )
    for warning in backend.warnings:
        print(f"goatui: warning: {sanitize_line(warning)}", file=sys.stderr)
    return backend


def read_login(options: argparse.Namespace) -> str:
    if options.user:
        return str(options.user)
    if options.password_stdin or not sys.stdin.isatty():
        raise UsageError("no terminal to ask the login on", "pass --user LOGIN")
    login = input("GoatFlow login: ").strip()
    if not login:
        raise UsageError("no login given; nothing was sent")
    return login


def read_password(options: argparse.Namespace, prompt: str) -> str:
    """Without echo from the terminal, or one line from stdin (--password-stdin)."""
    if options.password_stdin:
        text = sys.stdin.read(_PASSWORD_MAX + 1)
        if len(text) > _PASSWORD_MAX:
            raise UsageError("the password on stdin is too long; nothing was sent")
        password = text.split("\n", 1)[0].removesuffix("\r")
    elif sys.stdin.isatty():
        import getpass

        password = getpass.getpass(prompt)
    else:
        raise UsageError(
            "no terminal to ask the password on (stdin is not one)",
            "pipe it in with --password-stdin",
        )
    if not password:
        raise UsageError("no password given; nothing was sent")
    return password


def run_login(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.common import run_in_session
    from goatui.core.session import Session

    backend = gateway_backend(options, config, "signing in")
    [before] = backend.sign_in_status()
    gateway = before.gateway
    login = read_login(options)
    password = read_password(options, f"Password for {login} at {gateway}: ")
    session = Session(backend=backend, config=config)

    async def work() -> int:
        from goatui.core.audit import audited

        def warn(problem: str) -> None:
            print(f"goatui: warning: {problem}", file=sys.stderr)

        with audited("login", login, where=backend.label, on_problem=warn):
            status = await backend.sign_in(login, password, gateway=gateway)
        role = "an admin" if status.admin else "not an admin"
        print(f"signed in to {gateway} as {sanitize_line(status.user)} ({role})")
        if before.kind == "token":
            print(
                "goatui: note: an explicit token (--token-file, the context's token_file "
                "or $GOATFLOW_TOKEN) is set and is used before this sign-in",
                file=sys.stderr,
            )
        return ExitCode.OK

    return run_in_session(session, work)


def run_logout(options: argparse.Namespace, config: Config) -> int:
    from goatui.core.audit import audited

    backend = gateway_backend(options, config, "signing out")
    [status] = backend.sign_in_status()

    def warn(problem: str) -> None:
        print(f"goatui: warning: {problem}", file=sys.stderr)

    with audited("logout", status.user or "-", where=backend.label, on_problem=warn):
        forgotten = backend.sign_out(gateway=status.gateway)
    if forgotten:
        print(f"signed out of {status.gateway}: its stored sign-in is forgotten")
    else:
        print(f"not signed in to {status.gateway}: nothing to forget", file=sys.stderr)
    return ExitCode.OK
