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
    options = build_parser().parse_args(argv)
    # SIGTERM and SIGHUP (the SSH session dropping) end goatui like Ctrl-C does, so
    # cleanup (launched plugins, sockets, the runtime dir) runs.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    try:
        from goatui.cli.common import build_session, load_options_config, open_console

        config = load_options_config(options)
        handler = getattr(options, "handler", None)
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
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `goatui ls | head`: the reader left; not an error worth a traceback.
        sys.stderr.close()
        return int(ExitCode.OK)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
