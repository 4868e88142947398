"""Printing for the CLI: plain when piped, coloured on a terminal, always sanitised."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import TextIO

from goatui.core.calls.results import EMPTY_RESULT, ResultView
from goatui.core.models import Health
from goatui.core.sanitize import sanitize_line

_HEALTH_COLOURS = {
    Health.SERVING: "32",
    Health.ENABLED: "32",
    Health.NOT_SERVING: "31",
    Health.UNREACHABLE: "31;1",
    Health.DISABLED: "33",
    Health.NOT_LOADED: "2",  # dim: not started yet, nothing wrong
    Health.UNKNOWN: "33",
    Health.SERVICE_UNKNOWN: "33",
}


def use_colour(stream: TextIO | None = None) -> bool:
    # Looked up at call time: sys.stdout may have been replaced since import.
    stream = stream or sys.stdout
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def paint(text: str, sgr: str, colour: bool) -> str:
    return f"\x1b[{sgr}m{text}\x1b[0m" if colour and sgr else text


def health_word(health: Health, colour: bool) -> str:
    return paint(health.value, _HEALTH_COLOURS.get(health, ""), colour)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], colour: bool) -> str:
    """Aligned columns; cells are sanitised to one line here, so callers pass raw text."""
    return "\n".join(table_lines(headers, rows, colour))


def table_lines(
    headers: Sequence[str], rows: Sequence[Sequence[str]], colour: bool
) -> Iterator[str]:
    """The lines of `table`, made as they are written: a list of 10,000 plugins is not
    held a second time as text."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(sanitize_line(c))) for w, c in zip(widths, row, strict=True)]
    head = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    yield paint(head, "1", colour)
    for row in rows:
        cells = (sanitize_line(c).ljust(w) for c, w in zip(row, widths, strict=True))
        yield "  ".join(cells).rstrip()


def print_result(view: ResultView, stream: TextIO | None = None) -> None:
    """A call's result: JSON highlighted on a terminal, text as text, bytes as hex; an
    empty result prints nothing, and says so on stderr."""
    stream = stream or sys.stdout
    if view.kind == "empty":
        print(f"goatui: {EMPTY_RESULT}", file=sys.stderr)
        return
    if view.kind == "json" and use_colour(stream):
        # Rich only when a person is looking: scripts do not pay for its import.
        from rich.console import Console
        from rich.syntax import Syntax

        if view.size <= 2 * 1024 * 1024:
            Console(file=stream, soft_wrap=True).print(
                Syntax(view.text, "json", theme="ansi_dark", background_color="default")
            )
            return
    stream.write(view.text)
    if not view.text.endswith("\n"):
        stream.write("\n")
