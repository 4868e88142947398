"""`goatui logs`: the plugins' log stream, as goatui hosts it, printed oldest first."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from goatui.cli import argtypes
from goatui.core.errors import ExitCode, GoatError, Unreachable, UsageError
from goatui.core.sanitize import sanitize_line

if TYPE_CHECKING:
    # The parser imports every command module: gRPC, the session, the log stream and
    # the output helpers load in run (issues #9, #19).
    from goatui.core.config import Config
    from goatui.core.logs import LogEntry
    from goatui.core.session import Session

DEFAULT_WINDOW_S = 2.0
# Without -f a chatty plugin must not keep the command open: stop at this many windows.
MAX_WINDOWS = 5

DESCRIPTION = """\
print the plugins' log stream (their Log calls, and stdout/stderr of launched plugins)

With plugin sockets, logs reach goatui only from plugins it hosts, so this needs
--launch (with --plugins-dir: goatui starts the plugins and is their host) or
--attach-host (goatui becomes the host of the plugins on the sockets; their host
calls stop reaching GoatFlow until it re-attaches them). Without -f it starts, prints
what arrives until nothing new has come for --for SECONDS (default 2), or 5 x SECONDS
at the latest, and exits (stopping what it launched).

With a gateway (--gateway URL), it reads GoatFlow's own log buffer (an admin token is
needed): without -f, what is there now; with -f, polling for new entries. With a fleet
(--fleet, or several --context), every gateway context's buffer, merged by time, the
plugins named as `goatui ls` names them; a context that fails is named on stderr.

With -f: keeps printing until Ctrl-C.

Levels: debug < info < warn < error; stdout/stderr lines count as info; `warning` is
accepted for warn."""

_LEVEL_COLOURS = {"debug": "2", "warn": "33", "warning": "33", "error": "31;1", "stderr": "35"}


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("-f", "--follow", action="store_true", help="keep following until Ctrl-C")
    parser.add_argument(
        "--plugin", action="append", metavar="NAME", help="only this plugin's entries; repeatable"
    )
    parser.add_argument(
        "--level", metavar="LEVEL", help="minimum level: debug, info, warn or error"
    )
    parser.add_argument(
        "--grep", metavar="REGEX", help="only entries whose plugin, message or fields match"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line: timestamp, plugin, level, message, fields",
    )
    parser.add_argument(
        "--for",
        dest="window",
        type=argtypes.seconds(),
        metavar="SECONDS",
        default=DEFAULT_WINDOW_S,
        help="without -f: stop once nothing new has arrived for this long (default 2)",
    )
    parser.set_defaults(handler=run)


def format_entry(entry: LogEntry, colour: bool) -> str:
    """One line: local time, plugin, level, message, key=value fields (all sanitised)."""
    from goatui.cli.output import paint
    from goatui.core.logs import level_label, local_time

    level = paint(
        f"{level_label(entry.level):<6}", _LEVEL_COLOURS.get(entry.level.lower(), ""), colour
    )
    parts = [local_time(entry.timestamp, date=True), sanitize_line(entry.plugin), level]
    parts.append(sanitize_line(entry.message))
    if entry.fields:
        parts.append(sanitize_line(entry.fields_text()))
    return " ".join(parts)


def run(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.output import use_colour
    from goatui.core.logs import LogFilter, to_jsonl

    wanted = LogFilter(
        plugins=frozenset(options.plugin or ()),
        min_level=options.level,
        text=options.grep or "",
        regex=True,
    )
    from goatui.cli.common import build_session, run_command
    from goatui.core.backends.base import LogSource

    session = build_session(options, config)
    capabilities = session.backend.capabilities
    # Read from the backend's log buffer, unless goatui can host the plugins itself (a
    # backend that can do neither says so there).
    gateway = capabilities.logs is LogSource.BUFFER or not (
        capabilities.hosting or capabilities.in_process
    )
    hosts_some = session.to_launch or session.attach_host or capabilities.in_process
    if not (gateway or hosts_some):
        raise UsageError(
            "logs come only from plugins goatui hosts",
            "add --launch --plugins-dir DIR, --attach-host, or --wasm FILE",
        )
    colour = not options.json and use_colour()

    def show(batch: list[LogEntry]) -> None:
        lines = [
            to_jsonl(e) if options.json else format_entry(e, colour)
            for e in batch
            if wanted.matches(e)
        ]
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()

    async def main() -> int:
        # Subscribed before starting, so startup output is printed too, in order.
        queue: asyncio.Queue[list[LogEntry]] = asyncio.Queue()
        session.logs.subscribe(queue.put_nowait)
        try:
            await session.start()
            running_inside = False
            if capabilities.in_process:
                # Load the plugins goatui runs itself: their start-up output is shown,
                # and a change of their files on disk is followed (and said).
                for info in await session.backend.list_plugins():
                    if info.error:
                        failure = info.failure or GoatError(info.error)
                        session.failed(failure, f"plugin {info.name}")
                    elif session.backend.runs_inside(info.name):
                        running_inside = True
            for line in [*session.problems, *session.notices]:
                print(f"goatui: {sanitize_line(line)}", file=sys.stderr, flush=True)
            if gateway:
                return await from_gateway(session, options, queue, show)
            if not (session.hosts_anything() or running_inside):
                # Nothing more can arrive: print what did (a plugin's last words) and exit
                # with the code of what went wrong, said above.
                drain(queue)
                if session.failures:
                    return int(session.failures[0].exit_code)
                raise Unreachable("no plugins found to host", "pass --socket PATH or start one")
            started = time.monotonic()
            while True:
                timeout = None if options.follow else options.window
                try:
                    batch = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    break
                show(batch)
                if not options.follow and time.monotonic() - started > options.window * MAX_WINDOWS:
                    break
            drain(queue)
            # A plugin that could not be hosted was said at the start; without -f its
            # code is the exit code, after what the others sent (as with a fleet).
            return int(session.failures[0].exit_code) if session.failures else ExitCode.OK
        finally:
            await session.close()

    def drain(queue: asyncio.Queue[list[LogEntry]]) -> None:
        session.logs.flush()
        while not queue.empty():
            show(queue.get_nowait())

    return run_command(main, session)


async def from_gateway(
    session: Session,
    options: argparse.Namespace,
    queue: asyncio.Queue[list[LogEntry]],
    show: Callable[[list[LogEntry]], None],
) -> int:
    """GoatFlow's log buffer through the gateway (every gateway context's, in a fleet):
    once, or followed by polling."""
    from goatui.core.backends.base import store_sink

    backend = session.backend
    plugins = options.plugin or []
    # The gateway filters by one plugin at most; the rest is filtered here.
    poller = backend.log_poller(
        plugin=plugins[0] if len(plugins) == 1 else None, min_level=options.level
    )
    if poller is None:
        raise UsageError(
            f"reading logs is not available with {backend.label}",
            "only gateway contexts keep a log buffer to read",
        )
    feed = store_sink(session.logs)
    if not options.follow:
        entries, failures = await poller.poll_round()
        feed(entries)
        session.logs.flush()
        while not queue.empty():
            show(queue.get_nowait())
        for failure in failures[1:]:
            print(f"goatui: {failure.line()}", file=sys.stderr, flush=True)
        if failures:
            raise failures[0]  # printed last, with its exit code, after what was read
        return ExitCode.OK

    said: set[str] = set()

    def on_round(entries: list[dict[str, Any]], failures: list[GoatError]) -> None:
        # Each failure once while it lasts (signed out, a gateway down: every 2 s the
        # same line would bury the entries); again if it comes back after a good round.
        lines = {failure.line() for failure in failures}
        for line in sorted(lines - said):
            print(f"goatui: {line} (still polling)", file=sys.stderr, flush=True)
        said.clear()
        said.update(lines)
        feed(entries)

    async def printer() -> None:
        while True:
            show(await queue.get())

    printing = asyncio.create_task(printer())
    try:
        await poller.run(on_round)
    finally:
        printing.cancel()
    return ExitCode.OK
