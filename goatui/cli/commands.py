"""The CLI commands: each builds a Session, does one thing, and returns an exit code."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from goatui.cli.output import health_word, print_result, table, use_colour
from goatui.core.backend import SocketBackend
from goatui.core.config import Config, load_config
from goatui.core.discovery import Sources, read_plugins_dir
from goatui.core.errors import ExitCode, UsageError
from goatui.core.models import PluginInfo, Probe
from goatui.core.results import classify_result, parse_args
from goatui.core.session import Session

DEMO_PLUGINS_DIR = Path(__file__).resolve().parent.parent / "demo" / "plugins"


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


# -- ls -------------------------------------------------------------------------------


async def probe_all(session: Session) -> list[tuple[PluginInfo, Probe]]:
    plugins = await session.backend.list_plugins()
    probes = await asyncio.gather(*(session.backend.probe(p) for p in plugins))
    return list(zip(plugins, probes, strict=True))


def cmd_ls(options: argparse.Namespace, config: Config) -> int:
    session = build_session(options, config)

    async def work() -> int:
        found = await probe_all(session)
        if options.json:
            rows = [
                {
                    "name": p.name,
                    "version": p.version,
                    "description": p.description,
                    "health": probe.health.value,
                    "latency_ms": None if probe.latency_ms is None else round(probe.latency_ms, 3),
                    "target": p.target,
                    "where": p.where or session.backend.label,
                    "manifest": p.manifest.source if p.manifest else None,
                    "error": p.error or probe.error or None,
                }
                for p, probe in found
            ]
            from goatui.core.sanitize import safe_json_dumps

            print(safe_json_dumps(rows))
            return ExitCode.OK
        if not found:
            print("no plugins found; pass --socket PATH or start one", file=sys.stderr)
            return ExitCode.OK
        colour = use_colour()
        headers = ["NAME", "VERSION", "HEALTH", "LATENCY", "TARGET", "NOTE"]
        rows = []
        for p, probe in found:
            latency = "-" if probe.latency_ms is None else f"{probe.latency_ms:.1f} ms"
            rows.append(
                [
                    p.name,
                    p.version or "-",
                    probe.health.value,
                    latency,
                    p.target,
                    p.error or probe.error,
                ]
            )
        text = table(headers, rows, colour)
        if colour:
            # Colour the health words after alignment (widths count visible text only).
            lines = text.split("\n")
            for i, (_, probe) in enumerate(found, start=1):
                lines[i] = lines[i].replace(probe.health.value, health_word(probe.health, True), 1)
            text = "\n".join(lines)
        print(text)
        return ExitCode.OK

    return run_in_session(session, work)


# -- call -----------------------------------------------------------------------------


def read_call_args(spec: str) -> tuple[str, str]:
    """The args text and where it came from: literal JSON, `-` (stdin) or `@FILE`."""
    if spec == "-":
        return sys.stdin.read(), "stdin"
    if spec.startswith("@"):
        path = spec[1:]
        try:
            return Path(path).read_text(encoding="utf-8"), path
        except OSError as exc:
            raise UsageError(f"cannot read args file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"args file {path} is not UTF-8 text") from None
    return spec, "args"


def cmd_call(options: argparse.Namespace, config: Config) -> int:
    text, source = read_call_args(options.args)
    args = parse_args(text, source)
    timeout = call_timeout(options, config)
    session = build_session(options, config)

    async def work() -> int:
        result = await session.backend.call(options.plugin, options.function, args, timeout)
        print_result(classify_result(result.data))
        return ExitCode.OK

    return run_in_session(session, work)


# -- demo -----------------------------------------------------------------------------


def demo_session(options: argparse.Namespace, config: Config) -> Session:
    installed = read_plugins_dir(str(DEMO_PLUGINS_DIR))
    sources = Sources(sockets=[], globs=[], plugins_dir=str(DEMO_PLUGINS_DIR))
    backend = SocketBackend(sources, max_message_mb=max_message_mb(options, config))
    return Session(
        backend=backend,
        config=config,
        read_only=options.read_only or config.read_only,
        to_launch=list(installed.values()),
    )


def cmd_demo(options: argparse.Namespace, config: Config) -> int:
    session = demo_session(options, config)
    if not options.no_ui:
        return open_console(session)

    async def work() -> int:
        for problem in session.problems:
            print(f"goatui: {problem}", file=sys.stderr)
        assert session.launcher is not None
        for launched in session.launcher.plugins.values():
            print(f"{launched.name}\tunix://{launched.socket}", flush=True)
        print("demo plugins running; Ctrl-C stops them", file=sys.stderr, flush=True)
        while True:
            await asyncio.sleep(3600)

    return run_in_session(session, work)


# -- the console ----------------------------------------------------------------------


def open_console(session: Session) -> int:
    from goatui.ui.app import run_console

    return run_console(session)


def cmd_console(options: argparse.Namespace, config: Config) -> int:
    return open_console(build_session(options, config))


COMMANDS: dict[str | None, Callable[[argparse.Namespace, Config], int]] = {
    None: cmd_console,
    "ls": cmd_ls,
    "call": cmd_call,
    "demo": cmd_demo,
}


def run(options: argparse.Namespace) -> int:
    config = load_options_config(options)
    return int(COMMANDS[options.command](options, config))
