"""`goatui health [PLUGIN...]`: exit 0 when every plugin is up; a readiness check for scripts."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from goatui.cli import argtypes
from goatui.core.errors import ExitCode, UsageError
from goatui.core.models import natural_key

if TYPE_CHECKING:
    from goatui.core.backends.base import Backend
    from goatui.core.config import Config
    from goatui.core.models import Health, PluginInfo, Probe

DESCRIPTION = """\
check that plugins are up: a readiness check for scripts (like grpc-health-probe)

Checks every named plugin, or every discovered one when none is named: up means
SERVING (plugin sockets) or ENABLED (through a gateway). A plugin GoatFlow has not
loaded yet (NOT_LOADED, lazy loading) counts as up, since it loads on its first call,
and its line says so; --require-loaded counts it as not up. A plugin without a health
service (UNKNOWN) is not up: its readiness cannot be known. A name also checks every
copy of it named NAME@... (a fleet's, or two sockets registering one name).

Prints one line per plugin: name, state, latency (and why, when not up); --quiet
prints none (errors still go to stderr). With --wait SECONDS it checks again every
--interval seconds until every plugin is up or the time is over, and prints the last
check only.

exit codes of health:
  0  every plugin is up
  1  a plugin answered but is not up (NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN,
     DISABLED; NOT_LOADED with --require-loaded)
  2  usage: e.g. an unknown plugin name without --wait (with --wait, goatui waits
     for it to appear)
  3  a plugin is unreachable, a named one was not found within --wait, no plugin
     was found at all, or the gateway is down
  4  the gateway refused the token
When several apply, the highest code wins."""

NOT_FOUND = "NOT_FOUND"


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("plugins", nargs="*", metavar="PLUGIN", help="plugins to check")
    parser.add_argument(
        "--wait",
        type=argtypes.seconds(allow_zero=True),
        metavar="SECONDS",
        default=0.0,
        help="keep checking until all are up, at most this long (default: check once)",
    )
    parser.add_argument(
        "--interval",
        type=argtypes.seconds(),
        metavar="SECONDS",
        default=1.0,
        help="with --wait: seconds between checks (default 1)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing; exit code only")
    parser.add_argument(
        "--require-loaded",
        action="store_true",
        help="a plugin the gateway has not loaded yet (NOT_LOADED) is not up",
    )
    parser.set_defaults(handler=run)


def matches(name: str, wanted: str) -> bool:
    """The plugin is wanted: its name, or a copy of it (`NAME@context`, `NAME@socket`)."""
    return name == wanted or name.startswith(wanted + "@")


@dataclass
class Check:
    """One round: the chosen plugins with their probes, the named ones not found, the
    exit code, and every plugin listed."""

    found: list[tuple[PluginInfo, Probe]]
    missing: list[str]
    code: int
    plugins: list[PluginInfo]


def counts_as_up(health: Health, require_loaded: bool = False) -> bool:
    """Up for a readiness check: SERVING, ENABLED, and NOT_LOADED (GoatFlow loads it
    on its first call) unless loaded is required."""
    from goatui.core.models import Health

    return health.is_up or (health is Health.NOT_LOADED and not require_loaded)


async def check_once(backend: Backend, names: list[str], require_loaded: bool = False) -> Check:
    from goatui.core.models import Health

    plugins = await backend.list_plugins()
    chosen = [p for p in plugins if not names or any(matches(p.name, n) for n in names)]
    missing = [n for n in names if not any(matches(p.name, n) for p in plugins)]
    probes = await backend.probe_all(chosen)
    found = list(zip(chosen, probes, strict=True))
    code = ExitCode.OK
    if any(
        probe.health is not Health.UNREACHABLE and not counts_as_up(probe.health, require_loaded)
        for probe in probes
    ):
        code = ExitCode.REMOTE_ERROR
    if missing or not found or any(p.health is Health.UNREACHABLE for p in probes):
        code = ExitCode.UNREACHABLE
    return Check(found, missing, code, plugins)


def unknown_names(check: Check) -> UsageError | None:
    """Named plugins that are simply not there: a typo (exit 2), not an outage.

    When some socket could not be asked its name, the missing plugin may be that one:
    then it counts as unreachable (exit 3), as `goatui call` decides.
    """
    if not check.missing or any(p.error for p in check.plugins):
        return None
    known = ", ".join(sorted((p.name for p in check.plugins), key=natural_key)) or "none found"
    names = ", ".join(repr(n) for n in check.missing)
    return UsageError(f"unknown plugin {names} (known: {known})", "or give --wait SECONDS")


def run(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.common import build_session, run_in_session

    session = build_session(options, config)

    async def work() -> int:
        check = await wait_for_health(session.backend, options.plugins, options)
        if not options.quiet:
            print_check(check, options.require_loaded)
        return check.code

    return run_in_session(session, work)


async def wait_for_health(backend: Backend, names: list[str], options: argparse.Namespace) -> Check:
    """Check once, or until up or --wait is over; the last check."""
    import asyncio
    import time

    from goatui.core.errors import Unreachable

    deadline = time.monotonic() + options.wait
    while True:
        try:
            check = await check_once(backend, names, options.require_loaded)
        except Unreachable:
            # The gateway is down (or every context is): with --wait it may come up.
            # A refused token or a usage error will not mend itself: those go at once.
            if time.monotonic() + options.interval > deadline:
                raise
        else:
            last_round = time.monotonic() + options.interval > deadline
            if not options.wait:
                error = unknown_names(check)
                if error is not None:
                    raise error
            if check.code == ExitCode.OK or last_round:
                return check
        await asyncio.sleep(options.interval)


def print_check(check: Check, require_loaded: bool = False) -> None:
    from goatui.cli.output import health_word, use_colour
    from goatui.core.sanitize import sanitize_line

    colour = use_colour()
    rows = []
    for info, probe in check.found:
        latency = "-" if probe.latency_ms is None else f"{probe.latency_ms:.1f} ms"
        note = "" if probe.health.is_up else (info.error or probe.error or probe.health.meaning)
        if counts_as_up(probe.health, require_loaded) and not probe.health.is_up:
            note = f"up: {note}"  # NOT_LOADED: it loads on its first call
        rows.append((sanitize_line(info.name), probe.health, latency, sanitize_line(note)))
    name_width = max((len(r[0]) for r in rows), default=0)
    name_width = max([name_width, *(len(sanitize_line(n)) for n in check.missing)])
    state_width = max([len(NOT_FOUND) if check.missing else 0, *(len(r[1].value) for r in rows)])
    lines = []
    for name, health, latency, note in rows:
        state = health_word(health, colour) + " " * (state_width - len(health.value))
        lines.append(f"{name:<{name_width}}  {state}  {latency:<8}  {note}".rstrip())
    for name in check.missing:
        lines.append(f"{sanitize_line(name):<{name_width}}  {NOT_FOUND:<{state_width}}  -")
    if lines:
        print("\n".join(lines))
    elif not check.found:
        print("no plugins found", file=sys.stderr)
