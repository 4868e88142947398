"""What every command shares: config, the Session the options name, deadlines."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from goatui.core.backends.base import Backend
from goatui.core.backends.contexts import select_backend, sockets_backend, with_wasm
from goatui.core.backends.sockets.discovery import SOCKET_ENV, read_plugins_dir
from goatui.core.config import Config, load_config
from goatui.core.errors import UsageError
from goatui.core.sanitize import sanitize_line
from goatui.core.session import Session


def load_options_config(options: argparse.Namespace) -> Config:
    return load_config(Path(options.config) if options.config else None)


def build_session(options: argparse.Namespace, config: Config) -> Session:
    """The backend the options and config name, in a Session."""
    plugins_dir = options.plugins_dir or config.plugins_dir
    read_only = options.read_only or config.read_only
    given = wasm_files(options)
    backend = remote_backend(options, config, read_only)
    if backend is not None and given and not backend.capabilities.hosting:
        raise UsageError(
            "--wasm runs plugins inside goatui, beside plugin sockets, not with a gateway",
            "drop --wasm, or --gateway/--context/--fleet",
        )
    if backend is None or backend.capabilities.hosting:
        local = backend
        # --wasm alone names the plugins wanted: the default socket glob would mix in
        # every plugin on this machine (as with --launch).
        if local is None and not (given and not wants_sockets(options, config)):
            local = sockets_backend(
                [*options.socket, *config.sockets],
                config.globs,
                plugins_dir,
                max_message_mb=max_message_mb(options, config),
            )
        backend = with_wasm(
            local,
            [*given, *(config.wasm if backend is None else ())],
            plugins_dir,
            config,
            allow_http=bool(getattr(options, "allow_http", False)),
            timeout=call_timeout(options, config),
            max_message_mb=max_message_mb(options, config),
        )
        assert backend is not None  # given, or sockets
    session = Session(backend=backend, config=config, read_only=read_only)
    return apply_hosting(session, options, plugins_dir)


def wants_sockets(options: argparse.Namespace, config: Config) -> bool:
    """Whether the options or config name plugin sockets, or something that needs them."""
    return bool(
        options.socket
        or config.sockets
        or config.globs
        or os.environ.get(SOCKET_ENV)
        or getattr(options, "launch", False)
        or getattr(options, "attach_host", False)
    )


def wasm_files(options: argparse.Namespace) -> list[str]:
    """--wasm FILE, each checked: a missing file is a usage error, before anything runs."""
    files = list(getattr(options, "wasm", None) or [])
    for file in files:
        path = Path(file).expanduser()
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise UsageError(f"--wasm {file}: {what}", "give the path of a .wasm module")
    return files


def remote_backend(options: argparse.Namespace, config: Config, read_only: bool) -> Backend | None:
    """--gateway, --context or $GOATFLOW_URL (unless --socket); None for plain sockets.

    httpx is imported only when a gateway is actually chosen. Warnings (e.g. --insecure)
    go to stderr here; the console reads them from `backend.warnings`.
    """
    contexts = getattr(options, "context", None) or []
    contexts = [contexts] if isinstance(contexts, str) else list(contexts)
    if getattr(options, "fleet", False) or len(contexts) > 1:
        backend: Backend | None = fleet_backend(options, config, contexts, read_only)
    else:
        backend = single_backend(options, config, contexts[0] if contexts else None, read_only)
    for warning in backend.warnings if backend is not None else ():
        print(f"goatui: warning: {sanitize_line(warning)}", file=sys.stderr)
    return backend


def single_backend(
    options: argparse.Namespace, config: Config, context: str | None, read_only: bool
) -> Backend | None:
    """The one gateway or context the options name (`select_backend`), no fleet."""
    return select_backend(
        config,
        gateway=getattr(options, "gateway", None),
        context=context,
        sockets=options.socket,
        token_file=getattr(options, "token_file", None),
        ca_cert=getattr(options, "ca_cert", None),
        insecure=bool(getattr(options, "insecure", False)),
        timeout=call_timeout(options, config),
        max_message_mb=max_message_mb(options, config),
        read_only=read_only,
    )


def fleet_backend(
    options: argparse.Namespace, config: Config, contexts: list[str], read_only: bool
) -> Backend:
    """--fleet (every context of the config) or several --context: one fleet of their backends."""
    from goatui.core.backends.contexts import available_contexts, fleet_for_contexts

    if getattr(options, "gateway", None) or options.socket:
        flag = "--gateway" if getattr(options, "gateway", None) else "--socket"
        raise UsageError(f"{flag} and a fleet of contexts exclude each other", "give one")
    if getattr(options, "token_file", None):
        raise UsageError(
            "--token-file names one gateway's token, not a fleet's",
            "give each gateway context its own token_file in the config",
        )
    if getattr(options, "fleet", False):
        if contexts:
            raise UsageError("--fleet and --context exclude each other", "give one")
        contexts = [c.name for c in available_contexts(config)]
    return fleet_for_contexts(
        config,
        contexts,
        ca_cert=getattr(options, "ca_cert", None),
        insecure=bool(getattr(options, "insecure", False)),
        timeout=call_timeout(options, config),
        max_message_mb=max_message_mb(options, config),
        read_only=read_only,
    )


def apply_hosting(
    session: Session, options: argparse.Namespace, plugins_dir: str | None
) -> Session:
    """--launch, --attach-host and --db: what goatui starts and hosts itself."""
    if getattr(options, "db", None):
        db = Path(options.db).expanduser().resolve()
        if not db.parent.is_dir():
            raise UsageError(f"--db {options.db}: directory {db.parent} does not exist")
        session.db_path = db
    session.attach_host = bool(getattr(options, "attach_host", False))
    if getattr(options, "launch", False):
        from goatui.core.hosting.launcher import launchable

        if not plugins_dir:
            raise UsageError("--launch needs --plugins-dir DIR (or plugins_dir in the config)")
        session.to_launch = [p for p in read_plugins_dir(plugins_dir).values() if launchable(p)]
        if not session.to_launch:
            raise UsageError(f"--launch: no grpc plugin manifests in {plugins_dir}")
        # Launched plugins, plus only the sockets named explicitly: the default glob
        # would mix in (and with --attach-host, take over) every plugin on this machine.
        session.backend.narrow_discovery(session.config.globs)
    return session


def max_message_mb(options: argparse.Namespace, config: Config) -> int:
    """--max-message-mb, else the config's (each checked where it is read)."""
    value = options.max_message_mb
    return int(value if value is not None else config.max_message_mb)


def call_timeout(options: argparse.Namespace, config: Config) -> float:
    """--timeout, else the config's (each checked where it is read)."""
    value = options.timeout
    return float(value if value is not None else config.timeout)


def run_in_session(session: Session, work: Callable[[], Awaitable[int]]) -> int:
    async def runner() -> int:
        try:
            await session.start()
            # --attach-host took plugins from GoatFlow: say so, whatever the command.
            for notice in session.notices:
                print(f"goatui: {sanitize_line(notice)}", file=sys.stderr)
            return await work()
        finally:
            await session.close()

    return run_command(runner, session)


def run_command(main: Callable[[], Awaitable[int]], session: Session | None = None) -> int:
    """Run a command's coroutine in a fresh event loop; the one way commands use asyncio.

    SIGINT, SIGTERM and SIGHUP cancel it (its `finally` blocks run: the session closes)
    and the command exits 128 + the signal's number (goatui.core.signals).
    """
    from goatui.core.signals import SignalExit

    with SignalExit(session.abandon if session is not None else None) as signals:

        async def runner() -> int:
            task = asyncio.current_task()
            assert task is not None
            signals.deliver_to(lambda _signum: task.cancel())
            try:
                code = await main()
            except asyncio.CancelledError:
                if signals.exit_code is None:
                    raise
                return signals.exit_code
            return signals.exit_code or code

        return asyncio.run(runner())


def open_console(session: Session) -> int:
    """Hand the session to the Textual console (imported only now: the CLI stays light)."""
    from goatui.ui.app import run_console

    return run_console(session)
