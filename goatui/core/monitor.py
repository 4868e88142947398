"""Live plugin state for the console: health, latency and state history. No Textual here.

One task per plugin probes it on a cadence, so at most one probe is ever in flight per
plugin, and a hung plugin only delays its own task. While a plugin is unreachable the
cadence backs off (interval, 2x, 4x ... up to `max_backoff`). Where a plugin offers
`Health.Watch`, a second task streams its state changes as they happen and the probes
only measure latency and notice disappearance. Discovery re-runs every
`discover_interval` so new sockets appear and vanished ones are marked GONE (kept, not
dropped). Subscribers get a callback, in the event loop, after every update.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from goatui.core.backends.base import Backend
from goatui.core.errors import GoatError, RemoteError
from goatui.core.models import Health, PluginInfo, Probe
from goatui.core.sanitize import sanitize_line

#: Status words beyond `Health`: a plugin not probed yet, one whose socket vanished.
PENDING = "PENDING"
GONE = "GONE"

DEFAULT_INTERVAL_S = 2.0
DEFAULT_DISCOVER_INTERVAL_S = 5.0
DEFAULT_MAX_BACKOFF_S = 16.0
# Covers the client's own per-RPC deadlines (a probe may try two health service names).
DEFAULT_PROBE_DEADLINE_S = 5.0
DEFAULT_DISCOVER_DEADLINE_S = 10.0
LATENCY_WINDOW = 30
STATE_HISTORY = 50

# Health states that come from the plugin's health service (and so from Watch too).
_WATCHABLE = (Health.SERVING, Health.NOT_SERVING)


@dataclass(frozen=True)
class Transition:
    """A change of status: `old` and `new` are Health values, PENDING or GONE."""

    at: float
    old: str
    new: str
    error: str = ""


@dataclass(eq=False)
class PluginState:
    """Everything the monitor knows about one plugin; read it, never write it."""

    key: str
    info: PluginInfo
    since: float
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    history: deque[Transition] = field(default_factory=lambda: deque(maxlen=STATE_HISTORY))
    health: Health | None = None
    gone: bool = False
    last_error: str = ""
    last_error_at: float | None = None
    # Not an error: e.g. "no health service; answers Register".
    note: str = ""
    watching: bool = False
    watch_supported: bool | None = None
    failures: int = 0
    probes: int = 0
    # Bumped on every update, so a view can redraw only what changed.
    version: int = 0

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def status(self) -> str:
        if self.gone:
            return GONE
        return self.health.value if self.health is not None else PENDING

    @property
    def last_latency(self) -> float | None:
        return self.latencies[-1] if self.latencies else None

    @property
    def p50(self) -> float | None:
        return statistics.median(self.latencies) if self.latencies else None


Listener = Callable[[PluginState, Transition | None], None]
WatchStream = Callable[[PluginInfo], AsyncIterator[Health]]


async def _no_stream() -> AsyncIterator[Health]:
    """An empty health stream, for a plugin the backend cannot watch after all."""
    return
    yield  # pragma: no cover - makes this an async generator


class PluginMonitor:
    """Keeps `states` current for every plugin the backend lists.

    `clock` stamps transitions and `since` (inject a fixed one for deterministic tests);
    scheduling always uses the event loop's own clock.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        interval: float = DEFAULT_INTERVAL_S,
        discover_interval: float = DEFAULT_DISCOVER_INTERVAL_S,
        max_backoff: float = DEFAULT_MAX_BACKOFF_S,
        probe_deadline: float = DEFAULT_PROBE_DEADLINE_S,
        discover_deadline: float = DEFAULT_DISCOVER_DEADLINE_S,
        window: int = LATENCY_WINDOW,
        history: int = STATE_HISTORY,
        use_watch: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.interval = max(interval, 0.05)
        self.discover_interval = max(discover_interval, 0.05)
        self.max_backoff = max(max_backoff, self.interval)
        self.probe_deadline = probe_deadline
        self.discover_deadline = discover_deadline
        self.window = window
        self.history_size = history
        self.use_watch = use_watch
        self.clock = clock
        self.states: dict[str, PluginState] = {}
        # Why the last discovery failed ("" when it worked).
        self.discover_error = ""
        self._listeners: list[Listener] = []
        self._probe_tasks: dict[str, asyncio.Task[None]] = {}
        self._watch_tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._discover_now = asyncio.Event()
        self._discovery: asyncio.Task[None] | None = None
        self._running = False

    # -- subscribers -------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call listener after every update; returns the unsubscribe function.

        Listeners run in the event loop, inside the monitor's tasks: they must be quick
        and must not raise (post a message and return).
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, state: PluginState, transition: Transition | None) -> None:
        state.version += 1
        for listener in list(self._listeners):
            listener(state, transition)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        """Discover once (so `states` is filled on return), then keep everything live."""
        if self._running:
            return
        self._running = True
        await self.discover()
        self._discovery = asyncio.create_task(self._discovery_loop(), name="goatui-discovery")

    async def stop(self) -> None:
        self._running = False
        tasks = [*self._probe_tasks.values(), *self._watch_tasks.values()]
        if self._discovery is not None:
            tasks.append(self._discovery)
        self._probe_tasks.clear()
        self._watch_tasks.clear()
        self._discovery = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def refresh(self) -> None:
        """Rediscover and probe every plugin now (the console's `r`)."""
        self._discover_now.set()
        for key in self.states:
            self.kick(key)

    def kick(self, key: str) -> None:
        """Probe one plugin now instead of waiting out its interval or backoff."""
        wake = self._wake.get(key)
        if wake is not None:
            wake.set()

    def get(self, name: str) -> PluginState | None:
        """The live (not gone) plugin registered as name, else any state of that name."""
        matches = [s for s in self.states.values() if s.name == name]
        live = [s for s in matches if not s.gone]
        found = live or matches
        return found[0] if found else None

    # -- discovery ---------------------------------------------------------------------

    async def _discovery_loop(self) -> None:
        while True:
            await _wait(self._discover_now, self.discover_interval)
            self._discover_now.clear()
            try:
                await self.discover()
            except Exception as exc:  # a backend bug must not end discovery for good
                self.discover_error = sanitize_line(f"listing plugins failed: {exc!r}")

    async def discover(self) -> None:
        """List plugins now: add new ones, refresh known ones, mark vanished ones GONE."""
        try:
            infos = await asyncio.wait_for(self.backend.list_plugins(), self.discover_deadline)
        except TimeoutError:
            self.discover_error = f"listing plugins took over {self.discover_deadline:g}s"
            return
        except GoatError as exc:
            self.discover_error = exc.line()
            return
        self.discover_error = ""
        seen: set[str] = set()
        for info in infos:
            key = info.target or info.name
            if key in seen:  # one target serving several plugins (a gateway)
                key = f"{key}#{info.name}"
            seen.add(key)
            self._discovered(key, info)
        for key, state in self.states.items():
            if key not in seen and not state.gone:
                self._vanished(state)

    def _discovered(self, key: str, info: PluginInfo) -> None:
        state = self.states.get(key)
        if state is None:
            state = PluginState(
                key=key,
                info=info,
                since=self.clock(),
                latencies=deque(maxlen=self.window),
                history=deque(maxlen=self.history_size),
            )
            self.states[key] = state
            self._start_plugin(state)
            self._emit(state, None)
            return
        # A failed Register (hung or dead plugin) must not erase what it said before.
        if (not info.error or state.info.error) and info != state.info:
            state.info = info
            self._emit(state, None)
        if state.gone:
            state.gone = False
            state.failures = 0
            self._start_plugin(state)
        elif not info.error and state.health == Health.UNREACHABLE:
            self.kick(key)  # it answers Register again: do not wait out the backoff

    def _vanished(self, state: PluginState) -> None:
        self._stop_plugin(state.key)
        state.watching = False
        state.gone = True
        self._emit(state, self._record(state, "socket no longer found"))

    # -- per-plugin tasks --------------------------------------------------------------

    def _start_plugin(self, state: PluginState) -> None:
        if not self._running:
            return
        self._wake[state.key] = asyncio.Event()
        self._probe_tasks[state.key] = asyncio.create_task(
            self._probe_loop(state), name=f"goatui-probe-{state.key}"
        )

    def _stop_plugin(self, key: str) -> None:
        for tasks in (self._probe_tasks, self._watch_tasks):
            task = tasks.pop(key, None)
            if task is not None:
                task.cancel()

    def delay(self, state: PluginState) -> float:
        """Seconds until the next probe: the interval, doubled per consecutive failure."""
        if state.failures <= 1:
            return self.interval
        return float(min(self.interval * 2 ** (state.failures - 1), self.max_backoff))

    async def _probe_loop(self, state: PluginState) -> None:
        wake = self._wake[state.key]
        while True:
            wake.clear()
            probe = await self._probe_once(state)
            self._apply_probe(state, probe)
            self._maybe_watch(state)
            await _wait(wake, self.delay(state))

    async def _probe_once(self, state: PluginState) -> Probe:
        try:
            return await asyncio.wait_for(self.backend.probe(state.info), self.probe_deadline)
        except TimeoutError:
            return Probe(Health.UNREACHABLE, None, f"no answer within {self.probe_deadline:g}s")
        except GoatError as exc:  # Backend.probe should not raise; stay alive if it does
            return Probe(Health.UNREACHABLE, None, exc.line())
        except Exception as exc:  # nor end this plugin's monitoring over a backend bug
            return Probe(Health.UNREACHABLE, None, f"probe failed: {exc!r}")

    def _apply_probe(self, state: PluginState, probe: Probe) -> None:
        state.probes += 1
        if probe.latency_ms is not None:
            state.latencies.append(probe.latency_ms)
        state.failures = state.failures + 1 if probe.health == Health.UNREACHABLE else 0
        health = probe.health
        # While Watch streams, it owns the state: a probe that raced a change must not
        # flip it back. Probes still decide UNREACHABLE and recovery from it.
        if (
            state.watching
            and health != Health.UNREACHABLE
            and state.health not in (None, Health.UNREACHABLE)
        ):
            health = state.health
        if probe.error and probe.latency_ms is not None and health == Health.UNKNOWN:
            state.note = sanitize_line(probe.error)
            error = ""
        else:
            error = probe.error
        self._emit(state, self._set_health(state, health, error))

    def _set_health(self, state: PluginState, health: Health, error: str) -> Transition | None:
        if error:
            state.last_error = sanitize_line(error)
            state.last_error_at = self.clock()
        state.health = health
        return self._record(state, error)

    def _record(self, state: PluginState, error: str) -> Transition | None:
        """Append a transition to the state's history if its status changed."""
        old = state.history[-1].new if state.history else PENDING
        new = state.status
        if old == new:
            return None
        state.since = self.clock()
        transition = Transition(state.since, old, new, sanitize_line(error))
        state.history.append(transition)
        return transition

    # -- Health.Watch ------------------------------------------------------------------

    def _watch_stream(self) -> WatchStream | None:
        """How this backend streams health, if it can (probe once for the answer)."""
        backend = self.backend
        if type(backend).watch is Backend.watch:
            return None
        return lambda info: backend.watch(info) or _no_stream()

    def _maybe_watch(self, state: PluginState) -> None:
        if not (self.use_watch and self._running) or state.watch_supported is False:
            return
        if state.health not in _WATCHABLE or state.key in self._watch_tasks:
            return
        stream = self._watch_stream()
        if stream is None:
            state.watch_supported = False
            return
        self._watch_tasks[state.key] = asyncio.create_task(
            self._watch_loop(state, stream), name=f"goatui-watch-{state.key}"
        )

    async def _watch_loop(self, state: PluginState, stream: WatchStream) -> None:
        try:
            async for health in stream(state.info):
                state.watching = True
                state.watch_supported = True
                self._emit(state, self._set_health(state, health, ""))
        except RemoteError as exc:
            if exc.code == "UNIMPLEMENTED":
                state.watch_supported = False
        except GoatError:
            pass  # the plugin went away; the probe loop (kicked below) reports it
        finally:
            state.watching = False
            if self._watch_tasks.get(state.key) is asyncio.current_task():
                del self._watch_tasks[state.key]
            self.kick(state.key)


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Return when event is set or after timeout, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
