"""What every command shares: config, the Session the options name, deadlines."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from goatui.core.backend import SocketBackend
from goatui.core.config import Config, load_config
from goatui.core.discovery import Sources
from goatui.core.errors import UsageError
from goatui.core.session import Session


def load_options_config(options: argparse.Namespace) -> Config:
    return load_config(Path(options.config) if options.config else None)


def build_session(options: argparse.Namespace, config: Config) -> Session:
    """The backend the options and config name, in a Session."""
    plugins_dir = options.plugins_dir or config.plugins_dir
    sources = Sources.resolve(
        sockets=[*options.socket, *config.sockets], globs=config.globs, plugins_dir=plugins_dir
    )
    backend = SocketBackend(sources, max_message_mb=max_message_mb(options, config))
    return Session(backend=backend, config=config, read_only=options.read_only or config.read_only)


def max_message_mb(options: argparse.Namespace, config: Config) -> int:
    value = options.max_message_mb or config.max_message_mb
    if value <= 0:
        raise UsageError("--max-message-mb must be a positive number of MiB")
    return int(value)


def call_timeout(options: argparse.Namespace, config: Config) -> float:
    value = options.timeout if options.timeout is not None else config.timeout
    if value <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    return float(value)


def run_in_session(session: Session, work: Callable[[], Awaitable[int]]) -> int:
    async def runner() -> int:
        try:
            await session.start()
            return await work()
        finally:
            await session.close()

    return asyncio.run(runner())


def open_console(session: Session) -> int:
    """Hand the session to the Textual console (imported only now: the CLI stays light)."""
    from goatui.ui.app import run_console

    return run_console(session)
