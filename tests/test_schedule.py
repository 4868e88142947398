"""Jobs, cron schedules, DST and time wording (goatui.core.jobs.cron)."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from goatui.core.jobs.cron import Schedule
from goatui.core.jobs.durations import parse_go_duration
from goatui.core.jobs.runs import job_row, next_run, next_run_text
from goatui.core.jobs.spec import DEFAULT_JOB_TIMEOUT_S, JobSpec, jobs_of
from goatui.core.jobs.zones import format_next, humanize_delta, local_zone, utc
from goatui.core.models import Manifest, PluginInfo

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ZONES: list[tzinfo] = [UTC, BERLIN, NEW_YORK]


def stamps(runs: list[datetime]) -> list[float]:
    return [r.timestamp() for r in runs]


def walls(runs: list[datetime]) -> list[str]:
    """Wall clock with offset, e.g. "2026-10-25 02:30+0200"."""
    return [r.strftime("%Y-%m-%d %H:%M%z") for r in runs]


def assert_sane(runs: list[datetime], start: datetime) -> None:
    """Strictly increasing real instants, all after start, all in start's zone."""
    assert all(r.tzinfo is start.tzinfo for r in runs)
    points = [start.timestamp(), *stamps(runs)]
    assert all(a < b for a, b in itertools.pairwise(points))
    assert len(set(stamps(runs))) == len(runs)
    # fold is consistent with the offset (what a round trip through UTC gives).
    assert all(r == r.astimezone(UTC).astimezone(r.tzinfo) for r in runs)
    assert all(r.utcoffset() == r.astimezone(UTC).astimezone(r.tzinfo).utcoffset() for r in runs)


# --- Go durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("300ms", 0.3),
        ("1.5h", 5400.0),
        ("2h45m", 9900.0),
        ("5m", 300.0),
        ("90s", 90.0),
        ("1h30m10s", 5410.0),
        ("0", 0.0),
        ("+0", 0.0),
        ("-0", 0.0),
        ("0s", 0.0),
        ("+5s", 5.0),
        ("-1.5h", -5400.0),
        ("10ns", 1e-8),
        ("1us", 1e-6),
        ("1\u00b5s", 1e-6),  # micro sign
        ("1\u03bcs", 1e-6),  # Greek mu
        (".5s", 0.5),
        ("1.s", 1.0),
        ("1h0m0s", 3600.0),
        ("0.000000001s", 1e-9),
        ("1m1m", 120.0),  # Go sums repeated units
        ("0.1ns", 0.0),  # sub-nanosecond truncates
        ("2562047h", 2562047 * 3600.0),
        ("9223372036854775807ns", 9223372036.854775807),
        ("-9223372036854775808ns", -9223372036.854775808),
    ],
)
def test_go_duration_valid(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("+", "empty"),
        ("-", "empty"),
        ("5", "missing unit"),
        ("1h30", "missing unit"),
        ("1.5.5s", "missing unit"),
        ("1d", "unknown unit 'd'"),
        ("5M", "unknown unit 'M'"),
        ("1e3s", "unknown unit"),
        ("1h 30m", "unknown unit"),
        ("5m ", "unknown unit"),
        (" 5m", "expected a number"),
        ("h", "expected a number"),
        (".s", "expected a number"),
        ("--5s", "expected a number"),
        ("nan", "expected a number"),
        ("\uff11s", "expected a number"),  # fullwidth digit: Go reads ASCII only
        ("9223372036854775808ns", "out of range"),
        ("2562048h", "out of range"),
        ("1" * 100 + "h", "out of range"),
    ],
)
def test_go_duration_invalid(text: str, why: str) -> None:
    with pytest.raises(ValueError, match="invalid duration") as caught:
        parse_go_duration(text)
    assert why in str(caught.value)


def test_go_duration_not_text() -> None:
    with pytest.raises(ValueError, match="must be text"):
        parse_go_duration(300)  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_go_duration_only_raises_value_error(text: str) -> None:
    try:
        result = parse_go_duration(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(result, float)


@given(
    st.integers(0, 10_000),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 999),
    st.booleans(),
)
def test_go_duration_components_add_up(h: int, m: int, s: int, ms: int, negative: bool) -> None:
    text = f"{'-' if negative else ''}{h}h{m}m{s}s{ms}ms"
    expected = h * 3600 + m * 60 + s + ms / 1000
    assert parse_go_duration(text) == pytest.approx(-expected if negative else expected)


# --- JobSpec ------------------------------------------------------------------------------


def test_jobspec_full_entry() -> None:
    entry = {
        "id": "cleanup",
        "schedule": "0 3 * * *",
        "handler": "jobs.cleanup",
        "description": "Purge old rows",
        "enabled": False,
        "timeout": "2m30s",
    }
    spec = JobSpec.from_manifest("stats", entry)
    assert spec == JobSpec(
        plugin="stats",
        id="cleanup",
        handler="jobs.cleanup",
        schedule="0 3 * * *",
        description="Purge old rows",
        enabled=False,
        why_disabled="enabled is false",
        timeout_s=150.0,
        timeout_error="",
    )
    assert spec.parsed_schedule == Schedule.parse("0 3 * * *")


def test_jobspec_missing_fields_get_defaults() -> None:
    spec = JobSpec.from_manifest("p", {})
    assert (spec.id, spec.handler, spec.schedule, spec.description) == ("", "", "", "")
    assert (spec.enabled, spec.why_disabled) == (False, "enabled not set")
    assert spec.timeout_s == DEFAULT_JOB_TIMEOUT_S == 300.0
    assert spec.timeout_error == ""
    assert spec.parsed_schedule.error == "empty schedule"


def test_jobspec_mistyped_fields_are_shown_and_said_to_be_wrong() -> None:
    """A numeric id or schedule is reported as what it is, never as a missing field."""
    spec = JobSpec.from_manifest(
        "p", {"id": 7, "handler": ["x"], "schedule": 5, "description": {"a": 1}}
    )
    assert (spec.id, spec.handler, spec.schedule) == ("7", '["x"]', "5")
    assert spec.field_error == (
        "id must be a string, not a number (7); handler must be a string, not an array "
        '(["x"]); description must be a string, not an object ({"a": 1})'
    )
    schedule = spec.parsed_schedule
    assert schedule.error == "schedule must be a string, not a number (5)"
    assert schedule.describe() == "invalid: schedule must be a string, not a number (5)"
    assert not schedule.valid and "empty" not in schedule.describe()
    assert spec.enabled is False  # left out: a Go bool's false
    absent = JobSpec.from_manifest("p", {"schedule": None})
    assert absent.schedule == "" and absent.parsed_schedule.error == "empty schedule"


def test_jobspec_not_a_mapping() -> None:
    spec = JobSpec.from_manifest("p", ["not", "a", "dict"])  # type: ignore[arg-type]
    assert spec == JobSpec(
        plugin="p", id="", handler="", schedule="", enabled=False, why_disabled="enabled not set"
    )


@pytest.mark.parametrize(
    ("value", "enabled", "why"),
    [
        (True, True, ""),
        (False, False, "enabled is false"),
        (None, False, "enabled not set"),
        # A Go bool: GoatFlow cannot read anything but a JSON boolean into it.
        ("true", False, "a string, not true or false"),
        ("yes", False, "a string, not true or false"),
        (1, False, "int, not true or false"),
        ([], False, "list, not true or false"),
    ],
)
def test_jobspec_enabled_is_a_go_bool(value: Any, enabled: bool, why: str) -> None:
    spec = JobSpec.from_manifest("p", {"enabled": value})
    assert spec.enabled is enabled
    assert why in spec.why_disabled and bool(spec.why_disabled) is not enabled


def test_jobspec_enabled_missing_means_never_scheduled() -> None:
    """GoatFlow's scheduler skips a job whose manifest leaves `enabled` out (PROTOCOL.md)."""
    spec = JobSpec.from_manifest("p", {"id": "x", "schedule": "* * * * *"})
    assert (spec.enabled, spec.enabled_word) == (False, "not set")
    assert spec.disabled_text == "disabled (enabled not set): GoatFlow does not schedule it"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_run(spec, now) is None and next_run_text(spec, now) == "disabled"
    assert job_row(spec, now)["disabled_reason"] == "enabled not set"


@pytest.mark.parametrize(
    ("value", "seconds", "why"),
    [
        (None, 300.0, ""),
        ("", 300.0, ""),
        ("5m", 300.0, ""),
        ("1.5h", 5400.0, ""),
        ("1500ms", 1.5, ""),
        ("300ms", 300.0, "under a second"),
        ("5 minutes", 300.0, "invalid duration"),
        ("5", 300.0, "missing unit"),
        ("0s", 300.0, "not positive"),
        ("-5m", 300.0, "not positive"),
        (60, 300.0, "not int"),
        (1.5, 300.0, "not float"),
        (True, 300.0, "not a boolean"),
        ({"m": 5}, 300.0, "not dict"),
    ],
)
def test_jobspec_timeout(value: Any, seconds: float, why: str) -> None:
    spec = JobSpec.from_manifest("p", {"timeout": value})
    assert spec.timeout_s == pytest.approx(seconds)
    if why:
        assert why in spec.timeout_error
        assert "default" in spec.timeout_error
    else:
        assert spec.timeout_error == ""


def test_jobspec_is_frozen() -> None:
    spec = JobSpec.from_manifest("p", {"id": "a"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.id = "b"  # type: ignore[misc]


def test_jobs_of() -> None:
    manifest = Manifest.parse(
        {
            "name": "stats",
            "jobs": [
                {"id": "a", "schedule": "*/5 * * * *", "handler": "h.a", "enabled": True},
                "not an object",
                {"id": "b", "schedule": "@daily", "handler": "h.b", "enabled": False},
            ],
        },
        source="plugin",
    )
    plugin = PluginInfo(name="stats", target="unix:///tmp/s.sock", manifest=manifest)
    jobs = jobs_of(plugin)
    assert [(j.plugin, j.id, j.enabled) for j in jobs] == [
        ("stats", "a", True),
        ("stats", "b", False),
    ]


def test_jobs_of_without_manifest_or_jobs() -> None:
    assert jobs_of(PluginInfo(name="x", target="t")) == []
    bare = Manifest.parse({"name": "x"}, source="plugin")
    assert jobs_of(PluginInfo(name="x", target="t", manifest=bare)) == []
    odd = Manifest.parse({"name": "x", "jobs": {"id": "a"}}, source="plugin")
    assert jobs_of(PluginInfo(name="x", target="t", manifest=odd)) == []


# --- Schedule validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *",
        "*/5 * * * *",
        "0 6 * * *",
        "30 2 * * *",
        "0 9 * * 1-5",
        "0 9 * * MON-FRI",
        "0 9 * * mon-fri",
        "0 0 1 JAN *",
        "0 0 1 jan-mar *",
        "0,15,30,45 9-17 * * 1-5",
        "5/15 * * * *",
        "0 0 ? * *",
        "0 12 * * ?",
        "59 23 31 12 6",
        "0 0 29 2 *",
        "  0 6 * * *  ",
        "0\t6  *\n* *",
        "00 06 01 01 00",
        "*/100 * * * *",
        "@hourly",
        "@daily",
        "@midnight",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
    ],
)
def test_schedule_valid(expression: str) -> None:
    schedule = Schedule.parse(expression)
    assert schedule.error == ""
    assert schedule.valid
    assert schedule.expression == expression
    assert not schedule.describe().startswith("invalid")
    assert schedule.next_run(datetime(2026, 1, 1, tzinfo=UTC)) is not None


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not cron", "2 fields"),
        ("* * *", "3 fields"),
        ("*", "1 field;"),
        ("0 0 * * * *", "6 fields"),  # seconds (or year) field
        ("*/10 * * * * *", "no seconds"),
        ("0 0 12 * * ? 2026", "7 fields"),
        ("61 * * * *", "minute: 61 is out of range 0-59"),
        ("60 * * * *", "out of range"),
        ("* 24 * * *", "hour: 24 is out of range 0-23"),
        ("* * 0 * *", "day of month: 0 is out of range 1-31"),
        ("* * 32 * *", "out of range"),
        ("* * * 13 *", "month: 13 is out of range 1-12"),
        ("* * * 0 *", "out of range"),
        ("* * * * 7", "use 0 for Sunday"),
        ("* * * * 8", "out of range"),
        ("* * * * FRI-MON", "runs backwards"),
        ("30-10 * * * *", "runs backwards"),
        ("*/0 * * * *", "step must be positive"),
        ("*/x * * * *", "step 'x' is not a number"),
        ("1,,2 * * * *", "empty item"),
        ("1, * * * *", "empty item"),
        ("*-5 * * * *", "mixes *"),
        ("1-2-3 * * * *", "cannot read"),
        ("a * * * *", "minute: 'a' is not a number"),
        ("* * * JANUARY *", "3-letter name"),
        ("* * * * MON#2", "cannot read"),
        ("* * L * *", "not a number"),
        ("* * 15W * *", "not a number"),
        ("H * * * *", "not a number"),
        ("-1 * * * *", "cannot read"),
        ("99999999999999999999 * * * *", "out of range"),
        ("0 0 31 2 *", "never fires"),
        ("0 0 30 2 *", "never fires"),
        ("0 0 31 4,6,9,11 *", "never fires"),
        ("@every 5m", "@every"),
        ("@reboot", "unknown nickname"),
        ("@Daily", "unknown nickname"),
    ],
)
def test_schedule_invalid(expression: str, why: str) -> None:
    schedule = Schedule.parse(expression)
    assert why in schedule.error
    assert not schedule.valid
    assert schedule.describe() == f"invalid: {schedule.error}"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert schedule.next_runs(5, start) == []
    assert schedule.next_run(start) is None


def test_schedule_parse_not_text() -> None:
    schedule = Schedule.parse(None)  # type: ignore[arg-type]
    assert schedule.error
    assert schedule.describe().startswith("invalid:")


def test_schedule_day_31_fires_in_long_months_only() -> None:
    runs = Schedule.parse("0 0 31 * *").next_runs(3, datetime(2026, 1, 1, tzinfo=UTC))
    assert [r.strftime("%m-%d") for r in runs] == ["01-31", "03-31", "05-31"]


def test_error_messages_escape_untrusted_text() -> None:
    schedule = Schedule.parse("\x1b[31m * * * *")
    assert "\x1b" not in schedule.error
    assert "\\x1b" in schedule.error
    long = Schedule.parse("x" * 500 + " * * * *")
    assert len(long.error) < 120


# --- describe -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("* * * * *", "every minute"),
        ("*/5 * * * *", "every 5 minutes"),
        ("0/15 * * * *", "every 15 minutes"),
        ("0 6 * * *", "at 06:00 every day"),
        ("30 * * * *", "at minute 30 past every hour"),
        ("0 * * * *", "every hour"),
        ("0 9 * * 1-5", "at 09:00 on Monday through Friday"),
        ("0 9 * * MON-FRI", "at 09:00 on Monday through Friday"),
        ("0 0 1 * *", "at 00:00 on day 1 of the month"),
        ("0 6 * * 0", "at 06:00 on Sunday"),
        ("0 6 * * sun", "at 06:00 on Sunday"),
        ("15 2 * 1 *", "at 02:15 in January"),
        ("0,15,30,45 9-17 * * 1-5", "at minutes 0,15,30,45 past hours 9-17 on Mon-Fri"),
        ("0,30 * * * *", "at minutes 0,30 past every hour"),
        ("5/15 * * * *", "at minutes 5-59/15 past every hour"),
        ("0 */2 * * *", "every 2 hours"),
        ("15 */3 * * *", "at minute 15 past every 3rd hour"),
        ("0 9-17 * * *", "every hour from 09:00 through 17:00"),
        ("*/10 9-17 * * 1-5", "every 10 minutes from 09:00 through 17:59 on Monday through Friday"),
        ("* 9 * * *", "every minute from 09:00 through 09:59"),
        ("*/5 */2 * * *", "every 5 minutes of every 2nd hour"),
        ("* 1,5 * * *", "every minute during hours 1,5"),
        ("0 0,12 * * *", "at 00:00 and 12:00 every day"),
        ("0,30 9,17 * * *", "at 09:00, 09:30, 17:00 and 17:30 every day"),
        ("0 0,2,4,6,8,10,12 * * *", "at minute 0 past hours 0,2,4,6,8,10,12"),
        ("0 9-17/2 * * *", "at minute 0 past hours 9-17/2"),
        ("0-10 3 * * *", "at minutes 0-10 past hour 3"),
        ("0 0 1,15 * *", "at 00:00 on days 1 and 15 of the month"),
        ("0 4 8-14 * *", "at 04:00 on days 8-14 of the month"),
        ("0 0 */2 * *", "at 00:00 on every 2nd day of the month"),
        ("0 0 1 * 1", "at 00:00 on day 1 of the month or on Monday"),
        ("0 0 * * 1,3,5", "at 00:00 on Monday, Wednesday and Friday"),
        ("0 0 * * */2", "at 00:00 on every 2nd day of the week"),
        ("0 0 * 1-3 *", "at 00:00 in January through March"),
        ("0 0 * 1,7 *", "at 00:00 in January and July"),
        ("0 0 * */3 *", "at 00:00 in every 3rd month"),
        ("0 0 25 12 *", "at 00:00 on December 25"),
        ("0 0 29 2 *", "at 00:00 on February 29"),
        ("* * * 6 *", "every minute in June"),
        ("0 0 ? * *", "at 00:00 every day"),
        ("0 22 * * 1-5", "at 22:00 on Monday through Friday"),
        ("@hourly", "every hour"),
        ("@daily", "at 00:00 every day"),
        ("@midnight", "at 00:00 every day"),
        ("@weekly", "at 00:00 on Sunday"),
        ("@monthly", "at 00:00 on day 1 of the month"),
        ("@yearly", "at 00:00 on January 1"),
        ("@annually", "at 00:00 on January 1"),
    ],
)
def test_describe(expression: str, text: str) -> None:
    assert Schedule.parse(expression).describe() == text


def test_describe_invalid() -> None:
    assert Schedule.parse("61 * * * *").describe() == "invalid: minute: 61 is out of range 0-59"


# --- next runs ----------------------------------------------------------------------------


def test_next_runs_utc() -> None:
    start = datetime(2026, 1, 1, 10, 7, 30, 123, tzinfo=UTC)
    runs = Schedule.parse("*/15 * * * *").next_runs(3, start)
    assert [r.strftime("%H:%M:%S.%f") for r in runs] == [
        "10:15:00.000000",
        "10:30:00.000000",
        "10:45:00.000000",
    ]
    assert_sane(runs, start)


def test_next_runs_strictly_after_start() -> None:
    start = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
    assert Schedule.parse("0 6 * * *").next_run(start) == datetime(2026, 5, 5, 6, 0, tzinfo=UTC)


def test_next_runs_weekdays() -> None:
    start = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # a Friday
    runs = Schedule.parse("0 9 * * 1-5").next_runs(3, start)
    assert [r.strftime("%a %d") for r in runs] == ["Fri 27", "Mon 30", "Tue 01"]


def test_next_runs_in_local_zone() -> None:
    start = datetime(2026, 1, 10, 12, 0, tzinfo=NEW_YORK)
    runs = Schedule.parse("0 6 * * *").next_runs(2, start)
    assert walls(runs) == ["2026-01-11 06:00-0500", "2026-01-12 06:00-0500"]
    assert runs[0].astimezone(UTC).hour == 11
    assert_sane(runs, start)


def test_same_instant_different_zones_gives_different_wall_times() -> None:
    instant = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
    schedule = Schedule.parse("0 6 * * *")
    in_utc = schedule.next_run(instant)
    in_berlin = schedule.next_run(instant.astimezone(BERLIN))
    assert in_utc is not None and in_berlin is not None
    assert in_utc.timestamp() - in_berlin.timestamp() == 2 * 3600


def test_next_runs_nicknames() -> None:
    start = datetime(2026, 3, 15, 12, 0, tzinfo=BERLIN)
    assert walls(Schedule.parse("@hourly").next_runs(1, start)) == ["2026-03-15 13:00+0100"]
    assert walls(Schedule.parse("@daily").next_runs(1, start)) == ["2026-03-16 00:00+0100"]
    assert walls(Schedule.parse("@weekly").next_runs(1, start)) == ["2026-03-22 00:00+0100"]
    assert walls(Schedule.parse("@monthly").next_runs(1, start)) == ["2026-04-01 00:00+0200"]
    assert walls(Schedule.parse("@yearly").next_runs(1, start)) == ["2027-01-01 00:00+0100"]


def test_next_runs_leap_day() -> None:
    runs = Schedule.parse("0 0 29 2 *").next_runs(2, datetime(2026, 1, 1, tzinfo=UTC))
    assert [r.date().isoformat() for r in runs] == ["2028-02-29", "2032-02-29"]


def test_day_fields_follow_robfig() -> None:
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday
    # Both restricted: either matches (day 15, or any Friday).
    either = Schedule.parse("0 0 15 * 5").next_runs(4, start)
    assert [r.strftime("%a %d") for r in either] == ["Fri 05", "Fri 12", "Mon 15", "Fri 19"]
    # "*/1" is a bare star to robfig (and croniter would OR it): only Fridays.
    fridays = Schedule.parse("0 0 */1 * 5").next_runs(3, start)
    assert [r.strftime("%a %d") for r in fridays] == ["Fri 05", "Fri 12", "Fri 19"]
    # "1-31" is not a star to robfig: OR with every day of the month is every day.
    daily = Schedule.parse("0 0 1-31 * 5").next_runs(3, start)
    assert [r.strftime("%a %d") for r in daily] == ["Tue 02", "Wed 03", "Thu 04"]
    # "*/2" clears robfig's star bit, so it ORs: odd days plus Fridays.
    odd_or_friday = Schedule.parse("0 0 */2 * 5").next_runs(4, start)
    assert [r.strftime("%a %d") for r in odd_or_friday] == ["Wed 03", "Fri 05", "Sun 07", "Tue 09"]


def test_next_runs_count_and_start() -> None:
    schedule = Schedule.parse("* * * * *")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert schedule.next_runs(0, start) == []
    assert schedule.next_runs(-3, start) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.next_runs(1, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Schedule.parse("bad").next_run(datetime(2026, 1, 1))


def test_next_runs_many_stay_sane() -> None:
    for zone in ZONES:
        start = datetime(2026, 3, 1, tzinfo=zone)
        runs = Schedule.parse("*/7 * * * *").next_runs(2000, start)
        assert len(runs) == 2000
        assert_sane(runs, start)


def test_next_run_matches_next_runs() -> None:
    start = datetime(2026, 1, 1, 0, 0, tzinfo=BERLIN)
    schedule = Schedule.parse("17 4 * * *")
    assert schedule.next_run(start) == schedule.next_runs(1, start)[0]


# --- DST ----------------------------------------------------------------------------------
# Berlin: spring forward 2026-03-29 02:00 -> 03:00, fall back 2026-10-25 03:00 -> 02:00.
# New York: spring forward 2026-03-08 02:00 -> 03:00, fall back 2026-11-01 02:00 -> 01:00.


def test_croniter_still_shifts_gap_times() -> None:
    """Pins the croniter behaviour next_runs corrects (see the module docstring)."""
    raw = croniter("30 2 * * *", datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)).get_next(datetime)
    assert raw.strftime("%Y-%m-%d %H:%M%z") == "2026-03-29 03:00+0200"


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        (
            BERLIN,
            datetime(2026, 3, 28, 12, 0),
            ["2026-03-30 02:30+0200", "2026-03-31 02:30+0200"],
        ),
        (
            NEW_YORK,
            datetime(2026, 3, 7, 12, 0),
            ["2026-03-09 02:30-0400", "2026-03-10 02:30-0400"],
        ),
    ],
)
def test_spring_forward_skips_the_missing_time(
    zone: tzinfo, start: datetime, expected: list[str]
) -> None:
    aware = start.replace(tzinfo=zone)
    runs = Schedule.parse("30 2 * * *").next_runs(2, aware)
    assert walls(runs) == expected  # no run on the spring-forward day, as with robfig
    assert_sane(runs, aware)


def test_spring_forward_every_30_minutes() -> None:
    start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    runs = Schedule.parse("*/30 * * * *").next_runs(6, start)
    assert walls(runs) == [
        "2026-03-29 00:30+0100",
        "2026-03-29 01:00+0100",
        "2026-03-29 01:30+0100",
        "2026-03-29 03:00+0200",
        "2026-03-29 03:30+0200",
        "2026-03-29 04:00+0200",
    ]
    gaps = {b - a for a, b in itertools.pairwise(stamps(runs))}
    assert gaps == {1800.0}
    assert_sane(runs, start)


def test_spring_forward_keeps_real_three_oclock() -> None:
    start = datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK)
    runs = Schedule.parse("0 2,3 * * *").next_runs(3, start)
    assert walls(runs) == [
        "2026-03-08 03:00-0400",
        "2026-03-09 02:00-0400",
        "2026-03-09 03:00-0400",
    ]
    runs = Schedule.parse("30 2,3 * * *").next_runs(2, start)
    assert walls(runs) == ["2026-03-08 03:30-0400", "2026-03-09 02:30-0400"]


@pytest.mark.parametrize(
    ("zone", "expression", "start", "expected"),
    [
        (
            BERLIN,
            "30 2 * * *",
            datetime(2026, 10, 24, 12, 0),
            ["2026-10-25 02:30+0200", "2026-10-25 02:30+0100", "2026-10-26 02:30+0100"],
        ),
        (
            NEW_YORK,
            "30 1 * * *",
            datetime(2026, 10, 31, 12, 0),
            ["2026-11-01 01:30-0400", "2026-11-01 01:30-0500", "2026-11-02 01:30-0500"],
        ),
        (
            # 02:30 does not repeat in New York (its repeated hour is 01:00-01:59).
            NEW_YORK,
            "30 2 * * *",
            datetime(2026, 10, 31, 12, 0),
            ["2026-11-01 02:30-0500", "2026-11-02 02:30-0500", "2026-11-03 02:30-0500"],
        ),
    ],
)
def test_fall_back_runs_at_both_instants(
    zone: tzinfo, expression: str, start: datetime, expected: list[str]
) -> None:
    aware = start.replace(tzinfo=zone)
    runs = Schedule.parse(expression).next_runs(3, aware)
    assert walls(runs) == expected
    assert_sane(runs, aware)


def test_fall_back_repeat_is_an_hour_later_and_folded() -> None:
    start = datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)
    first, second = Schedule.parse("30 2 * * *").next_runs(2, start)
    assert (first.fold, second.fold) == (0, 1)
    assert second.timestamp() - first.timestamp() == 3600
    # Why the module compares timestamps: Python sees same-zone wall times as equal.
    assert first == second


def test_fall_back_every_30_minutes() -> None:
    for zone, day, hour in [(BERLIN, 25, 2), (NEW_YORK, 1, 1)]:
        month = 10 if zone is BERLIN else 11
        start = datetime(2026, month, day, hour - 1, 45, tzinfo=zone)
        runs = Schedule.parse("*/30 * * * *").next_runs(5, start)
        assert [r.strftime("%H:%M") for r in runs] == [
            f"{hour:02d}:00",
            f"{hour:02d}:30",
            f"{hour:02d}:00",
            f"{hour:02d}:30",
            f"{hour + 1:02d}:00",
        ]
        gaps = {b - a for a, b in itertools.pairwise(stamps(runs))}
        assert gaps == {1800.0}
        assert_sane(runs, start)


def test_fall_back_hourly() -> None:
    start = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)
    runs = Schedule.parse("0 * * * *").next_runs(3, start)
    assert walls(runs) == [
        "2026-11-01 01:00-0400",
        "2026-11-01 01:00-0500",
        "2026-11-01 02:00-0500",
    ]


def test_start_inside_the_repeated_hour() -> None:
    schedule = Schedule.parse("30 2 * * *")
    summer = datetime(2026, 10, 25, 2, 40, fold=0, tzinfo=BERLIN)  # first 02:40 (+02:00)
    winter = datetime(2026, 10, 25, 2, 40, fold=1, tzinfo=BERLIN)  # second 02:40 (+01:00)
    assert walls(schedule.next_runs(1, summer)) == ["2026-10-25 02:30+0100"]
    assert walls(schedule.next_runs(1, winter)) == ["2026-10-26 02:30+0100"]


def test_start_inside_the_gap() -> None:
    start = datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN)  # does not exist
    runs = Schedule.parse("*/15 * * * *").next_runs(3, start)
    assert_sane(runs, start)
    assert all(r.hour >= 3 for r in runs)


def test_utc_has_no_dst_edges() -> None:
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    runs = Schedule.parse("30 2 * * *").next_runs(3, start)
    assert [r.strftime("%m-%d %H:%M") for r in runs] == [
        "03-29 02:30",
        "03-30 02:30",
        "03-31 02:30",
    ]
    start = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    runs = Schedule.parse("30 2 * * *").next_runs(2, start)
    assert [r.strftime("%m-%d %H:%M") for r in runs] == ["10-25 02:30", "10-26 02:30"]


# An independent reference: robfig fires at every minute whose local wall clock matches.
_FIELD_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


@st.composite
def cron_field(draw: st.DrawFn, index: int) -> tuple[str, frozenset[int], bool]:
    """(text, values, robfig star bit) for one field, drawn without the module's parser."""
    low, high = _FIELD_RANGES[index]
    # Bias hours towards the DST hours so the edges get exercised.
    pick = st.integers(0, 4) if index == 1 else st.integers(low, high)
    kind = draw(st.sampled_from(["star", "step", "single", "list", "range", "rangestep"]))
    if kind == "star":
        return "*", frozenset(range(low, high + 1)), True
    if kind == "step":
        step = draw(st.integers(1, 12))
        return f"*/{step}", frozenset(range(low, high + 1, step)), step == 1
    if kind == "single":
        value = draw(pick)
        return str(value), frozenset({value}), False
    if kind == "list":
        values = sorted(draw(st.sets(pick, min_size=1, max_size=4)))
        return ",".join(map(str, values)), frozenset(values), False
    a, b = sorted((draw(pick), draw(pick)))
    step = draw(st.integers(1, 5)) if kind == "rangestep" else 1
    text = f"{a}-{b}" + (f"/{step}" if kind == "rangestep" else "")
    return text, frozenset(range(a, b + 1, step)), False


def _reference_fires(when: datetime, fields: list[tuple[str, frozenset[int], bool]]) -> bool:
    (_, minutes, _), (_, hours, _), (_, doms, dom_star), (_, months, _), (_, dows, dow_star) = (
        fields
    )
    dom_ok = when.day in doms
    dow_ok = when.isoweekday() % 7 in dows
    day_ok = (dom_ok and dow_ok) if (dom_star or dow_star) else (dom_ok or dow_ok)
    return when.minute in minutes and when.hour in hours and when.month in months and day_ok


_TRANSITIONS = [
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.tuples(*(cron_field(i) for i in range(5))),
    zone=st.sampled_from(ZONES),
    transition=st.sampled_from(_TRANSITIONS),
    offset_minutes=st.integers(-36 * 60, 12 * 60),
)
def test_next_runs_match_reference(
    fields: tuple[Any, ...], zone: tzinfo, transition: datetime, offset_minutes: int
) -> None:
    expression = " ".join(text for text, _, _ in fields)
    schedule = Schedule.parse(expression)
    assume(schedule.valid)
    start = (transition + timedelta(minutes=offset_minutes, seconds=17)).astimezone(zone)
    runs = schedule.next_runs(8, start)
    assert_sane(runs, start)
    horizon = start.timestamp() + 2 * 86400
    if len(runs) == 8:
        horizon = min(horizon, runs[-1].timestamp())
    expected: list[str] = []
    minute = (int(start.timestamp()) // 60 + 1) * 60
    while minute <= horizon:
        wall = datetime.fromtimestamp(minute, UTC).astimezone(zone)
        if _reference_fires(wall, list(fields)):
            expected.append(wall.strftime("%Y-%m-%d %H:%M%z"))
        minute += 60
    assert walls([r for r in runs if r.timestamp() <= horizon]) == expected, expression


_CRONISH = st.lists(
    st.sampled_from(
        [
            "*",
            "?",
            "0",
            "5",
            "7",
            "23",
            "31",
            "59",
            "60",
            "1-5",
            "5-1",
            "*/2",
            "*/0",
            "/",
            "-",
            ",",
            "MON",
            "jan",
            "L",
            "W",
            "#",
            "H",
            "@daily",
            "@every",
            "@",
            "2026",
            "\x1b",
            "٣",
        ]
    ),
    max_size=9,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=60), _CRONISH), zone=st.sampled_from(ZONES))
def test_parse_describe_next_runs_never_raise(text: str, zone: tzinfo) -> None:
    schedule = Schedule.parse(text)
    assert isinstance(schedule.error, str)
    description = schedule.describe()
    assert description
    assert description.startswith("invalid: ") == bool(schedule.error)
    start = datetime(2026, 10, 24, 23, 59, tzinfo=zone)
    runs = schedule.next_runs(3, start)
    if schedule.error:
        assert runs == []
    assert_sane(runs, start)


# --- zones, deltas, formatting ------------------------------------------------------------


@pytest.fixture
def restore_tz() -> Iterator[None]:
    yield
    time.tzset()


def test_utc() -> None:
    assert utc().utcoffset(None) == timedelta(0)


@pytest.mark.usefixtures("restore_tz")
@pytest.mark.parametrize("setting", ["America/New_York", ":America/New_York"])
def test_local_zone_honours_tz(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("TZ", setting)
    zone = local_zone()
    assert zone == NEW_YORK
    winter = datetime(2026, 1, 1, tzinfo=zone).utcoffset()
    summer = datetime(2026, 7, 1, tzinfo=zone).utcoffset()
    assert (winter, summer) == (timedelta(hours=-5), timedelta(hours=-4))


@pytest.mark.usefixtures("restore_tz")
def test_local_zone_tz_file_path(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path("/usr/share/zoneinfo/Europe/Berlin")
    if not path.exists():
        pytest.skip("no system tz database")
    monkeypatch.setenv("TZ", str(path))
    zone = local_zone()
    assert datetime(2026, 7, 1, tzinfo=zone).utcoffset() == timedelta(hours=2)


@pytest.mark.usefixtures("restore_tz")
def test_local_zone_posix_rule_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    time.tzset()
    zone = local_zone()
    assert isinstance(zone, tzinfo)
    now = datetime.now()
    assert zone.utcoffset(now) == now.astimezone().utcoffset()


@pytest.mark.usefixtures("restore_tz")
def test_local_zone_without_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()
    zone = local_zone()
    now = datetime.now(zone)
    assert now.utcoffset() == datetime.now().astimezone().utcoffset()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "now"),
        (0.4, "now"),
        (-0.9, "now"),
        (1, "in 1s"),
        (45, "in 45s"),
        (45.9, "in 45s"),
        (60, "in 1m"),
        (90, "in 1m 30s"),
        (3600, "in 1h"),
        (3 * 3600 + 12 * 60 + 5, "in 3h 12m"),
        (14 * 3600 + 59 * 60 + 30, "in 14h 59m"),
        (86400, "in 1d"),
        (2 * 86400 + 4 * 3600 + 100, "in 2d 4h"),
        (2 * 86400 + 100, "in 2d"),
        (400 * 86400, "in 400d"),
        (-180, "3m ago"),
        (-45, "45s ago"),
        (-(3 * 3600 + 12 * 60), "3h 12m ago"),
        (float("inf"), "never"),
        (float("nan"), "never"),
    ],
)
def test_humanize_delta(seconds: float, text: str) -> None:
    assert humanize_delta(seconds) == text


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_humanize_delta_never_raises(seconds: float) -> None:
    text = humanize_delta(seconds)
    assert text == "now" or text == "never" or text.startswith("in ") or text.endswith(" ago")


def test_format_next() -> None:
    now = datetime(2026, 11, 25, 15, 0, 30, tzinfo=BERLIN)
    assert format_next(datetime(2026, 11, 26, 6, 0, tzinfo=BERLIN), now) == (
        "2026-11-26 06:00 (in 14h 59m)"
    )
    assert format_next(datetime(2026, 11, 25, 14, 57, 30, tzinfo=BERLIN), now) == (
        "2026-11-25 14:57 (3m ago)"
    )


def test_format_next_across_zones() -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert format_next(datetime(2026, 6, 1, 15, 0, tzinfo=BERLIN), now) == (
        "2026-06-01 15:00 (in 1h)"
    )


def test_format_next_names_the_zone_in_the_repeated_hour() -> None:
    now = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)
    first, second, third = Schedule.parse("30 2 * * *").next_runs(3, now)
    assert format_next(first, now) == "2026-10-25 02:30 CEST (in 2h 30m)"
    assert format_next(second, now) == "2026-10-25 02:30 CET (in 3h 30m)"
    assert format_next(third, now) == "2026-10-26 02:30 (in 1d 3h)"
