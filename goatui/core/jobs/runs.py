"""Plugin jobs across plugins: listing, running one by hand, and what happened when we did.

GoatFlow runs a job by calling its handler with empty args under the job's timeout
(PROTOCOL.md); `call_job` does exactly that, so a run from goatui is the run GoatFlow
would make. Runs started here are kept in a bounded `RunHistory` (per job: the last
`RUNS_PER_JOB` runs, each result cut to `RESULT_KEEP_BYTES`); nothing is written to disk.

Used by the CLI (`goatui jobs`, `goatui job run`) and the console's Jobs view alike.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from goatui.core.backends.base import Backend
from goatui.core.calls.results import ResultView, check_result, classify_result, format_size
from goatui.core.errors import (
    GoatError,
    NotFound,
    PluginError,
    TimedOut,
    Unreachable,
    not_loaded_error,
)
from goatui.core.jobs.spec import JobSpec, jobs_of
from goatui.core.jobs.zones import format_next
from goatui.core.models import CallResult, PluginInfo, natural_key
from goatui.core.sanitize import sanitize_line

# GoatFlow calls a job's handler with no args at all (not "{}").
JOB_ARGS = b""
RUNS_PER_JOB = 20
RESULT_KEEP_BYTES = 64 * 1024
NEXT_RUNS_SHOWN = 10
# The backend enforces the deadline; this slack only catches one that does not
# (a hung resolve, a gateway ignoring its timeout) without cutting a legitimate answer.
_DEADLINE_SLACK_S = 2.0

RunOutcome = Literal["ok", "error", "timeout"]
JobKey = tuple[str, str]


def job_key(spec: JobSpec) -> JobKey:
    return (spec.plugin, spec.id)


# ---------------------------------------------------------------------------------------
# Listing


@dataclass(frozen=True)
class JobListing:
    """Every job the found plugins declare, in plugin then manifest order."""

    plugins: list[PluginInfo]
    jobs: list[JobSpec]

    @property
    def unknown(self) -> list[PluginInfo]:
        """Plugins whose jobs cannot be known: Register failed and no manifest was found."""
        return [p for p in self.plugins if p.error and p.manifest is None]

    @property
    def not_loaded(self) -> list[PluginInfo]:
        """Plugins a gateway lists but has not loaded yet: their jobs are known later."""
        return [p for p in self.plugins if not p.loaded]

    def plugin_names(self) -> list[str]:
        return sorted((p.name for p in self.plugins), key=natural_key)

    def plugin(self, name: str) -> PluginInfo:
        """The plugin listed as name; NotFound (exit 2) naming the known ones if absent."""
        for info in self.plugins:
            if info.name == name:
                return info
        known = ", ".join(self.plugin_names()) or "none found"
        raise NotFound(f"unknown plugin {name!r} (known: {known})", "see `goatui ls`")

    def of_plugin(self, name: str) -> list[JobSpec]:
        """The jobs of one plugin. Unreachable (exit 3) when they cannot be known, a
        RemoteError (exit 1) for a plugin the gateway has not loaded yet."""
        info = self.plugin(name)
        if not info.loaded:
            raise not_loaded_error(name, f"jobs of {name}")
        if info.error and info.manifest is None:
            raise Unreachable(
                f"plugin {name!r} did not answer Register ({info.error}), so its jobs are unknown",
                "pass --plugins-dir to read its manifest",
            )
        return [j for j in self.jobs if j.plugin == name]

    def find(self, plugin: str, job_id: str) -> JobSpec:
        """One job; NotFound (exit 2) naming the known plugins or job ids if absent."""
        jobs = self.of_plugin(plugin)
        for job in jobs:
            if job.id == job_id:
                return job
        if jobs:
            known = "known: " + ", ".join(repr(j.id) for j in jobs)
        elif self.plugin(plugin).manifest is None:
            known = "it sent no manifest; pass --plugins-dir"
        else:
            known = "it declares none"
        raise NotFound(f"plugin {plugin!r} has no job {job_id!r} ({known})")


def jobs_from(plugins: Iterable[PluginInfo]) -> list[JobSpec]:
    """The jobs of these plugins, sorted by plugin name, each plugin's in manifest order."""
    return [job for p in sorted(plugins, key=lambda p: natural_key(p.name)) for job in jobs_of(p)]


async def list_jobs(backend: Backend) -> JobListing:
    plugins = await backend.list_plugins()
    return JobListing(plugins=plugins, jobs=jobs_from(plugins))


# ---------------------------------------------------------------------------------------
# Words and rows


def format_timeout(seconds: float) -> str:
    """A timeout the way a manifest would spell it: "5m", "1m30s", "1h", "500ms", "1.5s"."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    whole = int(seconds)
    if whole != seconds:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v]
    return "".join(parts)


def next_run(spec: JobSpec, now: datetime) -> datetime | None:
    """When GoatFlow runs the job next: None for an invalid schedule or a disabled job."""
    if not spec.enabled:
        return None
    return spec.parsed_schedule.next_run(now)


def next_run_text(spec: JobSpec, now: datetime) -> str:
    """ "2026-11-26 06:00 (in 14h 59m)", "disabled" or "invalid schedule"."""
    schedule = spec.parsed_schedule
    if schedule.error:
        return "invalid schedule"
    if not spec.enabled:
        return "disabled"
    when = schedule.next_run(now)
    return format_next(when, now) if when is not None else "never"


def job_row(spec: JobSpec, now: datetime) -> dict[str, Any]:
    """A job as `goatui jobs --json` prints it; `now` carries the zone times are given in.

    Text comes from the plugin: callers print it with safe_json_dumps.
    """
    schedule = spec.parsed_schedule
    when = next_run(spec, now)
    return {
        "plugin": spec.plugin,
        "id": spec.id,
        "handler": spec.handler,
        "schedule": spec.schedule,
        "describe": None if schedule.error else schedule.describe(),
        "description": spec.description,
        "enabled": spec.enabled,
        "disabled_reason": spec.why_disabled or None,
        "timeout_s": spec.timeout_s,
        "timeout_error": spec.timeout_error or None,
        "next_run": None if when is None else when.isoformat(timespec="seconds"),
        "error": "; ".join(e for e in (schedule.error, spec.field_error) if e) or None,
    }


# ---------------------------------------------------------------------------------------
# Running


def _job_name(spec: JobSpec) -> str:
    return sanitize_line(f"job {spec.id!r} of {spec.plugin}")


async def call_job(backend: Backend, spec: JobSpec, timeout: float | None = None) -> CallResult:
    """Run a job as GoatFlow does: its handler, empty args, the job's timeout.

    `timeout` overrides the job's own. Raises GoatError subclasses; TimedOut (exit 3)
    says which deadline ran out.
    """
    deadline = spec.timeout_s if timeout is None else timeout
    try:
        async with asyncio.timeout(deadline + _DEADLINE_SLACK_S):
            return await backend.call(spec.plugin, spec.handler, JOB_ARGS, deadline)
    except (TimedOut, TimeoutError):
        whose = "the job's timeout" if timeout is None else "--timeout"
        raise TimedOut(
            f"{_job_name(spec)} timed out after {deadline:g}s ({whose})",
            "check the plugin",
        ) from None


@dataclass(frozen=True)
class JobRun:
    """One run started from this goatui: when, how long, how it ended, what it returned."""

    plugin: str
    job: str
    started: float  # epoch seconds
    duration_ms: float | None
    outcome: RunOutcome
    detail: str = ""  # the error line, already sanitised
    result: bytes = b""  # at most the history's result limit
    result_size: int = 0  # the whole result's size

    @property
    def truncated(self) -> bool:
        return len(self.result) < self.result_size

    @property
    def key(self) -> JobKey:
        return (self.plugin, self.job)

    def summary(self) -> str:
        """ "ok in 12 ms, 2 KiB", "timeout after 1.00 s: …", "error in 3 ms: …"."""
        text: str = self.outcome
        if self.duration_ms is not None:
            text += " " + _took(self.duration_ms)
        if self.outcome == "ok":
            return f"{text}, {format_size(self.result_size)}"
        return f"{text}: {self.detail}" if self.detail else text

    def result_view(self) -> ResultView:
        """The kept result classified for display, saying how much was not kept."""
        if not self.truncated:
            return classify_result(self.result)
        kept = _utf8_prefix(self.result)
        note = (
            f"\n… {format_size(self.result_size)} in all; "
            f"only the first {format_size(len(self.result))} were kept"
        )
        if kept is None:
            view = classify_result(self.result)
            return ResultView(view.kind, view.text + note, None, self.result_size)
        base = classify_result(kept)
        return ResultView("text", base.text + note, None, self.result_size)


def _took(ms: float) -> str:
    return f"in {ms:.0f} ms" if ms < 1000 else f"in {ms / 1000:.2f} s"


def _utf8_prefix(data: bytes) -> bytes | None:
    """data without a character cut in half at its end; None when it is not UTF-8."""
    for cut in range(4):
        try:
            (data[: len(data) - cut] if cut else data).decode("utf-8")
        except UnicodeDecodeError:
            continue
        return data[: len(data) - cut] if cut else data
    return None


async def run_job(
    backend: Backend,
    spec: JobSpec,
    *,
    timeout: float | None = None,
    clock: Callable[[], float] = time.time,
    result_limit: int = RESULT_KEEP_BYTES,
) -> JobRun:
    """Run a job and describe how it went. Never raises a GoatError; cancellation passes."""
    started = clock()
    t0 = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - t0) * 1000

    try:
        result = check_result(await call_job(backend, spec, timeout), _job_name(spec))
    except TimedOut as exc:
        return JobRun(spec.plugin, spec.id, started, elapsed(), "timeout", exc.line())
    except PluginError as exc:
        # A failed run, its result (the plugin's {"error": ...}) still kept to look at.
        return JobRun(
            spec.plugin,
            spec.id,
            started,
            exc.duration_ms,
            "error",
            exc.line(),
            result=exc.data[: max(result_limit, 0)],
            result_size=len(exc.data),
        )
    except GoatError as exc:
        return JobRun(spec.plugin, spec.id, started, elapsed(), "error", exc.line())
    data = result.data
    return JobRun(
        spec.plugin,
        spec.id,
        started,
        elapsed(),
        "ok",
        result=data[: max(result_limit, 0)],
        result_size=len(data),
    )


@dataclass
class RunHistory:
    """Runs started from this goatui, newest last, at most `per_job` per job."""

    per_job: int = RUNS_PER_JOB
    result_limit: int = RESULT_KEEP_BYTES
    _runs: dict[JobKey, deque[JobRun]] = field(default_factory=dict)
    _running: set[JobKey] = field(default_factory=set)

    def describe_bounds(self) -> str:
        return (
            f"the last {self.per_job} runs per job are kept, "
            f"results up to {format_size(self.result_limit)} each"
        )

    def start(self, key: JobKey) -> bool:
        """Mark the job running; False when it already is (one run at a time per job)."""
        if key in self._running:
            return False
        self._running.add(key)
        return True

    def is_running(self, key: JobKey) -> bool:
        return key in self._running

    def finish(self, run: JobRun) -> None:
        self._running.discard(run.key)
        self.add(run)

    def abandon(self, key: JobKey) -> None:
        """The run ended without a record (its worker was cancelled)."""
        self._running.discard(key)

    def add(self, run: JobRun) -> None:
        runs = self._runs.setdefault(run.key, deque(maxlen=max(self.per_job, 1)))
        runs.append(run)

    def runs(self, key: JobKey) -> list[JobRun]:
        """Newest first."""
        return list(reversed(self._runs.get(key, ())))

    def last(self, key: JobKey) -> JobRun | None:
        runs = self._runs.get(key)
        return runs[-1] if runs else None
