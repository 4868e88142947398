"""The Jobs view (key 4) in the pilot and in a snapshot, against a real plugin process.

"Now" is frozen through the monitor's clock and the zone fixed with TZ, so next-run
texts are the same on every run: Saturday 2026-10-24 23:10 in Berlin, the night the
clocks go back (the hourly job runs at 02:00 twice).
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Label, Static

from goatui.core.jobs.runs import JobRun
from goatui.core.jobs.spec import JobSpec
from goatui.core.jobs.zones import utc
from goatui.core.sanitize import has_unsafe, sanitize_line
from goatui.ui.screens.confirm import ConfirmScreen
from goatui.ui.screens.job_result import JobResultScreen
from goatui.ui.views.jobs import JobsView, detail_renderable, row_cells

FROZEN = datetime(2026, 10, 24, 21, 10, tzinfo=utc()).timestamp()
SIZE = (100, 30)

JOBS: list[dict[str, Any]] = [
    {
        "id": "hourly-echo",
        "schedule": "0 * * * *",
        "handler": "echo",
        "description": "Echoes its (empty) args",
        "timeout": "5s",
        "enabled": True,
    },
    {
        "id": "broken",
        "schedule": "61 * * * *",
        "handler": "echo",
        "description": "A schedule no cron accepts",
        "enabled": True,
    },
    {"id": "off", "schedule": "30 2 * * 0", "handler": "echo", "enabled": False},
    {
        "id": "sleepy",
        "schedule": "*/5 * * * *",
        "handler": "slow",
        "timeout": "1s",
        "enabled": True,
    },
]


@pytest.fixture(scope="module")
def jobber(module_plugins: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("jobs-ui") / "manifest.json"
    path.write_text(json.dumps({"name": "jobber", "version": "9.9.9", "jobs": JOBS}))
    return module_plugins.start("jobber", TESTPLUGIN_MANIFEST=str(path))


@pytest.fixture(autouse=True)
def berlin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")


async def open_jobs(pilot: Any, eventually: Any) -> JobsView:
    view = pilot.app.query_one(JobsView)
    await eventually(lambda: view.table.row_count == len(JOBS), 5, "the jobs rows")
    await pilot.press("4")
    await pilot.pause()
    assert pilot.app.focused is view.table
    await next_runs_known(view, eventually)
    return view


async def next_runs_known(view: JobsView, eventually: Any) -> None:
    """Next runs are computed in a thread (a manifest may declare thousands of jobs)."""
    for job in JOBS:
        cell(view, job["id"], "next")  # every row made, as if drawn
    await eventually(lambda: not view.computing_next, 5, "next runs computed")


def cell(view: JobsView, job_id: str, column: str) -> str:
    row_key = view.row_key_of("jobber", job_id)
    assert row_key is not None, job_id
    return str(view.table.get_cell(row_key, column).plain)


def plain(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=120, record=True)
    console.print(renderable)
    return console.export_text()


def detail_text(view: JobsView) -> str:
    return plain(view.query_one("#jobs-detail-text", Static).content)


def test_plugin_text_is_shown_inert() -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07[bold red]markup[/]\u202e\x9b31m"
    fields = {k: hostile for k in ("id", "handler", "schedule", "description", "timeout")}
    spec = JobSpec.from_manifest(hostile, fields)
    now = datetime.fromtimestamp(FROZEN, utc())
    cells = row_cells(spec, None, now, None, False, {})
    assert not any(has_unsafe(c.plain) for c in cells.values())
    assert "[bold red]markup[/]" in cells["job"].plain  # shown as typed, not interpreted
    run = JobRun(hostile, hostile, FROZEN, 1.0, "error", detail=sanitize_line(hostile))
    text = plain(detail_renderable(spec, now, [run], False, "bounds", {}))
    assert not has_unsafe(text) and "[bold red]markup[/]" in text


async def test_rows_schedules_and_the_invalid_one(
    jobber: Any, make_console: Any, eventually: Any
) -> None:
    app = make_console(jobber, clock=lambda: FROZEN)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_jobs(pilot, eventually)
        assert cell(view, "hourly-echo", "next") == "2026-10-25 00:00 (in 50m)"
        assert cell(view, "hourly-echo", "reads") == "every hour"
        assert cell(view, "hourly-echo", "timeout") == "5s"
        assert cell(view, "broken", "next") == "✖ invalid schedule"
        assert cell(view, "broken", "reads").startswith("invalid: minute: 61 is out of")
        assert cell(view, "off", "next") == "disabled"
        assert cell(view, "off", "enabled") == "no"
        assert cell(view, "off", "timeout") == "5m"  # GoatFlow's default
        assert all(cell(view, j["id"], "last") == "-" for j in JOBS)

        # u: the same instants in UTC.
        await pilot.press("u")
        await next_runs_known(view, eventually)
        assert cell(view, "hourly-echo", "next") == "2026-10-24 22:00 (in 50m)"
        assert "times in UTC" in str(view.query_one("#jobs-header", Static).content)
        await pilot.press("u")

        # enter or n: the next ten runs, the repeated 02:00 told apart by its zone.
        assert view.select("jobber", "hourly-echo")
        await pilot.press("n")
        assert view.has_class("-expanded")
        text = detail_text(view)
        assert "next 10 runs (Europe/Berlin)" in text
        assert "2026-10-25 02:00 CEST (in 2h 50m)" in text
        assert "2026-10-25 02:00 CET (in 3h 50m)" in text
        assert "2026-10-25 08:00 (in 9h 50m)" in text  # the tenth: 02:00 came twice
        assert "2026-10-25 09:00" not in text
        await pilot.press("enter")
        assert not view.has_class("-expanded")

        # The invalid schedule's detail says so instead of listing runs.
        assert view.select("jobber", "broken")
        await pilot.press("enter")
        assert "none: the schedule is invalid" in detail_text(view)


async def test_trigger_after_confirm_lands_in_the_row(
    jobber: Any, make_console: Any, eventually: Any
) -> None:
    app = make_console(jobber, clock=lambda: FROZEN)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_jobs(pilot, eventually)
        key = ("jobber", "hourly-echo")
        assert view.select(*key)

        # Nothing to view yet; cancelling (the focused button) runs nothing.
        assert view.check_action("view_result", ()) is None
        await pilot.press("t")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        assert not isinstance(app.screen, ConfirmScreen)
        assert view.runs.last(key) is None

        await pilot.press("t")
        question = app.screen.query_one("#confirm-question", Label)
        assert "Run job hourly-echo of plugin jobber now?" in str(question.content)
        await pilot.press("y")
        await eventually(lambda: view.runs.last(key) is not None, 5, "the run")
        await pilot.pause()
        run = view.runs.last(key)
        assert run is not None and run.outcome == "ok" and run.result == b"{}"
        # Stamped by the console clock, shown in Berlin time.
        assert cell(view, "hourly-echo", "last").startswith("✔ 23:10:00 ok ")

        await pilot.press("v")
        assert isinstance(app.screen, JobResultScreen)
        await pilot.press("escape")

        # The job's own timeout bounds the call; the row says running… meanwhile.
        sleepy = ("jobber", "sleepy")
        assert view.select(*sleepy)
        await pilot.press("t", "y")
        assert cell(view, "sleepy", "last") == "running…"
        await pilot.press("t")  # a second trigger while it runs is refused
        assert not isinstance(app.screen, ConfirmScreen)
        await eventually(lambda: view.runs.last(sleepy) is not None, 4, "the timeout")
        await pilot.pause()
        assert cell(view, "sleepy", "last").startswith("✖ 23:10:00 timeout 1.")
        timed_out = view.runs.last(sleepy)
        assert timed_out is not None and "timed out after 1s" in timed_out.detail
        await app.workers.wait_for_complete()
        # The run is in the console's call history too.
        assert [e.function for e in app.ctx.history.entries()][-2:] == ["echo", "slow"]


async def test_read_only_refuses_triggers(jobber: Any, make_console: Any, eventually: Any) -> None:
    app = make_console(jobber, clock=lambda: FROZEN, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_jobs(pilot, eventually)
        assert view.query_one("#jobs-read-only", Static).display
        assert view.select("jobber", "hourly-echo")
        assert view.check_action("trigger", ()) is None  # dimmed in the footer
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert view.runs.last(("jobber", "hourly-echo")) is None
        assert cell(view, "hourly-echo", "last") == "-"


async def test_at_80x24_the_next_run_and_the_schedule_are_drawn_whole(
    jobber: Any, make_console: Any, eventually: Any
) -> None:
    """Issue #17: the Jobs table stays usable at 80x24 (the schedule was cut at the
    edge, behind a Last run column that is mostly "-")."""
    app = make_console(jobber, clock=lambda: FROZEN)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_jobs(pilot, eventually)
        table = view.table
        drawn = [table.render_line(y).text for y in range(table.size.height)]
        row = next(line for line in drawn if "hourly-echo" in line)
        assert "2026-10-25 00:00 (in 50m)" in row
        assert cell(view, "hourly-echo", "schedule") in row
        # Longer names than these push what comes after the next run off the edge: the
        # schedule comes first, the last run here (mostly "-") after it.
        assert [c.key for c in table.columns][:5] == ["plugin", "job", "next", "schedule", "last"]


def test_snapshot(jobber: Any, make_console: Any, snap_compare: Any) -> None:
    """Rows, the invalid one, and the expanded next runs across the fall-back hour."""
    app = make_console(jobber, clock=lambda: FROZEN)

    async def run_before(pilot: Any) -> None:
        view = pilot.app.query_one(JobsView)
        for _ in range(250):  # the eventually fixture is async-only; this runs in app.run
            if view.table.row_count == len(JOBS):
                break
            await asyncio.sleep(0.02)
        await pilot.press("4")
        for job in JOBS:
            cell(view, job["id"], "next")  # every row made: their next runs wanted
        for _ in range(250):
            if not view.computing_next:
                break
            await asyncio.sleep(0.02)
        view.select("jobber", "hourly-echo")
        await pilot.press("n")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
