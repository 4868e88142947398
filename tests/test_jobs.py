"""Plugin jobs: listing across plugins, JSON rows, runs (core and CLI) against real plugins."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers.cli import one_line

from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.discovery import Sources
from goatui.core.errors import NotFound
from goatui.core.jobs.runs import (
    JobRun,
    RunHistory,
    format_timeout,
    job_key,
    job_row,
    list_jobs,
    run_job,
)
from goatui.core.jobs.spec import JobSpec
from goatui.core.jobs.zones import utc

BERLIN = ZoneInfo("Europe/Berlin")
# Saturday 2026-10-24 23:10 in Berlin (CEST); the clocks go back at 03:00 that night.
FROZEN = datetime(2026, 10, 24, 21, 10, tzinfo=utc()).timestamp()

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
    {
        "id": "off",
        "schedule": "30 2 * * 0",
        "handler": "echo",
        "description": "Disabled in the manifest",
        "enabled": False,
    },
    {
        "id": "sleepy",
        "schedule": "*/5 * * * *",
        "handler": "slow",
        "timeout": "1s",
        "enabled": True,
    },
    {"id": "failing", "schedule": "@daily", "handler": "fail", "timeout": "bogus", "enabled": True},
]
IDS = [job["id"] for job in JOBS]


def write_manifest(path: Path, name: str, jobs: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"name": name, "version": "9.9.9", "jobs": jobs}))
    return path


@pytest.fixture(scope="module")
def jobber(module_plugins: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real plugin whose manifest (sent in Register) declares JOBS; shared by the module."""
    manifest = write_manifest(tmp_path_factory.mktemp("jobber") / "m.json", "jobber", JOBS)
    return module_plugins.start("jobber", TESTPLUGIN_MANIFEST=str(manifest))


@pytest.fixture(scope="module")
def three_plugins(
    module_plugins: Any, jobber: Any, tmp_path_factory: pytest.TempPathFactory
) -> list[Any]:
    """jobber, a second plugin with one job, and a third sending no manifest."""
    other = write_manifest(
        tmp_path_factory.mktemp("alpha") / "m.json",
        "alpha",
        [{"id": "nightly", "schedule": "0 3 * * *", "handler": "echo"}],
    )
    alpha = module_plugins.start("alpha", TESTPLUGIN_MANIFEST=str(other))
    bare = module_plugins.start("bare")
    return [jobber, alpha, bare]


def backend_for(*running: Any) -> SocketBackend:
    return SocketBackend(Sources(sockets=[str(p.socket) for p in running]))


@pytest.fixture
def goatui(cli: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """conftest's in-process CLI, without colour: `goatui("jobs")`."""
    monkeypatch.setenv("NO_COLOR", "1")
    return cli


# --- core: listing and rows --------------------------------------------------------------


async def test_list_jobs_across_plugins(three_plugins: list[Any]) -> None:
    backend = backend_for(*three_plugins)
    try:
        listing = await list_jobs(backend)
    finally:
        await backend.close()
    assert [(j.plugin, j.id) for j in listing.jobs] == [
        ("alpha", "nightly"),
        *(("jobber", i) for i in IDS),
    ]
    assert listing.of_plugin("bare") == []
    assert listing.find("jobber", "sleepy").timeout_s == 1.0
    with pytest.raises(NotFound, match=r"unknown plugin 'nope' \(known: alpha, bare, jobber\)"):
        listing.find("nope", "x")
    with pytest.raises(NotFound, match=r"has no job 'x' \(known: 'hourly-echo', 'broken'"):
        listing.find("jobber", "x")
    with pytest.raises(NotFound, match="it sent no manifest"):
        listing.find("bare", "x")


def spec(**fields: Any) -> JobSpec:
    return JobSpec.from_manifest("p", {"id": "j", "handler": "h", "enabled": True, **fields})


def test_job_row_shape_and_next_run_in_zone() -> None:
    now = datetime.fromtimestamp(FROZEN, BERLIN)
    row = job_row(spec(schedule="0 * * * *", description="d", timeout="5m"), now)
    assert row == {
        "plugin": "p",
        "id": "j",
        "handler": "h",
        "schedule": "0 * * * *",
        "describe": "every hour",
        "description": "d",
        "enabled": True,
        "disabled_reason": None,
        "timeout_s": 300.0,
        "timeout_error": None,
        "next_run": "2026-10-25T00:00:00+02:00",
        "error": None,
    }
    # The repeated hour that night: the two 02:00 runs have different offsets.
    assert job_row(spec(schedule="0 2 * * *"), now)["next_run"] == "2026-10-25T02:00:00+02:00"
    utc_row = job_row(spec(schedule="0 * * * *"), datetime.fromtimestamp(FROZEN, utc()))
    assert utc_row["next_run"] == "2026-10-24T22:00:00+00:00"


def test_job_row_invalid_disabled_and_bad_timeout() -> None:
    now = datetime.fromtimestamp(FROZEN, BERLIN)
    invalid = job_row(spec(schedule="61 * * * *"), now)
    assert invalid["next_run"] is None and invalid["describe"] is None
    assert invalid["error"] == "minute: 61 is out of range 0-59"
    disabled = job_row(spec(schedule="0 * * * *", enabled=False), now)
    assert disabled["enabled"] is False and disabled["next_run"] is None
    assert disabled["error"] is None
    bad = job_row(spec(schedule="@daily", timeout="soon"), now)
    assert bad["timeout_s"] == 300.0 and "using the default 300s" in bad["timeout_error"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(300, "5m"), (5, "5s"), (90, "1m30s"), (3600, "1h"), (0.5, "500ms"), (1.5, "1.5s")],
)
def test_format_timeout(seconds: float, text: str) -> None:
    assert format_timeout(seconds) == text


# --- core: running -----------------------------------------------------------------------


async def test_run_job_calls_the_handler_with_empty_args(jobber: Any) -> None:
    backend = backend_for(jobber)
    try:
        listing = await list_jobs(backend)
        run = await run_job(backend, listing.find("jobber", "hourly-echo"), clock=lambda: FROZEN)
        failed = await run_job(backend, listing.find("jobber", "failing"))
    finally:
        await backend.close()
    assert run.outcome == "ok" and run.started == FROZEN
    assert run.result == b"{}" and run.result_view().kind == "json"
    assert run.duration_ms is not None and run.duration_ms > 0
    assert failed.outcome == "error" and "it broke" in failed.detail


async def test_run_job_honours_the_job_timeout(jobber: Any) -> None:
    backend = backend_for(jobber)
    try:
        sleepy = (await list_jobs(backend)).find("jobber", "sleepy")
        started = time.monotonic()
        run = await run_job(backend, sleepy)
        took = time.monotonic() - started
    finally:
        await backend.close()
    assert run.outcome == "timeout"
    assert "timed out after 1s (the job's timeout)" in run.detail
    assert 0.9 < took < 2.0  # the handler would sleep 5 s


def test_run_history_is_bounded_and_results_are_cut() -> None:
    history = RunHistory(per_job=3, result_limit=8)
    key = ("p", "j")
    assert history.start(key) and not history.start(key)  # one run at a time
    assert history.is_running(key)
    for n in range(5):
        history.finish(JobRun("p", "j", float(n), 1.0, "ok", result=b"x", result_size=1))
    assert not history.is_running(key)
    assert [r.started for r in history.runs(key)] == [4.0, 3.0, 2.0]
    assert history.last(key) is not None and history.last(key).started == 4.0  # type: ignore[union-attr]
    assert "last 3 runs per job" in history.describe_bounds()

    # A result cut in the middle of a character stays readable, and says what was cut.
    data = ('{"k": "' + "é" * 10 + '"}').encode()
    cut = JobRun("p", "j", 0.0, 1.0, "ok", result=data[:8], result_size=len(data))
    assert cut.truncated
    view = cut.result_view()
    assert view.kind == "text" and view.text.startswith('{"k": "')
    assert "only the first 8 B were kept" in view.text


def test_run_summary() -> None:
    ok = JobRun("p", "j", 0.0, 12.3, "ok", result=b"{}", result_size=2)
    assert ok.summary() == "ok in 12 ms, 2 B"
    slow = JobRun("p", "j", 0.0, 1500.0, "timeout", detail="timed out after 1s")
    assert slow.summary() == "timeout in 1.50 s: timed out after 1s"
    assert job_key(spec(schedule="@daily")) == ("p", "j")


# --- CLI ---------------------------------------------------------------------------------


def test_cli_jobs_json(
    three_plugins: list[Any], goatui: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    sockets = [arg for p in three_plugins for arg in ("--socket", str(p.socket))]
    result = goatui("jobs", "--json", *sockets)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["plugin"], r["id"]) for r in rows] == [
        ("alpha", "nightly"),
        *(("jobber", i) for i in IDS),
    ]
    required = {"plugin", "id", "handler", "schedule", "description", "enabled", "timeout_s"}
    assert all(required | {"next_run", "error", "describe"} <= set(r) for r in rows)
    by_id = {r["id"]: r for r in rows}
    assert by_id["broken"]["next_run"] is None
    assert by_id["broken"]["error"] == "minute: 61 is out of range 0-59"
    assert by_id["off"]["enabled"] is False and by_id["off"]["next_run"] is None
    assert by_id["sleepy"]["timeout_s"] == 1.0
    # Local time carries the operator's offset (CET or CEST, by the date).
    offset = datetime.fromisoformat(by_id["hourly-echo"]["next_run"]).utcoffset()
    assert offset is not None and offset.total_seconds() in (3600, 7200)
    assert by_id["hourly-echo"]["describe"] == "every hour"


def test_cli_jobs_table_for_one_plugin_in_utc(jobber: Any, goatui: Any) -> None:
    result = goatui("jobs", "jobber", "--utc", "--socket", str(jobber.socket))
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.strip().splitlines()
    assert header.split()[:4] == ["PLUGIN", "JOB", "SCHEDULE", "WHEN"]
    assert "NEXT RUN (UTC)" in header
    assert [r.split()[1] for r in rows] == IDS
    broken = next(r for r in rows if r.split()[1] == "broken")
    assert "invalid: minute: 61 is out of range 0-59" in broken
    assert "invalid schedule" in broken
    off = next(r for r in rows if r.split()[1] == "off")
    assert "disabled" in off
    # The unusable timeout is explained, and the default used.
    assert "job failing of jobber" in result.stderr and "'bogus'" in result.stderr


def test_cli_jobs_unknown_plugin_exits_2(jobber: Any, goatui: Any) -> None:
    result = goatui("jobs", "nope", "--socket", str(jobber.socket))
    assert result.returncode == 2
    assert "unknown plugin 'nope' (known: jobber)" in one_line(result.stderr)


def test_cli_job_run_prints_the_result(jobber: Any, goatui: Any) -> None:
    result = goatui("job", "run", "jobber", "hourly-echo", "--socket", str(jobber.socket))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}
    assert result.stderr == ""


def test_cli_job_run_timeout_exits_3_within_the_deadline(jobber: Any, goatui: Any) -> None:
    started = time.monotonic()
    result = goatui("--socket", str(jobber.socket), "job", "run", "jobber", "sleepy")
    took = time.monotonic() - started
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "job 'sleepy' of jobber timed out after 1s (the job's timeout)" in line
    assert took < 2.5  # the 1 s deadline, not the handler's 5 s sleep


def test_cli_job_run_timeout_option_overrides_the_jobs(jobber: Any, goatui: Any) -> None:
    started = time.monotonic()
    result = goatui(
        "job", "run", "jobber", "sleepy", "--timeout", "0.3", "--socket", str(jobber.socket)
    )
    assert time.monotonic() - started < 1.0
    assert result.returncode == 3
    assert "timed out after 0.3s (--timeout)" in one_line(result.stderr)
    refused = goatui(
        "job", "run", "jobber", "sleepy", "--timeout", "0", "--socket", str(jobber.socket)
    )
    assert refused.returncode == 2 and "--timeout" in one_line(refused.stderr)


@pytest.mark.parametrize(
    ("plugin", "job", "expected"),
    [
        ("nope", "x", "unknown plugin 'nope' (known: jobber)"),
        ("jobber", "x", "plugin 'jobber' has no job 'x' (known: 'hourly-echo', 'broken', 'off'"),
    ],
)
def test_cli_job_run_unknown_exits_2(
    jobber: Any, goatui: Any, plugin: str, job: str, expected: str
) -> None:
    result = goatui("job", "run", plugin, job, "--socket", str(jobber.socket))
    assert result.returncode == 2
    assert expected in one_line(result.stderr)


def test_cli_job_run_disabled_runs_with_a_note(jobber: Any, goatui: Any) -> None:
    result = goatui("job", "run", "jobber", "off", "--socket", str(jobber.socket))
    assert result.returncode == 0
    assert json.loads(result.stdout) == {}
    assert "job off of jobber is disabled (enabled is false)" in one_line(result.stderr)


def test_cli_job_run_handler_error_exits_1(jobber: Any, goatui: Any) -> None:
    result = goatui("job", "run", "jobber", "failing", "--socket", str(jobber.socket))
    assert result.returncode == 1
    assert "it broke" in one_line(result.stderr)


def test_cli_job_without_action_is_a_usage_error(goatui: Any) -> None:
    assert goatui("job").returncode == 2  # argparse's SystemExit, caught by the runner


def test_cli_jobs_never_imports_textual(jobber: Any) -> None:
    code = (
        "import sys\n"
        "from goatui.cli import main\n"
        f"rc = main(['jobs', '--json', '--socket', {str(jobber.socket)!r}])\n"
        f"rc |= main(['job', 'run', 'jobber', 'hourly-echo', '--socket', {str(jobber.socket)!r}])\n"
        "assert 'textual' not in sys.modules, 'the CLI imported textual'\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
