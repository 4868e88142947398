"""`goatui jobs [PLUGIN]` lists plugin jobs; `goatui job run PLUGIN JOB_ID` runs one now."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING

from goatui.cli.parser import EPILOG, add_common
from goatui.core.errors import ExitCode
from goatui.core.sanitize import sanitize_line

if TYPE_CHECKING:
    from goatui.core.config import Config


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    """`jobs` and `job`."""
    if name == "jobs":
        parser.add_argument("plugin", nargs="?", help="only this plugin's jobs")
        parser.add_argument("--json", action="store_true", help="print a JSON array")
        parser.add_argument("--utc", action="store_true", help="times in UTC, not the local zone")
        parser.set_defaults(handler=run_list)
        return
    actions = parser.add_subparsers(dest="job_action", metavar="ACTION", required=True)
    description = (
        "run a job now, as GoatFlow would: its handler with empty args, under the job's\n"
        "timeout (--timeout overrides it). A job disabled in its manifest still runs\n"
        "when named here, with a note on stderr."
    )
    run = actions.add_parser(
        "run",
        help="run a job now and print its result",
        description=description,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(run, top=False)
    run.add_argument("plugin", help="the plugin's registered name")
    run.add_argument("job_id", help="the job's id in the plugin's manifest")
    run.add_argument(
        "--raw",
        action="store_true",
        help='print the result as the plugin sent it, even its {"error": ...} (exit 0)',
    )
    run.set_defaults(handler=run_job)


def note(text: str) -> None:
    print(f"goatui: note: {sanitize_line(text)}", file=sys.stderr)


def run_list(options: argparse.Namespace, config: Config) -> int:
    # Jobs pull in croniter and the schedule parser: only for these commands (issue #9).
    from goatui.cli.common import build_session, run_in_session
    from goatui.cli.output import table, use_colour
    from goatui.core.jobs.runs import format_timeout, job_row, list_jobs, next_run_text
    from goatui.core.jobs.zones import local_zone, utc, zone_label
    from goatui.core.sanitize import safe_json_dumps

    session = build_session(options, config)
    zone = utc() if options.utc else local_zone()

    async def work() -> int:
        listing = await list_jobs(session.backend)
        if options.plugin is not None:
            jobs = listing.of_plugin(options.plugin)
        else:
            jobs = listing.jobs
            for info in listing.unknown:
                note(f"plugin {info.name} did not answer Register ({info.error}); jobs unknown")
            lazy = sorted(p.name for p in listing.not_loaded)
            if lazy:
                note(
                    f"not loaded yet, so their jobs are not known: {', '.join(lazy)} "
                    "(GoatFlow loads a plugin on its first call)"
                )
        now = datetime.now(zone)
        if options.json:
            print(safe_json_dumps([job_row(job, now) for job in jobs]))
            return ExitCode.OK
        if not jobs:
            where = options.plugin or ("any plugin" if listing.plugins else "")
            said = f"no jobs declared by {where}" if where else "no plugins found"
            print(sanitize_line(said), file=sys.stderr)
            return ExitCode.OK
        headers = [
            "PLUGIN",
            "JOB",
            "SCHEDULE",
            "WHEN",
            f"NEXT RUN ({zone_label(zone, time.time())})",
            "TIMEOUT",
            "ENABLED",
            "DESCRIPTION",
        ]
        rows = []
        for job in jobs:
            rows.append(
                [
                    job.plugin,
                    job.id,
                    job.schedule,
                    job.parsed_schedule.describe(),
                    next_run_text(job, now),
                    format_timeout(job.timeout_s),
                    job.enabled_word,
                    job.description,
                ]
            )
            for problem in (job.field_error, job.timeout_error):
                if problem:
                    note(f"job {job.id} of {job.plugin}: {problem}")
        print(table(headers, rows, use_colour()))
        return ExitCode.OK

    return run_in_session(session, work)


def run_job(options: argparse.Namespace, config: Config) -> int:
    # The job's own timeout is the deadline; only an explicit --timeout replaces it
    # (the config's general call timeout does not apply to jobs).
    override: float | None = options.timeout  # checked by its argument type
    from goatui.cli.cmd_call import RAW_HINT
    from goatui.cli.common import build_session, run_in_session
    from goatui.cli.output import print_result
    from goatui.core.audit import audited, target
    from goatui.core.calls.results import check_result, classify_result
    from goatui.core.jobs.runs import call_job, list_jobs

    session = build_session(options, config)

    async def work() -> int:
        listing = await list_jobs(session.backend)
        job = listing.find(options.plugin, options.job_id)
        if not job.enabled:
            note(
                f"job {job.id} of {job.plugin} is {job.disabled_text}; running it because you asked"
            )
        with audited(
            "job-trigger",
            target(job.plugin, job.id),
            where=session.backend.label,
            on_problem=lambda problem: note(f"audit: {problem}"),
        ):
            result = await call_job(session.backend, job, override)
            if not options.raw:
                check_result(result, f"job {job.id} of {job.plugin}", hint=RAW_HINT)
        print_result(classify_result(result.data))
        return ExitCode.OK

    return run_in_session(session, work)
