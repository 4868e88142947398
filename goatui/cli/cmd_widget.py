"""`goatui widget PLUGIN WIDGET_ID`: render a plugin's dashboard widget as terminal text."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from goatui.cli import argtypes

if TYPE_CHECKING:
    from goatui.core.config import Config

DESCRIPTION = """\
render a plugin's widget as GoatFlow does (its handler called with {}), as text.
The result may be {"html": "..."} or raw HTML; anything else is an error (exit 1).
Colour on a terminal, plain text when piped; --html prints the HTML itself."""


# Wider than any terminal; a typo such as 10**9 would lay out a gigabyte of spaces.
MAX_WIDTH = 10_000


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("plugin", help="the plugin's registered name")
    parser.add_argument("widget_id", help="the widget's id in the plugin's manifest")
    parser.add_argument(
        "--width",
        type=argtypes.count(low=1, high=MAX_WIDTH, unit="columns"),
        metavar="N",
        help="lay the text out to N columns (default: the terminal's width, else 80)",
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="print the widget's HTML instead (control characters shown escaped)",
    )
    parser.set_defaults(handler=run)


def output_width(requested: int | None) -> int:
    if requested is not None:
        return requested
    import shutil  # not at the top: it drags in bz2 and lzma for every command

    # COLUMNS, else the terminal stdout is on, else 80 (piped).
    return shutil.get_terminal_size((80, 24)).columns


def run(options: argparse.Namespace, config: Config) -> int:
    # The HTML renderer (Rich, html.parser) only for this command (issue #9).
    from goatui.cli.common import build_session, call_timeout, run_in_session
    from goatui.cli.output import use_colour
    from goatui.core.errors import ExitCode
    from goatui.core.sanitize import sanitize, sanitize_line
    from goatui.core.widgets.dashboard import list_widgets, widget_html
    from goatui.core.widgets.html_render import html_to_ansi, html_to_text

    timeout = call_timeout(options, config)
    session = build_session(options, config)

    async def work() -> int:
        listing = await list_widgets(session.backend)
        spec = listing.find(options.plugin, options.widget_id)
        html, _duration = await widget_html(session.backend, spec, timeout)
        # sys.stdout looked up now: tests (and callers) may have replaced it.
        stream = sys.stdout
        if options.html:
            text = sanitize(html.replace("\r\n", "\n"))
        elif use_colour(stream):
            text = html_to_ansi(html, output_width(options.width))
        else:
            text = html_to_text(html, output_width(options.width))
        if not text.strip():
            title = sanitize_line(spec.display_title)
            print(f"goatui: note: widget {title} rendered empty", file=sys.stderr)
            return ExitCode.OK
        stream.write(text if text.endswith("\n") else text + "\n")
        return ExitCode.OK

    return run_in_session(session, work)
