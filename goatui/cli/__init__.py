"""goatui's command line. Imports no Textual: scripts start fast; the console loads lazily."""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Sequence

from goatui.core.errors import ExitCode, GoatError


def main(argv: Sequence[str] | None = None) -> int:
    # Run as the program (argv from sys.argv), not called in-process as tests do.
    as_program = argv is None
    if as_program:
        # Importing gRPC, protobuf and asyncio makes ~10^5 objects that live as long as
        # the process: collecting while they are made, and walking them again at every
        # later collection and at exit, was ~15% of a `goatui call` (issue #9).
        gc.disable()
    from goatui.cli.parser import build_parser
    from goatui.core.secrets import register_environment_token

    register_environment_token()
    arguments = list(sys.argv[1:] if argv is None else argv)
    problem = not_utf8(arguments)
    if problem:
        print(f"goatui: {problem}", file=sys.stderr)
        return int(ExitCode.USAGE)
    options = build_parser().parse_args(arguments)
    # SIGTERM and SIGHUP (the SSH session dropping) end goatui like Ctrl-C does. Until
    # a command's event loop runs, nothing needs cleaning up and an exception will do;
    # once it runs, its own handlers end it through the loop (goatui.core.signals).
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` stays in force
            signal.signal(signum, _raise_interrupt)
    handler = getattr(options, "handler", None)
    if handler is not None and not getattr(options, "needs_config", True):
        return int(handler(options, None))  # `completion`: no config, no session
    try:
        from goatui.cli.common import build_session, load_options_config, open_console

        config = load_options_config(options)
        if as_program:
            if handler is None:
                # The console: Textual and the views load under the same rule.
                import goatui.ui.app  # noqa: F401
            gc.freeze()  # what is loaded now stays; the collector skips it from here on
            gc.enable()
        if handler is None:
            return open_console(build_session(options, config))
        return int(handler(options, config))
    except GoatError as exc:
        print(f"goatui: {exc.line()}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt as interrupt:
        from goatui.core.signals import exit_code_of

        return exit_code_of(getattr(interrupt, "signum", signal.SIGINT))
    except BrokenPipeError:
        # `goatui ls | head`: the reader left; not an error worth a traceback.
        sys.stderr.close()
        return int(ExitCode.OK)


class _Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def not_utf8(arguments: Sequence[str]) -> str:
    """Why an argument cannot be used ("" when all can): Python hands bytes that are not
    UTF-8 over as lone surrogates, which nothing downstream can encode."""
    for position, argument in enumerate(arguments, start=1):
        for index, ch in enumerate(argument):
            if 0xD800 <= ord(ch) <= 0xDFFF:
                byte = f"byte 0x{ord(ch) - 0xDC00:02x}" if ord(ch) >= 0xDC80 else "a surrogate"
                return (
                    f"argument {position} is not UTF-8 text ({byte} at character {index + 1}); "
                    "give goatui UTF-8 arguments"
                )
    return ""


def _raise_interrupt(signum: int, frame: object) -> None:
    raise _Interrupted(signum)
