"""PluginMonitor against real plugin processes: states, Watch, backoff, discovery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.discovery import Sources
from goatui.core.models import Health, PluginInfo, Probe
from goatui.core.monitor import GONE, PENDING, PluginMonitor, PluginState, Transition

Eventually = Callable[..., Any]
FAST = {"interval": 0.2, "discover_interval": 0.3, "max_backoff": 0.8, "probe_deadline": 2.0}


def backend_for(*sockets: Path, globs: list[str] | None = None) -> SocketBackend:
    sources = Sources(sockets=[str(s) for s in sockets], globs=globs or [])
    return SocketBackend(sources, probe_timeout=0.5, register_timeout=1.0)


def only(monitor: PluginMonitor) -> PluginState:
    (state,) = monitor.states.values()
    return state


async def test_serving_plugin_has_state_latency_and_bounded_buffers(
    plugins: Any, eventually: Eventually
) -> None:
    alpha = plugins.start("alpha")
    monitor = PluginMonitor(backend_for(alpha.socket), **FAST, window=4, history=2)
    await monitor.start()
    try:
        state = only(monitor)
        assert state.name == "alpha" and state.info.version == "9.9.9"
        await eventually(lambda: state.probes >= 6, 5, "six probes")
        assert state.health == Health.SERVING and state.status == "SERVING"
        assert len(state.latencies) == 4  # the window is bounded
        assert state.last_latency is not None and state.p50 is not None
        assert [(t.old, t.new) for t in state.history] == [(PENDING, "SERVING")]
        assert state.last_error == ""
    finally:
        await monitor.stop()
        await monitor.backend.close()


async def test_watch_reports_a_change_before_the_next_poll(
    plugins: Any, eventually: Eventually
) -> None:
    alpha = plugins.start("alpha")
    backend = backend_for(alpha.socket)
    # Polls are 30 s apart: only Health.Watch can deliver the change in time.
    monitor = PluginMonitor(backend, interval=30, discover_interval=30)
    seen: list[Transition] = []
    monitor.subscribe(lambda state, change: seen.append(change) if change else None)
    await monitor.start()
    try:
        state = only(monitor)
        await eventually(lambda: state.watching, 5, "watch stream open")
        await backend.call("alpha", "set_health", b'{"serving": false}')
        await eventually(lambda: state.health == Health.NOT_SERVING, 2, "NOT_SERVING via Watch")
        assert (seen[-1].old, seen[-1].new) == ("SERVING", "NOT_SERVING")
        await backend.call("alpha", "set_health", b'{"serving": true}')
        await eventually(lambda: state.health == Health.SERVING, 2, "SERVING via Watch")
    finally:
        await monitor.stop()
        await backend.close()


async def test_polling_without_watch_sees_a_change_within_two_seconds(
    plugins: Any, eventually: Eventually
) -> None:
    alpha = plugins.start("alpha")
    backend = backend_for(alpha.socket)
    monitor = PluginMonitor(backend, **FAST, use_watch=False)
    await monitor.start()
    try:
        state = only(monitor)
        await eventually(lambda: state.health == Health.SERVING, 3, "first probe")
        await backend.call("alpha", "set_health", b'{"serving": false}')
        await eventually(lambda: state.health == Health.NOT_SERVING, 2, "NOT_SERVING by poll")
        assert not state.watching
    finally:
        await monitor.stop()
        await backend.close()


async def test_plugin_without_health_service_is_unknown_not_an_error(
    plugins: Any, eventually: Eventually
) -> None:
    bare = plugins.start("bare", TESTPLUGIN_HEALTH="none")
    monitor = PluginMonitor(backend_for(bare.socket), **FAST)
    await monitor.start()
    try:
        state = only(monitor)
        await eventually(lambda: state.probes >= 2, 5, "two probes")
        assert state.health == Health.UNKNOWN
        assert "no health service" in state.note
        assert state.last_error == "" and not state.watching
        assert state.last_latency is not None  # Register answered: it is alive
    finally:
        await monitor.stop()
        await monitor.backend.close()


async def test_killed_plugin_is_unreachable_then_recovers_at_the_same_socket(
    plugins: Any, eventually: Eventually
) -> None:
    alpha = plugins.start("alpha")
    monitor = PluginMonitor(backend_for(alpha.socket), **FAST)
    await monitor.start()
    try:
        state = only(monitor)
        await eventually(lambda: state.health == Health.SERVING, 3, "serving")
        alpha.kill()
        await eventually(lambda: state.health == Health.UNREACHABLE, 3, "unreachable")
        assert state.last_error
        await eventually(lambda: state.failures >= 3, 5, "backing off")
        assert monitor.delay(state) > monitor.interval
        alpha.start()
        await eventually(lambda: state.health == Health.SERVING, 5, "recovered")
        assert state.failures == 0
        assert [t.new for t in state.history] == ["SERVING", "UNREACHABLE", "SERVING"]
    finally:
        await monitor.stop()
        await monitor.backend.close()


async def test_hung_plugin_only_delays_its_own_probes(plugins: Any, eventually: Eventually) -> None:
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    monitor = PluginMonitor(backend_for(alpha.socket, beta.socket), **FAST)
    await monitor.start()
    try:
        states = {s.name: s for s in monitor.states.values()}
        await eventually(
            lambda: all(s.health == Health.SERVING for s in states.values()), 3, "both serving"
        )
        beta.pause()  # SIGSTOP: connections accepted, nothing answered
        await eventually(lambda: states["beta"].health == Health.UNREACHABLE, 4, "beta hung")
        before = states["alpha"].probes
        await eventually(lambda: states["alpha"].probes >= before + 5, 3, "alpha still probed")
        assert states["alpha"].health == Health.SERVING
        beta.resume()
        await eventually(lambda: states["beta"].health == Health.SERVING, 5, "beta back")
    finally:
        beta.resume()
        await monitor.stop()
        await monitor.backend.close()


class CountingBackend(SocketBackend):
    """The real socket backend, counting how many probes run at once per plugin."""

    def __init__(self, sources: Sources) -> None:
        super().__init__(sources, probe_timeout=0.3, register_timeout=0.5)
        self.in_flight: dict[str, int] = {}
        self.most: dict[str, int] = {}

    async def probe(self, plugin: PluginInfo) -> Probe:
        key = plugin.target
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.most[key] = max(self.most.get(key, 0), self.in_flight[key])
        try:
            return await super().probe(plugin)
        finally:
            self.in_flight[key] -= 1


async def test_at_most_one_probe_in_flight_per_plugin(plugins: Any, eventually: Eventually) -> None:
    alpha = plugins.start("alpha")
    backend = CountingBackend(Sources(sockets=[str(alpha.socket)]))
    # Probes (0.3 s deadline on a hung plugin) last far longer than the interval.
    monitor = PluginMonitor(backend, interval=0.05, max_backoff=0.05, discover_interval=0.05)
    await monitor.start()
    try:
        state = only(monitor)
        alpha.pause()
        await eventually(lambda: state.probes >= 4, 5, "several slow probes")
        monitor.refresh()  # kicks must not start a second probe either
        await eventually(lambda: state.probes >= 6, 5, "more probes")
        assert backend.most == {state.info.target: 1}
    finally:
        alpha.resume()
        await monitor.stop()
        await backend.close()


async def test_new_sockets_appear_and_vanished_ones_are_gone_for_a_while(
    plugins: Any, eventually: Eventually, sock_dir: Path
) -> None:
    backend = backend_for(globs=[str(sock_dir / "*.sock")])
    monitor = PluginMonitor(backend, **FAST)
    await monitor.start()
    try:
        assert monitor.states == {}
        alpha = plugins.start("alpha")
        await eventually(lambda: len(monitor.states) == 1, 3, "alpha discovered")
        state = only(monitor)
        await eventually(lambda: state.health == Health.SERVING, 3, "alpha serving")
        alpha.stop()  # SIGTERM: the plugin removes its socket
        await eventually(lambda: state.status == GONE, 3, "alpha gone")
        assert monitor.states  # kept, marked, not dropped
        alpha.start()
        await eventually(lambda: state.status == "SERVING", 5, "alpha back")
        # It may be seen UNREACHABLE before discovery notices the socket is gone.
        news = [t.new for t in state.history]
        assert news[0] == "SERVING" and news[-2:] == [GONE, "SERVING"]

        # Gone for good: the row leaves after `gone_keep`, or at once on refresh (`r`).
        alpha.stop()
        await eventually(lambda: state.status == GONE, 3, "alpha gone again")
        monitor.refresh()
        assert monitor.states == {}
        alpha.start()
        await eventually(lambda: monitor.states and only(monitor).health, 5, "alpha back again")
        monitor.gone_keep = 0.2
        alpha.stop()
        await eventually(lambda: monitor.states == {}, 3, "the gone row dropped by itself")
    finally:
        await monitor.stop()
        await backend.close()


async def test_transitions_use_the_injected_clock(plugins: Any, eventually: Eventually) -> None:
    alpha = plugins.start("alpha")
    monitor = PluginMonitor(backend_for(alpha.socket), **FAST, clock=lambda: 1000.0)
    await monitor.start()
    try:
        state = only(monitor)
        await eventually(lambda: state.history, 3, "first transition")
        assert state.since == 1000.0 and state.history[0].at == 1000.0
    finally:
        await monitor.stop()
        await monitor.backend.close()


@pytest.mark.parametrize(
    ("failures", "expected"), [(0, 1.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 10.0)]
)
def test_backoff_doubles_up_to_the_cap(failures: int, expected: float) -> None:
    monitor = PluginMonitor(backend_for(), interval=1.0, max_backoff=10.0)
    state = PluginState(key="k", info=PluginInfo(name="k", target="k"), since=0.0)
    state.failures = failures
    assert monitor.delay(state) == expected


def test_unsubscribed_listeners_hear_nothing() -> None:
    monitor = PluginMonitor(backend_for())
    heard: list[str] = []
    unsubscribe = monitor.subscribe(lambda state, change: heard.append(state.key))
    state = PluginState(key="k", info=PluginInfo(name="k", target="k"), since=0.0)
    monitor._emit(state, None)
    unsubscribe()
    monitor._emit(state, None)
    assert heard == ["k"] and state.version == 2


async def test_a_health_watch_flood_is_coalesced_and_every_store_stays_bounded(
    plugins: Any, eventually: Eventually
) -> None:
    """A real plugin flips its status as fast as flow control allows (issue #18)."""
    import asyncio

    from goatui.core.monitor import WATCH_COALESCE_S

    flood = plugins.start("flood", TESTPLUGIN_FLAP="1")
    backend = backend_for(flood.socket)
    monitor = PluginMonitor(backend, interval=30, discover_interval=30, history=8)
    updates: list[Transition | None] = []
    monitor.subscribe(lambda state, change: updates.append(change))
    await monitor.start()
    try:
        state = only(monitor)
        await eventually(lambda: state.watching, 5, "watch stream open")
        loop = asyncio.get_running_loop()
        started, before = loop.time(), len(updates)

        def folded() -> int:  # changes streamed between two recorded transitions
            return sum(t.folded for t in updates if t is not None)

        await eventually(lambda: state.flips >= 3000 and folded() > 0, 20, "a flood, counted")
        elapsed = loop.time() - started
        applied = len(updates) - before
        # At most one update per interval, however many changes streamed in.
        assert applied <= elapsed / WATCH_COALESCE_S + 2, (applied, elapsed)
        assert state.flips > 20 * applied
        assert len(state.history) <= 8
        # A stream that keeps flooding is closed; the plugin is polled for a while.
        await eventually(lambda: state.watch_paused and not state.watching, 10, "watch paused")
        assert "polled instead" in state.watch_paused
    finally:
        await monitor.stop()
        await backend.close()


async def test_stop_right_after_a_refresh_does_not_hang(plugins: Any) -> None:
    """Python 3.11's wait_for could lose the cancel of a wait whose event was just set."""
    import asyncio

    alpha = plugins.start("alpha")
    backend = backend_for(alpha.socket)
    monitor = PluginMonitor(backend, **FAST)
    await monitor.start()
    try:
        monitor.refresh()
        await asyncio.sleep(0.05)  # discovery is under way, back to waiting
        monitor.refresh()
        await asyncio.wait_for(monitor.stop(), 5)
    finally:
        await backend.close()
