"""goatui's command line. Imports no Textual: scripts start fast; the console loads lazily."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from goatui.core.errors import ExitCode, GoatError


def main(argv: Sequence[str] | None = None) -> int:
    from goatui.cli.parser import build_parser

    options = build_parser().parse_args(argv)
    # SIGTERM and SIGHUP (the SSH session dropping) end goatui like Ctrl-C does, so
    # cleanup (launched plugins, sockets, the runtime dir) runs.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    try:
        from goatui.cli.common import build_session, load_options_config, open_console

        config = load_options_config(options)
        handler = getattr(options, "handler", None)
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
