"""`goatui ls`: every discovered plugin with health and latency."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from goatui.core.config import Config
    from goatui.core.models import PluginInfo, Probe
    from goatui.core.session import Session


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.add_argument(
        "--sort",
        choices=("name", "health", "latency"),  # goatui.core.models.SORT_ORDERS
        help="order: as discovered (default), by name, by health (worst first) "
        "or by latency (slowest first)",
    )
    parser.set_defaults(handler=run)


async def probe_all(session: Session) -> list[tuple[PluginInfo, Probe]]:
    plugins = await session.backend.list_plugins()
    probes = await session.backend.probe_all(plugins)
    return list(zip(plugins, probes, strict=True))


def run(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.common import build_session, run_in_session
    from goatui.cli.output import health_word, table_lines, use_colour
    from goatui.core.errors import ExitCode
    from goatui.core.sanitize import safe_json_dumps

    session = build_session(options, config)

    async def work() -> int:
        found = await probe_all(session)
        if options.sort:
            from goatui.core.models import sort_key

            found.sort(
                key=lambda pair: sort_key(
                    options.sort, pair[0].name, pair[1].health.value, pair[1].latency_ms
                )
            )
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
                    "manifest_error": p.manifest_problem or None,
                }
                for p, probe in found
            ]
            print(safe_json_dumps(rows))
            return ExitCode.OK
        if not found:
            print("no plugins found; pass --socket PATH or start one", file=sys.stderr)
            return ExitCode.OK
        colour = use_colour()
        headers = ["NAME", "VERSION", "HEALTH", "LATENCY", "TARGET", "NOTE"]
        # A fleet (several contexts) says where each plugin lives.
        fleet = any(p.where for p, _ in found)
        if fleet:
            headers.insert(1, "WHERE")
        cells: list[list[str]] = []
        for p, probe in found:
            latency = "-" if probe.latency_ms is None else f"{probe.latency_ms:.1f} ms"
            cells.append(
                [
                    p.name,
                    *([p.where] if fleet else []),
                    p.version or "-",
                    probe.health.value,
                    latency,
                    p.target,
                    # A manifest that cannot be used is noted when nothing worse is.
                    p.error or probe.error or p.manifest_problem or probe.health.meaning,
                ]
            )
        lines = table_lines(headers, cells, colour)
        out = sys.stdout
        out.write(next(lines) + "\n")
        for line, (_, probe) in zip(lines, found, strict=True):
            if colour:
                # Coloured after alignment (widths count visible text only).
                line = line.replace(probe.health.value, health_word(probe.health, True), 1)
            out.write(line + "\n")
        return ExitCode.OK

    return run_in_session(session, work)
