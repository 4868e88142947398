"""`goatui demo`: the bundled demo plugins, launched as GoatFlow would, with the console.

Three gRPC plugins goatui launches (and hosts), one WebAssembly plugin it runs itself,
and, unless --db names one, a small ticket database for their host to answer from."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from goatui.core.config import Config
    from goatui.core.session import Session

DEMO_PLUGINS_DIR = Path(__file__).resolve().parent.parent / "demo" / "plugins"
DEMO_WASM = DEMO_PLUGINS_DIR.parent / "wasm" / "ticket-stats.wasm"


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-ui",
        action="store_true",
        help="only run the plugins and print their sockets until Ctrl-C",
    )
    parser.set_defaults(handler=run)


def demo_session(options: argparse.Namespace, config: Config) -> Session:
    from goatui.cli.common import call_timeout, max_message_mb
    from goatui.core.backends.contexts import launched_only_backend, with_wasm
    from goatui.core.backends.sockets.discovery import read_plugins_dir
    from goatui.core.session import Session

    installed = read_plugins_dir(str(DEMO_PLUGINS_DIR))
    sockets = launched_only_backend(
        str(DEMO_PLUGINS_DIR), max_message_mb=max_message_mb(options, config)
    )
    # And a WebAssembly plugin, which goatui runs itself.
    backend = with_wasm(
        sockets,
        [str(DEMO_WASM)],
        None,
        config,
        allow_http=bool(getattr(options, "allow_http", False)),
        timeout=call_timeout(options, config),
    )
    assert backend is not None
    session = Session(
        backend=backend,
        config=config,
        read_only=options.read_only or config.read_only,
        to_launch=list(installed.values()),
    )
    # Only --db of the hosting options: the demo launches its own plugins, always.
    if getattr(options, "db", None):
        from argparse import Namespace

        from goatui.cli.common import apply_hosting

        apply_hosting(session, Namespace(db=options.db), None)
    else:
        session.db_path = demo_database(session.private_dir())
    return session


def demo_database(directory: Path) -> Path:
    """A small ticket database for the demo's host (goatui removes it on exit)."""
    import sqlite3

    path = directory / "demo.db"
    counts = {"new": 3, "open": 9, "pending": 2, "closed": 41}
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, status TEXT, title TEXT)")
        db.executemany(
            "INSERT INTO tickets (status, title) VALUES (?, ?)",
            [(status, f"{status} ticket {n}") for status, k in counts.items() for n in range(k)],
        )
    return path


def run(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.common import open_console, run_in_session
    from goatui.core.sanitize import sanitize_line

    session = demo_session(options, config)
    if not options.no_ui:
        return open_console(session)

    async def work() -> int:
        for problem in session.problems:
            print(f"goatui: {sanitize_line(problem)}", file=sys.stderr)
        assert session.launcher is not None
        for launched in session.launcher.plugins.values():
            print(f"{launched.name}\tunix://{launched.socket}", flush=True)
        print("demo plugins running; Ctrl-C stops them", file=sys.stderr, flush=True)
        while True:
            await asyncio.sleep(3600)

    return run_in_session(session, work)
