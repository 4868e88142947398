"""Work that must not grow faster than the fleet: counted, never timed (issues #18, #19).

What is counted is what made large fleets slow before: callbacks registered on one
shared request by each of its waiters (cancelling N of them searched N callbacks each),
and tasks per plugin.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from helpers.gateway_server import ADMIN_TOKEN, GatewayServer, GatewayState, plugin_entry
from hypothesis import given, settings
from hypothesis import strategies as st

from goatui.core.backends.gateway.rest import GatewayBackend
from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.discovery import Sources
from goatui.core.flight import SingleFlight
from goatui.core.jsonstream import NoSuchArray, array_items
from goatui.core.models import Health, Manifest, PluginInfo
from goatui.core.monitor import PluginMonitor

# -- one request shared by many waiters --------------------------------------------------


class CountingTask(asyncio.Task[Any]):
    """A Task that counts the done-callbacks added to and removed from it."""

    added = 0
    removed = 0

    def add_done_callback(self, fn: Any, *, context: Any = None) -> None:
        self.added += 1
        super().add_done_callback(fn, context=context)

    def remove_done_callback(self, fn: Any) -> int:
        self.removed += 1
        return super().remove_done_callback(fn)


def counting_tasks(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> CountingTask:
    return CountingTask(coro, loop=loop, **kwargs)


def listing_task() -> CountingTask:
    [task] = [
        t
        for t in asyncio.all_tasks()
        if isinstance(t, CountingTask) and t.get_coro().__name__ == "_fetch_and_keep"  # type: ignore[union-attr]
    ]
    return task


async def test_waiters_giving_up_do_not_touch_the_shared_request() -> None:
    """600 probes wait for one slow plugin list; 599 give up (deadlines, the console
    closing). Each used to add a callback to the shared request and remove it by
    searching all of them: quadratic, minutes at 60,000 plugins (issue #18)."""
    state = GatewayState(plugins={"alpha": plugin_entry("alpha")})
    asyncio.get_running_loop().set_task_factory(counting_tasks)  # type: ignore[arg-type]
    with GatewayServer(state) as gw:
        backend = GatewayBackend(gw.url, token=ADMIN_TOKEN)
        [alpha] = await backend.list_plugins()
        backend._forget_snapshot()  # the next probes share one new request
        state.delay = 0.3
        probes = [asyncio.ensure_future(backend.probe(alpha)) for _ in range(600)]
        await asyncio.sleep(0.05)
        shared = listing_task()
        for probe in probes[1:]:
            probe.cancel()
        answer = await probes[0]
        await backend.close()
    assert answer.health is Health.ENABLED
    assert state.count("GET", "/api/v1/plugins") == 2  # the listing, then one for all
    # One callback for the outcome, whatever the number of waiters.
    assert (shared.added, shared.removed) == (1, 0)


async def test_probe_all_answers_every_plugin_from_one_request() -> None:
    names = [f"p{i:04d}" for i in range(2000)]
    state = GatewayState(plugins={n: plugin_entry(n, enabled=n != "p0007") for n in names})
    with GatewayServer(state) as gw:
        backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, snapshot_ttl=0.0)
        plugins = await backend.list_plugins()
        before = len(asyncio.all_tasks())
        probing = asyncio.ensure_future(backend.probe_all(plugins))
        await asyncio.sleep(0)
        # No task per plugin: the probes of 2,000 plugins are one request.
        during = len(asyncio.all_tasks())
        probes = await probing
        await backend.close()
    assert during - before <= 2
    assert len(probes) == len(plugins)
    health = {p.name: probe.health for p, probe in zip(plugins, probes, strict=True)}
    assert health["p0007"] is Health.DISABLED and health["p1999"] is Health.ENABLED
    assert state.count("GET", "/api/v1/plugins") == 2


async def test_a_caller_between_a_run_ending_and_its_waiters_told_hangs_no_one() -> None:
    """A run ends; before its done-callback tells its waiters, another caller starts the
    next run. The first run's waiters still get its result (they hung for good: the
    console's Logs view of a fleet, now and then, under load)."""
    flight: SingleFlight[int] = SingleFlight()
    runs = 0

    async def job() -> int:
        nonlocal runs
        runs += 1
        return runs

    first = asyncio.ensure_future(flight.run(job))
    await asyncio.sleep(0)  # first starts the run; it is due to end in the next step
    second = asyncio.ensure_future(flight.run(job))  # steps after it, before its callback
    assert await asyncio.wait_for(first, 5) == 1
    assert await asyncio.wait_for(second, 5) == 2
    assert flight.waiting == 0


async def test_single_flight_shares_one_run() -> None:
    flight: SingleFlight[int] = SingleFlight()
    started = 0
    release = asyncio.Event()

    async def job() -> int:
        nonlocal started
        started += 1
        await release.wait()
        return 42

    def make() -> Coroutine[Any, Any, int]:
        return job()

    waiters = [asyncio.ensure_future(flight.run(make)) for _ in range(10)]
    await asyncio.sleep(0)
    waiters[0].cancel()  # one gives up: the run goes on for the others
    await asyncio.sleep(0)
    assert flight.in_flight and flight.waiting == 9
    release.set()
    assert await asyncio.gather(*waiters[1:]) == [42] * 9
    assert started == 1 and flight.waiting == 0

    async def failing() -> int:
        raise ValueError("listing failed")

    results = await asyncio.gather(*(flight.run(failing) for _ in range(3)), return_exceptions=True)
    assert [type(r) for r in results] == [ValueError] * 3


async def test_single_flight_cancel_ends_the_run_for_its_waiters() -> None:
    flight: SingleFlight[None] = SingleFlight()
    waiter = asyncio.ensure_future(flight.run(lambda: asyncio.sleep(30)))
    await asyncio.sleep(0)
    flight.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


# -- reading a large list entry by entry ---------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(json_values, max_size=6),
    others=st.dictionaries(st.text().filter(lambda k: k != "plugins"), json_values, max_size=3),
    indent=st.sampled_from([None, 0, 2]),
)
def test_array_items_reads_what_json_loads_reads(
    items: list[Any], others: dict[str, Any], indent: int | None
) -> None:
    text = json.dumps({**others, "plugins": items, "z": others}, indent=indent)
    read = list(array_items(text, "plugins"))
    assert [item for item, _, _ in read] == json.loads(text)["plugins"]
    assert [json.loads(text[start:end]) for _, start, end in read] == items


@pytest.mark.parametrize(
    "text",
    ['{"plugins": [1, 2', '{"plugins": [1,]}', '{"plugins": [1]} x', '{"a" 1}', ""],
)
def test_array_items_refuses_what_json_loads_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        list(array_items(text, "plugins"))


@pytest.mark.parametrize("text", ["{}", '{"plugins": null}', '{"other": []}'])
def test_array_items_without_the_array(text: str) -> None:
    with pytest.raises(NoSuchArray):
        list(array_items(text, "plugins"))
    with pytest.raises(ValueError, match="not a JSON object"):
        list(array_items("[]", "plugins"))


def test_deferred_manifest_is_read_when_first_used() -> None:
    text = json.dumps({"name": "alpha", "jobs": [{"id": "j", "handler": "h"}]})
    deferred = Manifest.deferred(text, "gateway")
    assert deferred == Manifest.deferred(text, "gateway")  # compared unread
    assert deferred.name == "alpha" and deferred.handlers() == ["h"]
    assert deferred == Manifest.parse(text, "gateway")
    assert deferred != Manifest.parse(text, "plugin")


# -- the console's monitor: probes follow what is on screen --------------------------------


async def test_a_gateway_fleet_is_probed_in_one_batch_without_a_task_per_plugin(
    eventually: Any,
) -> None:
    names = [f"p{i:04d}" for i in range(3000)]
    state = GatewayState(plugins={n: plugin_entry(n) for n in names})
    with GatewayServer(state) as gw:
        backend = GatewayBackend(gw.url, token=ADMIN_TOKEN, snapshot_ttl=0.0)
        monitor = PluginMonitor(backend, interval=0.1, discover_interval=30)
        before = len(asyncio.all_tasks())
        await monitor.start()
        try:
            await eventually(
                lambda: all(s.probes >= 2 for s in monitor.states.values()), 10, "two rounds"
            )
            assert len(monitor.states) == 3000
            # Discovery and one probe loop (and what each waits on), whatever the number
            # of plugins: it was a task per plugin, and a wait_for task per probe.
            assert len(asyncio.all_tasks()) - before <= 4
        finally:
            await monitor.stop()
            await backend.close()


async def test_plugins_out_of_view_are_sampled_not_probed_every_interval(
    plugins: Any, eventually: Any
) -> None:
    running = [plugins.start(name) for name in ("alpha", "beta", "gamma")]
    sources = Sources(sockets=[str(p.socket) for p in running])
    backend = SocketBackend(sources, probe_timeout=0.5, register_timeout=1.0)
    monitor = PluginMonitor(backend, interval=0.1, sample_interval=30, discover_interval=30)
    await monitor.start()
    try:
        states = {s.name: s for s in monitor.states.values()}
        await eventually(lambda: all(s.watching for s in states.values()), 5, "Watch streams")
        monitor.set_in_view([states["alpha"].key])
        counted = {name: s.probes for name, s in states.items()}
        await eventually(lambda: states["alpha"].probes >= counted["alpha"] + 8, 5, "probes")
        # Watched and out of view: at most the probe already scheduled, then a sample.
        assert states["beta"].probes <= counted["beta"] + 1
        assert states["gamma"].probes <= counted["gamma"] + 1
        assert states["beta"].latency_at is not None
        # Scrolled into view: probed within an interval again.
        monitor.set_in_view([states["gamma"].key])
        before = states["gamma"].probes
        await eventually(lambda: states["gamma"].probes >= before + 3, 5, "gamma probed")
    finally:
        await monitor.stop()
        await backend.close()


async def test_a_plugin_restarting_is_asked_its_name_again_and_others_are_not(
    plugins: Any, eventually: Any
) -> None:
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    sources = Sources(sockets=[str(alpha.socket), str(beta.socket)])
    backend = CountingRegister(sources, probe_timeout=0.5, register_timeout=1.0)
    try:
        await backend.list_plugins()
        await backend.list_plugins()
        assert backend.registered == {str(alpha.socket): 1, str(beta.socket): 1}
        alpha.stop()
        alpha.start()  # a new socket file at the same path
        [first, _] = await backend.list_plugins()
        assert first.name == "alpha" and not first.error
        assert backend.registered == {str(alpha.socket): 2, str(beta.socket): 1}
    finally:
        await backend.close()


class CountingRegister(SocketBackend):
    """The real socket backend, counting the plugins it asks their names (Register)."""

    registered: dict[str, int]

    async def _register(self, path: str) -> PluginInfo:
        self.registered = getattr(self, "registered", {})
        self.registered[path] = self.registered.get(path, 0) + 1
        return await super()._register(path)


# -- views of long lists: rows made when drawn, next runs off the UI thread ------------------


async def test_ten_thousand_jobs_make_only_the_rows_drawn_off_the_ui_thread(
    plugins: Any, make_console: Any, eventually: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """10,000 jobs in one manifest froze the console 3-10 s a key (issue #18): every
    row was made, and every next run computed, on the UI thread at each change."""
    import goatui.ui.views.jobs as jobs_view

    jobs = [
        {"id": f"job-{i:05d}", "schedule": f"{i % 60} {i % 24} * * *", "handler": "echo"}
        for i in range(10_000)
    ]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"name": "busy", "jobs": jobs}))
    busy = plugins.start("busy", TESTPLUGIN_MANIFEST=str(manifest))
    computed: list[bool] = []  # per next run computed: on the UI thread?
    real_next_run = jobs_view.next_run

    def counted(spec: Any, now: Any) -> Any:
        computed.append(threading.current_thread() is threading.main_thread())
        return real_next_run(spec, now)

    monkeypatch.setattr(jobs_view, "next_run", counted)
    app = make_console(busy)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(jobs_view.JobsView)
        await eventually(lambda: view.table.row_count == 10_000, 10, "10,000 rows")
        await pilot.press("4")
        await pilot.pause()
        shown = view.table.size.height - 1
        first = view.table.rows_in_view()

        def known(keys: list[str]) -> bool:
            return all(view.table.get_cell(k, "next").plain != "…" for k in keys)

        await eventually(lambda: known(first), 10, "next runs of the rows drawn")
        assert not any(computed), "a next run was computed on the UI thread"
        assert 0 < len(computed) <= 3 * shown
        assert len(view.table.made_rows()) <= 3 * shown
        await pilot.press("end")
        await pilot.pause()
        last = view.table.rows_in_view()[-1]
        await eventually(lambda: known([last]), 10, "the last row's next run")
        assert view.table.get_cell(last, "job").plain == "job-09999"
        assert len(computed) <= 6 * shown and not any(computed)


async def test_two_thousand_widgets_mount_a_page_and_fetch_only_what_is_on_screen(
    plugins: Any, make_console: Any, eventually: Any, tmp_path: Path
) -> None:
    """2,000 widgets froze the console (issue #18): 2,000 panels mounted and laid out,
    and 2,000 calls at once when the view was shown."""
    from goatui.ui.views.widgets import WidgetPanel, WidgetsView

    page = 30  # a page of panels; what fills the screen and one below is a few
    widgets = [
        {"id": f"w{i:04d}", "title": f"W {i}", "handler": "widget_json", "size": "small"}
        for i in range(2000)
    ]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"name": "board", "widgets": widgets}))
    board = plugins.start("board", TESTPLUGIN_MANIFEST=str(manifest))
    app = make_console(board)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(WidgetsView)
        await eventually(lambda: len(view.panels) > 0, 10, "the first page")
        assert len(view.panels) <= page + 2  # a page, rounded up to whole rows
        await pilot.press("3")
        fetched = lambda: [p for p in view.panels if p.memory.last is not None]  # noqa: E731
        await eventually(lambda: fetched() and not any(p.fetching for p in view.panels), 10, "")
        # Pages mounted until they fill the screen and one below; fetched: only those.
        mounted = len(view.panels)
        assert len(fetched()) <= mounted <= 4 * page
        assert "2,000 widgets" in str(view.query_one("#widgets-header").content)  # type: ignore[attr-defined]
        # Moving past the last panel mounted mounts the next page (and what fills the
        # screen below it): what is mounted follows where the operator is.
        last = view.panels[-1]
        last.focus()
        await pilot.press("right")
        await eventually(lambda: len(view.panels) > mounted, 5, "the next page")
        await eventually(lambda: app.focused is not last, 5, "focus moved on")
        assert isinstance(app.focused, WidgetPanel)
        assert app.focused.spec.id == f"w{int(last.spec.id[1:]) + 1:04d}"
        assert len(view.panels) <= 3 * mounted
