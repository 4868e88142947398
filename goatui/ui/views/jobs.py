"""The Jobs view (key 4): every job of every plugin, its schedule, and runs from here.

Jobs come from the manifests the monitor already holds (no extra calls). Next runs are
computed from "now" (the console clock, injectable for tests) in the operator's zone,
or UTC after `u`; a cheap one-second tick moves the "in …" text along. `t` runs the selected
job after a confirmation, as GoatFlow would (goatui.core.jobs.run_job), in a worker:
the row says "running…" until the outcome lands there and in the job's run history.

A manifest may declare thousands of jobs (10,000 froze the console 3-10 s a key, issue
#18): the table makes only the rows it draws (`RowTable.show_keys`), and next runs are
computed in a thread, for those rows only, the cell saying "…" until they are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import partial

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from goatui.core.calls.history import HistoryEntry
from goatui.core.jobs.runs import (
    NEXT_RUNS_SHOWN,
    JobKey,
    JobRun,
    RunHistory,
    format_timeout,
    job_key,
    jobs_from,
    next_run,
    run_job,
)
from goatui.core.jobs.spec import JobSpec
from goatui.core.jobs.zones import format_next, in_zone, local_zone, utc, zone_label
from goatui.core.sanitize import safe_text, sanitize_line
from goatui.ui import auditing
from goatui.ui.context import ConsoleContext
from goatui.ui.errors import toast
from goatui.ui.format import shorten
from goatui.ui.messages import PluginsChanged, RefreshRequested
from goatui.ui.screens.confirm import ConfirmScreen
from goatui.ui.screens.job_result import JobResultScreen
from goatui.ui.scrolling import VimScroll
from goatui.ui.views.base import View
from goatui.ui.widgets.plugin_table import tone_colours
from goatui.ui.widgets.row_table import Column, RowTable

Colours = Mapping[str, str]

COLUMNS = (
    Column("plugin", "Plugin"),
    Column("job", "Job"),
    Column("next", "Next run"),
    Column("last", "Last run here"),
    Column("schedule", "Schedule"),
    Column("reads", "Reads as"),
    Column("enabled", "Enabled"),
    Column("timeout", "Timeout", justify="right"),
    Column("description", "Description"),
)
READS_WIDTH = 34
DESCRIPTION_WIDTH = 48
# "in 12m 5s" counts seconds under an hour; a tick only formats cached next runs and
# touches the cells whose text changed, so once a second stays cheap.
TICK_S = 1.0
# Next runs computed by one thread run at most (the rows drawn ask for a screenful).
NEXT_BATCH = 200


# -- cells (pure: no widgets) ----------------------------------------------------------


def next_cell(
    spec: JobSpec, when: datetime | None, now: datetime, colours: Colours, *, known: bool = True
) -> Text:
    """`when` is the job's next run (goatui.core.jobs.next_run), computed by the caller;
    `known` False while it is being computed."""
    if spec.parsed_schedule.error:
        return Text("✖ invalid schedule", style=colours.get("error", ""))
    if not spec.enabled:
        return Text("disabled", style=colours.get("muted", ""))
    if not known:
        return Text("…", style=colours.get("muted", ""))
    return Text(format_next(when, now) if when is not None else "never")


def took(duration_ms: float | None) -> str:
    if duration_ms is None:
        return ""
    return f"{duration_ms:.0f} ms" if duration_ms < 1000 else f"{duration_ms / 1000:.2f} s"


def last_cell(run: JobRun | None, running: bool, zone: tzinfo, colours: Colours) -> Text:
    """Short on purpose (mark, time, outcome, duration): the detail pane has the rest."""
    if running:
        return Text("running…", style=colours.get("warning", ""))
    if run is None:
        return Text("-", style=colours.get("muted", ""))
    at = in_zone(run.started, zone).strftime("%H:%M:%S")
    ok = run.outcome == "ok"
    return Text(
        f"{'✔' if ok else '✖'} {at} {run.outcome} {took(run.duration_ms)}".rstrip(),
        style=colours.get("success" if ok else "error", ""),
    )


def row_cells(
    spec: JobSpec,
    when: datetime | None,
    now: datetime,
    run: JobRun | None,
    running: bool,
    colours: Colours,
    *,
    known: bool = True,
) -> dict[str, Text]:
    """Every cell of a job's row, in column order; plugin text goes through the sanitiser.
    `known` False: the next run is being computed."""
    schedule = spec.parsed_schedule
    reads = Text(shorten(sanitize_line(schedule.describe()), READS_WIDTH))
    if schedule.error:
        reads.stylize(colours.get("error", ""))
    timeout = Text(format_timeout(spec.timeout_s), justify="right")
    if spec.timeout_error:
        timeout.append(" !", style=colours.get("warning", ""))
    cells = {
        "plugin": safe_text(spec.plugin, "bold", one_line=True),
        "job": safe_text(spec.id or "(no id)", one_line=True),
        "schedule": safe_text(spec.schedule or "(none)", one_line=True),
        "reads": reads,
        "next": next_cell(spec, when, now, colours, known=known),
        "last": last_cell(run, running, now.tzinfo or utc(), colours),
        "enabled": Text(spec.enabled_word, "" if spec.enabled else colours.get("warning", "")),
        "timeout": timeout,
        "description": safe_text(shorten(spec.description, DESCRIPTION_WIDTH), one_line=True),
    }
    return {column.key: cells[column.key] for column in COLUMNS}


def detail_renderable(
    spec: JobSpec,
    now: datetime,
    runs: list[JobRun],
    running: bool,
    bounds: str,
    colours: Colours,
) -> Group:
    """The expanded detail: the job's settings, then its next runs beside its runs here."""
    schedule = spec.parsed_schedule
    zone = now.tzinfo or utc()
    muted, error = colours.get("muted", ""), colours.get("error", "")
    title = Text.assemble(
        safe_text(spec.plugin, "bold", one_line=True),
        " · ",
        safe_text(spec.id or "(no id)", "bold", one_line=True),
        "  handler ",
        safe_text(spec.handler or "(none)", one_line=True),
        f" · timeout {format_timeout(spec.timeout_s)}",
        " · enabled" if spec.enabled else f" · {spec.disabled_text}",
    )
    parts: list[Text | Table] = [title]
    if spec.description:
        parts.append(safe_text(spec.description, one_line=True))
    parts.append(
        Text.assemble(
            "schedule ",
            safe_text(spec.schedule or "(none)", one_line=True),
            ": ",
            safe_text(schedule.describe(), error if schedule.error else "", one_line=True),
        )
    )
    for problem in (spec.field_error, spec.timeout_error):
        if problem:
            parts.append(safe_text(problem, colours.get("warning", ""), one_line=True))

    ahead: list[Text] = []
    if schedule.error:
        ahead.append(Text("none: the schedule is invalid", style=error))
    else:
        ahead = [Text(format_next(when, now)) for when in schedule.next_runs(NEXT_RUNS_SHOWN, now)]
        if not ahead:
            ahead.append(Text("none in the years ahead", style=muted))
    done: list[Text] = []
    if running:
        done.append(Text("running…", style=colours.get("warning", "")))
    for run in runs:
        tone = colours.get("success" if run.outcome == "ok" else "error", "")
        at = in_zone(run.started, zone).strftime("%m-%d %H:%M:%S")
        done.append(Text.assemble(at + " ", safe_text(run.summary(), tone, one_line=True)))
    if not done:
        done.append(Text("none yet; t runs it now", style=muted))

    label = zone_label(zone, now.timestamp())
    heading = f"next {NEXT_RUNS_SHOWN} runs ({label})"
    if not spec.enabled and not schedule.error:
        heading = f"next {NEXT_RUNS_SHOWN} times it names ({label})"
    grid = Table.grid(padding=(0, 3))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(heading, style="underline"), Text("runs from here", style="underline"))
    for index in range(max(len(ahead), len(done))):
        left = ahead[index] if index < len(ahead) else Text("")
        right = done[index] if index < len(done) else Text("")
        grid.add_row(left, right)
    parts.append(grid)
    hint = f"{bounds}; v shows the last result" if runs else bounds
    parts.append(Text(hint, style=muted))
    return Group(*parts)


# -- the view ----------------------------------------------------------------------------


# Below this many columns the table leaves out what the detail pane (n) says too, and
# puts the schedule before the last run here (mostly "-"), so the next run and the
# schedule stay readable at 80x24.
NARROW_TABLE = 100
NARROW_ORDER = ("plugin", "job", "next", "schedule", "last", "enabled")
NARROW_COLUMNS = tuple(next(c for c in COLUMNS if c.key == key) for key in NARROW_ORDER)


class JobTable(RowTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)


class JobsView(View):
    LISTENS = True

    BINDINGS = [
        Binding("t", "trigger", "Run now", id="jobs.trigger"),
        Binding("n", "toggle_next", "Next runs", id="jobs.next"),
        Binding("u", "toggle_utc", "UTC / local", id="jobs.utc"),
        Binding("v", "view_result", "Last result", id="jobs.result"),
    ]

    def __init__(self, ctx: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(ctx, id=id)
        self._local_zone: tzinfo | None = None
        self.use_utc = False
        self.runs = RunHistory()
        self.expanded = False
        self._jobs: list[JobSpec] = []
        self._by_row: dict[str, JobSpec] = {}
        # The plugins (and their infos) the jobs were read from: read again on a change.
        self._read_from: tuple[tuple[str, object], ...] | None = None
        # Per row: the next run (recomputed only once it has passed) and the text drawn.
        self._next: dict[str, datetime | None] = {}
        self._next_drawn: dict[str, str] = {}
        self._now = in_zone(0.0, utc())  # "now" for rows made until the next tick
        # Rows whose next run is wanted, not known (or passed); the thread computing some.
        self._wanted: set[str] = set()
        self._computing = False
        # Bumped when known next runs become wrong (new rows, another zone): a thread's
        # answer from before is dropped.
        self._next_generation = 0

    def compose(self) -> ComposeResult:
        if self.ctx.read_only:
            yield Static("read-only: job triggers (t) are disabled", id="jobs-read-only")
        yield Static(id="jobs-header")
        yield JobTable(id="jobs-table")
        with VimScroll(id="jobs-detail"):
            yield Static(id="jobs-detail-text")

    def on_mount(self) -> None:
        self._colours = tone_colours(self.app)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self.set_interval(TICK_S, self.tick)
        self.reload()

    def default_focus(self) -> Widget | None:
        return self.table

    # -- state -------------------------------------------------------------------------

    @property
    def table(self) -> JobTable:
        return self.query_one(JobTable)

    @property
    def zone(self) -> tzinfo:
        if self.use_utc:
            return utc()
        if self._local_zone is None:
            self._local_zone = local_zone()
        return self._local_zone

    def now(self) -> datetime:
        return in_zone(self.ctx.clock(), self.zone)

    def selected(self) -> JobSpec | None:
        key = self.table.selected_key
        return self._by_row.get(key) if key else None

    def select(self, plugin: str, job_id: str) -> bool:
        """Move the cursor to a job's (first) row; False when no such job is shown."""
        for index, spec in enumerate(self._by_row.values()):
            if (spec.plugin, spec.id) == (plugin, job_id):
                self.table.move_cursor(row=index, animate=False)
                return True
        return False

    def row_key_of(self, plugin: str, job_id: str) -> str | None:
        return next(
            (k for k, s in self._by_row.items() if (s.plugin, s.id) == (plugin, job_id)), None
        )

    @property
    def computing_next(self) -> bool:
        """Next runs of rows drawn are still being computed."""
        return self._computing or bool(self._wanted)

    # -- drawing -----------------------------------------------------------------------

    def reload(self) -> None:
        """Take the jobs from the manifests the monitor holds; rebuild rows if they changed."""
        if not self._read_jobs():
            self._draw_header()
            self._redraw_rows()
            self._draw_detail()

    def _read_jobs(self) -> bool:
        """Read the jobs again if the plugins changed since; True when the rows were made
        again. Reading 10,000 jobs costs ~35 ms: not at every probe of every plugin."""
        plugins = self.ctx.live_plugins()
        read_from = tuple((s.key, s.info) for s in plugins)
        if read_from == self._read_from:
            return False
        self._read_from = read_from
        jobs = jobs_from(s.info for s in plugins)
        if jobs == self._jobs:
            return False
        self._jobs = jobs
        self._rebuild()
        return True

    def on_resize(self) -> None:
        columns = NARROW_COLUMNS if 0 < self.size.width < NARROW_TABLE else COLUMNS
        if columns != self.table.columns:
            self.table.set_columns(columns)
            self._rebuild()

    def _rebuild(self) -> None:
        self._by_row = {}
        self._forget_next()
        seen: dict[JobKey, int] = {}
        for spec in self._jobs:
            key = job_key(spec)
            # A manifest may repeat an id: rows still need distinct keys.
            seen[key] = seen.get(key, 0) + 1
            row_key = f"{spec.plugin}\x00{spec.id}\x00{seen[key]}"
            self._by_row[row_key] = spec
        self._now = self.now()
        self.table.show_keys(list(self._by_row), self._make_row, self._fitted_widths())
        self._draw_header()
        self._draw_detail()

    def _fitted_widths(self) -> dict[str, int]:
        """The columns of the manifests' own text, measured over every job; the others
        fit the rows drawn."""
        widths = {"plugin": 0, "job": 0, "schedule": 0}
        for spec in self._jobs:
            widths["plugin"] = max(widths["plugin"], cell_len(sanitize_line(spec.plugin)))
            widths["job"] = max(widths["job"], cell_len(sanitize_line(spec.id or "(no id)")))
            text = sanitize_line(spec.schedule or "(none)")
            widths["schedule"] = max(widths["schedule"], cell_len(text))
        return widths

    def _forget_next(self) -> None:
        """Known next runs no longer apply (other rows, another zone)."""
        self._next.clear()
        self._next_drawn.clear()
        self._wanted.clear()
        self._next_generation += 1

    def _next_of(self, row_key: str, spec: JobSpec, now: datetime) -> tuple[datetime | None, bool]:
        """The next run and whether it is known; asks for it (in a thread) if not, or
        if it has passed (the one that passed is shown meanwhile)."""
        if row_key in self._next:
            when = self._next[row_key]
            # Compared as instants: wall clocks repeat in the fall-back hour.
            if when is None or when.timestamp() > now.timestamp():
                return when, True
            self._want(row_key)
            return when, True
        self._want(row_key)
        return None, False

    def _want(self, row_key: str) -> None:
        self._wanted.add(row_key)
        if not self._computing:
            self.call_later(self._compute_next)

    def _compute_next(self) -> None:
        """Next runs of rows drawn, in a thread: croniter takes ~0.2 ms a job."""
        if self._computing or not self._wanted:
            return
        batch = []
        for row_key in list(self._wanted)[:NEXT_BATCH]:
            self._wanted.discard(row_key)
            if row_key in self._by_row:
                batch.append((row_key, self._by_row[row_key]))
        if not batch:
            return
        self._computing = True
        generation, now = self._next_generation, self.now()

        def compute() -> None:
            found = {row_key: next_run(spec, now) for row_key, spec in batch}
            self.app.call_from_thread(self._next_known, generation, found)

        self.run_worker(compute, thread=True, group="jobs-next", exit_on_error=False)

    def _next_known(self, generation: int, found: dict[str, datetime | None]) -> None:
        self._computing = False
        if generation == self._next_generation:
            self._next.update(found)
            now = self.now()
            made = set(self.table.made_rows())
            for row_key in found:
                if row_key in made:
                    self._update_next_cell(row_key, self._by_row[row_key], now)
        self._compute_next()

    def _make_row(self, row_key: str) -> dict[str, Text]:
        spec = self._by_row[row_key]
        key = job_key(spec)
        when, known = self._next_of(row_key, spec, self._now)
        cells = row_cells(
            spec,
            when,
            self._now,
            self.runs.last(key),
            self.runs.is_running(key),
            self._colours,
            known=known,
        )
        self._next_drawn[row_key] = cells["next"].plain
        return cells

    def _redraw_rows(self, only: JobKey | None = None) -> None:
        """Make the rows kept again (the others are made when drawn)."""
        self._now = self.now()
        for row_key in self.table.made_rows():
            if only is None or job_key(self._by_row[row_key]) == only:
                self.table.update_row(row_key, self._make_row(row_key))

    def _update_next_cell(self, row_key: str, spec: JobSpec, now: datetime) -> None:
        when, known = self._next_of(row_key, spec, now)
        cell = next_cell(spec, when, now, self._colours, known=known)
        if cell.plain != self._next_drawn.get(row_key):
            self._next_drawn[row_key] = cell.plain
            self.table.update_cell(row_key, "next", cell)

    def tick(self) -> None:
        """Move the "in …" texts along: only the next-run cells drawn whose text changed."""
        self._now = now = self.now()
        for row_key in self.table.made_rows():
            self._update_next_cell(row_key, self._by_row[row_key], now)
        self._draw_detail()

    def _draw_header(self) -> None:
        plugins = len({s.plugin for s in self._jobs})
        count = len(self._jobs)
        label = zone_label(self.zone, self.now().timestamp())
        other = "local time" if self.use_utc else "UTC"
        text = (
            f"{count:,} job{'s' * (count != 1)} in {plugins:,} plugin{'s' * (plugins != 1)}"
            f" · times in {label} (u: {other}) · enter or n: next {NEXT_RUNS_SHOWN} runs"
        )
        if not self._jobs:
            text = "no jobs: no plugin found declares any (manifest `jobs`)"
        self.query_one("#jobs-header", Static).update(safe_text(text, one_line=True))

    def _draw_detail(self) -> None:
        self.set_class(self.expanded, "-expanded")
        if not self.expanded:
            return
        spec = self.selected()
        text = self.query_one("#jobs-detail-text", Static)
        if spec is None:
            text.update("")
            return
        key = job_key(spec)
        text.update(
            detail_renderable(
                spec,
                self.now(),
                self.runs.runs(key),
                self.runs.is_running(key),
                self.runs.describe_bounds(),
                self._colours,
            )
        )

    def _on_theme_changed(self, _theme: object) -> None:
        self._colours = tone_colours(self.app)
        self.table.forget_drawn()
        self._draw_detail()

    # -- messages ----------------------------------------------------------------------

    def on_plugins_changed(self, _message: PluginsChanged) -> None:
        self._read_jobs()  # most updates are probes: nothing to redraw here

    def context_changed(self, old: str, new: str) -> None:
        """Runs from here were the old context's: a job of the same name is not that one."""
        self.workers.cancel_group(self, "jobs")
        self.runs = RunHistory()
        self.reload()

    def on_refresh_requested(self, _message: RefreshRequested) -> None:
        self.reload()

    @on(RowTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._draw_detail()
        self.refresh_bindings()

    @on(RowTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_toggle_next()

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None keeps the key in the footer, dimmed: visibly there but unavailable.
        if action == "trigger" and self.ctx.read_only:
            return None
        if action == "view_result":
            spec = self.selected()
            return None if spec is None or self.runs.last(job_key(spec)) is None else True
        return True

    def action_toggle_next(self) -> None:
        self.expanded = not self.expanded
        self._draw_detail()

    def action_toggle_utc(self) -> None:
        self.use_utc = not self.use_utc
        self._forget_next()  # same instants, but shown in the other zone
        self._draw_header()
        self._redraw_rows()
        self._draw_detail()

    def action_view_result(self) -> None:
        spec = self.selected()
        run = self.runs.last(job_key(spec)) if spec is not None else None
        if spec is None or run is None:
            toast(self, "no run of this job from this console yet (t runs it)")
            return
        self.app.push_screen(JobResultScreen(spec, run, self.zone))

    def action_trigger(self) -> None:
        if self.ctx.read_only:
            toast(self, "read-only: job triggers are disabled", severity="warning")
            return
        spec = self.selected()
        if spec is None:
            toast(self, "no job selected", severity="warning")
            return
        if self.runs.is_running(job_key(spec)):
            toast(self, f"{spec.plugin} · {spec.id} is already running", severity="warning")
            return
        self.app.push_screen(confirm_run_job(spec), partial(self._confirmed, spec))

    def _confirmed(self, spec: JobSpec, confirmed: bool | None) -> None:
        if not confirmed or self.ctx.read_only:
            return
        if not self.runs.start(job_key(spec)):
            return
        self._redraw_rows(job_key(spec))
        self._draw_detail()
        self._run(spec)

    @work(group="jobs", exit_on_error=False)
    async def _run(self, spec: JobSpec) -> None:
        key = job_key(spec)
        try:
            run = await run_job(
                self.ctx.backend, spec, clock=self.ctx.clock, result_limit=self.runs.result_limit
            )
        except BaseException:
            self.runs.abandon(key)  # cancelled (the console is closing) or a bug
            raise
        self.runs.finish(run)
        failed = run.outcome != "ok"
        target = f"{spec.plugin}/{spec.id or spec.handler}"
        auditing.record(self, self.ctx, "job-trigger", target, error=run.detail if failed else None)
        self._redraw_rows(key)
        self._draw_detail()
        self.refresh_bindings()
        toast(
            self,
            f"{spec.plugin} · {spec.id}: {run.summary()}",
            severity="information" if run.outcome == "ok" else "error",
        )
        self._remember(spec, run)

    def _remember(self, spec: JobSpec, run: JobRun) -> None:
        """Into the console's call history too: a job run is a call of its handler."""
        ok = run.outcome == "ok"
        entry = HistoryEntry.make(
            spec.plugin,
            spec.handler,
            "",
            run.started,
            run.duration_ms,
            "ok" if ok else "error",
            "OK" if ok else run.detail,
        )
        self.run_worker(
            partial(self.ctx.history.append, entry),
            thread=True,
            group="history",
            exit_on_error=False,
        )


def confirm_run_job(spec: JobSpec) -> ConfirmScreen:
    """Names the plugin, the job and how it will run; Cancel has the focus."""
    question = Text.assemble(
        "Run job ",
        safe_text(spec.id or "(no id)", "bold", one_line=True),
        " of plugin ",
        safe_text(spec.plugin, "bold", one_line=True),
        " now?",
    )
    detail = Text.assemble(
        "handler ",
        safe_text(spec.handler or "(none)", one_line=True),
        f", empty args, timeout {format_timeout(spec.timeout_s)}",
    )
    warning = "" if spec.enabled else f"It is {spec.disabled_text}."
    return ConfirmScreen(question, "Run", detail=detail, warning=warning)
