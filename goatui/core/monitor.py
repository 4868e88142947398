"""Live plugin state for the console: health, latency and state history. No Textual here.

Each plugin is probed on a cadence of its own: a timer starts its probe (a task only
while it runs), so at most one probe is ever in flight per plugin, and a hung plugin
only delays its own. While a plugin is unreachable the cadence backs off (interval, 2x,
4x ... up to `max_backoff`). Where a plugin offers `Health.Watch`, a task streams its
state changes as they happen and probes only measure latency and notice
disappearance. Discovery re-runs every `discover_interval` so new sockets appear and
vanished ones are marked GONE, kept for `gone_keep` seconds (or until `refresh`, the
console's `r`) so the operator sees them go, then dropped. Subscribers get a callback,
in the event loop, after every update.

A plugin's Watch changes are applied at most every `WATCH_COALESCE_S`: the latest
wins, the ones in between are counted (`Transition.folded`, `PluginState.flips`). A
plugin flipping its status as fast as flow control allows cost one update, one redraw
and one toast per flip, and the console fell 13 s behind its keys (issue #18); now it
costs two updates a second, and every store stays bounded (`latencies`, `history`,
`recent`). A stream that sends more than `WATCH_READ_BUDGET` messages an interval for
`WATCH_FLOOD_INTERVALS` intervals in a row is closed, and the plugin is polled instead
for `WATCH_FLOOD_PAUSE_S` (receiving the flood cost goatui half a core in gRPC's own
threads, however little of it was read); then Watch is tried again.

What it costs grows with what the operator looks at, not with the fleet (issue #19):
once a view says which plugins are on screen (`set_in_view`), only those, and plugins
whose state is in doubt (not known yet, unreachable, or not streamed by Watch), are
probed every `interval`; the latency of the rest is sampled every `sample_interval`,
and `PluginState.latency_at` says how fresh each latency is. A backend whose one answer
holds every plugin's state (a gateway's list: `Capabilities.probes_together`) is
probed in one batch per interval instead, spaced further apart when reading the answer
costs more than a tenth of the time between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from goatui.core.backends.base import Backend
from goatui.core.errors import GoatError, RemoteError
from goatui.core.models import Health, PluginInfo, Probe
from goatui.core.sanitize import sanitize_line

#: Status words beyond `Health`: a plugin not probed yet, one whose socket vanished.
PENDING = "PENDING"
GONE = "GONE"

DEFAULT_INTERVAL_S = 2.0
# Latency of plugins out of view whose state is not in doubt (Watch streams it).
DEFAULT_SAMPLE_INTERVAL_S = 30.0
DEFAULT_DISCOVER_INTERVAL_S = 5.0
DEFAULT_MAX_BACKOFF_S = 16.0
# Covers the client's own per-RPC deadlines (a probe may try two health service names).
DEFAULT_PROBE_DEADLINE_S = 5.0
DEFAULT_DISCOVER_DEADLINE_S = 10.0
DEFAULT_GONE_KEEP_S = 60.0
LATENCY_WINDOW = 30
STATE_HISTORY = 50
PROBES_KEPT = 5
WATCH_COALESCE_S = 0.5
WATCH_READ_BUDGET = 100
WATCH_FLOOD_INTERVALS = 4
WATCH_FLOOD_PAUSE_S = 30.0

# Health states that come from the plugin's health service (and so from Watch too).
_WATCHABLE = (Health.SERVING, Health.NOT_SERVING)


@dataclass(frozen=True)
class Transition:
    """A change of status: `old` and `new` are Health values, PENDING or GONE."""

    at: float
    old: str
    new: str
    error: str = ""
    #: Changes Health.Watch streamed since the previous transition and not recorded one
    #: by one (they came faster than WATCH_COALESCE_S).
    folded: int = 0


@dataclass(eq=False)
class PluginState:
    """Everything the monitor knows about one plugin; read it, never write it."""

    key: str
    info: PluginInfo
    since: float
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    history: deque[Transition] = field(default_factory=lambda: deque(maxlen=STATE_HISTORY))
    #: The last few probes, newest last: when, what answered, how fast, what it said.
    recent: deque[Probe] = field(default_factory=lambda: deque(maxlen=PROBES_KEPT))
    health: Health | None = None
    gone: bool = False
    last_error: str = ""
    last_error_at: float | None = None
    # Not an error: e.g. "no health service; answers Register".
    note: str = ""
    watching: bool = False
    watch_supported: bool | None = None
    #: Changes of status Health.Watch streamed, applied or folded into the next.
    flips: int = 0
    #: Why Health.Watch is not used for now (it flooded), "" when it may be.
    watch_paused: str = ""
    watch_paused_until: float = 0.0
    failures: int = 0
    probes: int = 0
    # When the last latency was measured (the monitor's clock); None before any.
    latency_at: float | None = None
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
        sample_interval: float = DEFAULT_SAMPLE_INTERVAL_S,
        discover_interval: float = DEFAULT_DISCOVER_INTERVAL_S,
        max_backoff: float = DEFAULT_MAX_BACKOFF_S,
        probe_deadline: float = DEFAULT_PROBE_DEADLINE_S,
        discover_deadline: float = DEFAULT_DISCOVER_DEADLINE_S,
        window: int = LATENCY_WINDOW,
        history: int = STATE_HISTORY,
        gone_keep: float = DEFAULT_GONE_KEEP_S,
        use_watch: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.interval = max(interval, 0.05)
        self.sample_interval = max(sample_interval, self.interval)
        self.discover_interval = max(discover_interval, 0.05)
        self.max_backoff = max(max_backoff, self.interval)
        self.probe_deadline = probe_deadline
        self.discover_deadline = discover_deadline
        self.window = window
        self.history_size = history
        self.gone_keep = gone_keep
        self.use_watch = use_watch
        self.clock = clock
        self.states: dict[str, PluginState] = {}
        # Why the last discovery failed ("" when it worked).
        self.discover_error = ""
        # Keys of the plugins on screen; None until a view says (then all count as such).
        self.in_view: set[str] | None = None
        # Bumped when plugins come or go or change state (not on a new latency): a view
        # redraws its rows at once only when this moved.
        self.generation = 0
        self._listeners: list[Listener] = []
        self._probe_tasks: dict[str, asyncio.Task[None]] = {}
        self._watch_tasks: dict[str, asyncio.Task[None]] = {}
        # Per plugin: when the next Watch change may be applied, the latest one held
        # until then, the timer that applies it, changes folded since the last one, and
        # how many updates this interval and how many flooded intervals in a row.
        self._watch_next: dict[str, float] = {}
        self._watch_held: dict[str, Health] = {}
        self._watch_timers: dict[str, asyncio.TimerHandle] = {}
        self._watch_folded: dict[str, int] = {}
        self._watch_reads: dict[str, int] = {}
        self._watch_floods: dict[str, int] = {}
        # Per plugin, while no probe runs: the timer that starts the next, and when.
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._due: dict[str, float] = {}
        self._probed_at: dict[str, float] = {}
        # Kicked while its probe ran: probe again as soon as it ends.
        self._kicked: set[str] = set()
        self._batched = backend.capabilities.probes_together
        self._batch: asyncio.Task[None] | None = None
        self._batch_now = asyncio.Event()
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
        if transition is not None:
            self.generation += 1
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
        if self._batched:
            self._batch = asyncio.create_task(self._batch_loop(), name="goatui-probe-all")

    async def stop(self) -> None:
        self._running = False
        tasks = [*self._probe_tasks.values(), *self._watch_tasks.values()]
        tasks += [t for t in (self._discovery, self._batch) if t is not None]
        for timer in (*self._timers.values(), *self._watch_timers.values()):
            timer.cancel()
        self._timers.clear()
        self._watch_timers.clear()
        self._probe_tasks.clear()
        self._watch_tasks.clear()
        self._discovery = self._batch = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def refresh(self) -> None:
        """Rediscover and probe every plugin now (the console's `r`); what is gone goes."""
        self.forget_gone(0.0)
        self._discover_now.set()
        for key in self.states:
            self.kick(key)

    def forget_gone(self, older_than: float | None = None) -> int:
        """Drop plugins GONE for over older_than seconds (default `gone_keep`); how many."""
        keep = self.gone_keep if older_than is None else older_than
        now = self.clock()
        dropped = [s for s in self.states.values() if s.gone and now - s.since >= keep]
        for state in dropped:
            self._drop(state)
        return len(dropped)

    def _drop(self, state: PluginState) -> None:
        """The plugin's row goes: nothing of it is kept or probed."""
        del self.states[state.key]
        self.generation += 1
        self._stop_plugin(state.key)
        for per_key in (self._due, self._probed_at):
            per_key.pop(state.key, None)
        self._forget_watch(state.key)
        self._emit(state, None)

    def kick(self, key: str) -> None:
        """Probe one plugin now instead of waiting out its interval or backoff."""
        if self._batched:
            self._batch_now.set()
        elif key in self._probe_tasks:
            self._kicked.add(key)
        elif key in self._timers:
            self._schedule(key, 0.0)

    def set_in_view(self, keys: Iterable[str] | None) -> None:
        """The plugins on screen now (None: treat every plugin so). Those coming into
        view are probed within an interval of their last probe, not a sample's."""
        shown = None if keys is None else set(keys)
        before, self.in_view = self.in_view, shown
        if shown is None or before is None or self._batched or not self._running:
            return
        now = asyncio.get_running_loop().time()
        for key in shown - before:
            due = self._due.get(key)
            if key in self._timers and due is not None and due - now > self.interval:
                last = self._probed_at.get(key, now - self.interval)
                self._schedule(key, max(0.0, last + self.interval - now))

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
            key = info.key or info.target or info.name
            if key in seen:  # one target serving several plugins (a gateway)
                key = f"{key}#{info.name}"
            seen.add(key)
            self._discovered(key, info)
        for key, state in list(self.states.items()):
            if key not in seen and not state.gone:
                self._vanished(state)
        self.forget_gone()

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
            self.generation += 1
            self._start_plugin(state)
            self._emit(state, None)
            return
        # A failed Register (hung or dead plugin) must not erase what it said before.
        if (not info.error or state.info.error) and info != state.info:
            state.info = info
            self.generation += 1
            self._emit(state, None)
        if state.gone:
            state.gone = False
            state.failures = 0
            self._start_plugin(state)
        elif not info.error and state.health == Health.UNREACHABLE:
            self.kick(key)  # it answers Register again: do not wait out the backoff

    def _vanished(self, state: PluginState) -> None:
        if state.health == Health.NOT_LOADED:
            # A gateway's placeholder for a lazy plugin: it went because the plugin
            # loaded (listed under its own name now) or was removed; no ghost row.
            self._drop(state)
            return
        self._stop_plugin(state.key)
        state.watching = False
        state.gone = True
        self._emit(state, self._record(state, "socket no longer found"))

    # -- per-plugin tasks --------------------------------------------------------------

    def _start_plugin(self, state: PluginState) -> None:
        if not self._running:
            return
        if self._batched:
            self._batch_now.set()  # in the next batch, now
        else:
            self._schedule(state.key, 0.0)

    def _stop_plugin(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._kicked.discard(key)
        for tasks in (self._probe_tasks, self._watch_tasks):
            task = tasks.pop(key, None)
            if task is not None:
                task.cancel()

    def in_doubt(self, state: PluginState) -> bool:
        """Its state is not known to be current: only probes can tell."""
        return state.health in (None, Health.UNREACHABLE) or not state.watching

    def delay(self, state: PluginState) -> float:
        """Seconds until the next probe: the interval, doubled per consecutive failure;
        the sample interval (±10%, so samples spread out) for a plugin out of view
        whose state Watch streams."""
        if state.failures > 1:
            return float(min(self.interval * 2 ** (state.failures - 1), self.max_backoff))
        if self.in_view is None or state.key in self.in_view or self.in_doubt(state):
            return self.interval
        return self.sample_interval * random.uniform(0.9, 1.1)

    def _schedule(self, key: str, delay: float) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._due[key] = loop.time() + delay
        self._timers[key] = loop.call_later(delay, self._start_probe, key)

    def _start_probe(self, key: str) -> None:
        self._timers.pop(key, None)
        state = self.states.get(key)
        if state is None or state.gone or not self._running or key in self._probe_tasks:
            return
        self._probe_tasks[key] = asyncio.create_task(self._probe(state), name=f"goatui-probe-{key}")

    async def _probe(self, state: PluginState) -> None:
        key = state.key
        try:
            probe = await self._probe_once(state)
            self._apply_probe(state, probe)
            self._maybe_watch(state)
        finally:
            if self._probe_tasks.get(key) is asyncio.current_task():
                del self._probe_tasks[key]
        self._probed_at[key] = asyncio.get_running_loop().time()
        if self._running and not state.gone:
            again = key in self._kicked
            self._kicked.discard(key)
            self._schedule(key, 0.0 if again else self.delay(state))

    async def _batch_loop(self) -> None:
        """Every plugin at once, for a backend whose one answer holds all their states."""
        failures = 0
        while True:
            self._batch_now.clear()
            live = [s for s in self.states.values() if not s.gone]
            spent = 0.0
            if live:
                cpu = time.process_time()
                probes = await self._probe_all(live)
                for state, probe in zip(live, probes, strict=True):
                    self._apply_probe(state, probe)
                spent = time.process_time() - cpu
                up = any(p.health is not Health.UNREACHABLE for p in probes)
                failures = 0 if up else failures + 1
            backoff = self.interval * 2 ** max(failures - 1, 0)
            # Reading a list of 60,000 plugins costs a second: at most a tenth of the time.
            await _wait(self._batch_now, max(min(backoff, self.max_backoff), 10 * spent))

    async def _probe_all(self, states: list[PluginState]) -> list[Probe]:
        try:
            return await asyncio.wait_for(
                self.backend.probe_all([s.info for s in states]), self.probe_deadline
            )
        except TimeoutError:
            failed = Probe(Health.UNREACHABLE, None, f"no answer within {self.probe_deadline:g}s")
        except Exception as exc:  # a backend bug must not end monitoring
            failed = Probe(Health.UNREACHABLE, None, f"probe failed: {exc!r}")
        return [failed] * len(states)

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
        state.recent.append(probe)
        if probe.latency_ms is not None:
            state.latencies.append(probe.latency_ms)
            state.latency_at = self.clock()
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
        elif health == probe.health == Health.NOT_SERVING and not probe.error:
            # Not a failure to reach it, but why it is down: said where errors are.
            error = f"{probe.source or 'the health check'} answered NOT_SERVING"
        else:
            error = probe.error
        self._emit(state, self._set_health(state, health, error))

    def _set_health(
        self, state: PluginState, health: Health, error: str, folded: int = 0
    ) -> Transition | None:
        if error:
            state.last_error = sanitize_line(error)
            state.last_error_at = self.clock()
        state.health = health
        return self._record(state, error, folded)

    def _record(self, state: PluginState, error: str, folded: int = 0) -> Transition | None:
        """Append a transition to the state's history if its status changed."""
        old = state.history[-1].new if state.history else PENDING
        new = state.status
        if old == new:
            return None
        state.since = self.clock()
        transition = Transition(state.since, old, new, sanitize_line(error), folded)
        state.history.append(transition)
        return transition

    # -- Health.Watch ------------------------------------------------------------------

    def _maybe_watch(self, state: PluginState) -> None:
        if not (self.use_watch and self._running) or state.watch_supported is False:
            return
        if state.health not in _WATCHABLE or state.key in self._watch_tasks:
            return
        if state.watch_paused:
            if asyncio.get_running_loop().time() < state.watch_paused_until:
                return
            state.watch_paused = ""
        # None: this backend, or this plugin on it (a WASM module in a mixed set), has no
        # stream; asking again after every probe would only spin.
        stream = (
            None if type(self.backend).watch is Backend.watch else self.backend.watch(state.info)
        )
        if stream is None:
            state.watch_supported = False
            return
        self._watch_tasks[state.key] = asyncio.create_task(
            self._watch_loop(state, stream), name=f"goatui-watch-{state.key}"
        )

    async def _watch_loop(self, state: PluginState, stream: AsyncIterator[Health]) -> None:
        self._watch_reads[state.key] = 0
        self._watch_floods.pop(state.key, None)
        try:
            async for health in stream:
                state.watching = True
                state.watch_supported = True
                self._watched(state, health)
                if self._flooding(state.key):
                    self._pause_watch(state)
                    break
            # Closed now, not when the collector gets to it: that cancels the RPC.
            with contextlib.suppress(GoatError):
                await aclose(stream)
        except RemoteError as exc:
            if exc.code == "UNIMPLEMENTED":
                state.watch_supported = False
        except GoatError:
            pass  # the plugin went away; its probe (kicked below) reports it
        finally:
            state.watching = False
            if self._watch_tasks.get(state.key) is asyncio.current_task():
                del self._watch_tasks[state.key]
                self._apply_held(state)  # the last change the stream said is the news
            self.kick(state.key)

    def _watched(self, state: PluginState, health: Health) -> None:
        """A status from the Watch stream: applied now, or held (the latest wins) until
        WATCH_COALESCE_S after the last one applied."""
        key = state.key
        latest = self._watch_held.get(key, state.health)
        if health != latest:
            state.flips += 1
            if key in self._watch_held:
                self._watch_folded[key] = self._watch_folded.get(key, 0) + 1
        loop = asyncio.get_running_loop()
        due = self._watch_next.get(key, 0.0)
        if loop.time() >= due and key not in self._watch_timers:
            self._apply_watched(state, health)
            return
        self._watch_held[key] = health
        if key not in self._watch_timers:
            self._watch_timers[key] = loop.call_at(due, self._apply_held, state)

    def _forget_watch(self, key: str) -> None:
        timer = self._watch_timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        for per_key in (
            self._watch_next,
            self._watch_held,
            self._watch_folded,
            self._watch_reads,
            self._watch_floods,
        ):
            per_key.pop(key, None)

    def _flooding(self, key: str) -> bool:
        """True once the stream sent over the budget WATCH_FLOOD_INTERVALS times in a row."""
        reads = self._watch_reads[key] = self._watch_reads.get(key, 0) + 1
        if reads == WATCH_READ_BUDGET + 1:  # once per interval
            self._watch_floods[key] = self._watch_floods.get(key, 0) + 1
        return self._watch_floods.get(key, 0) >= WATCH_FLOOD_INTERVALS

    def _pause_watch(self, state: PluginState) -> None:
        self._watch_floods.pop(state.key, None)
        state.watch_paused_until = asyncio.get_running_loop().time() + WATCH_FLOOD_PAUSE_S
        state.watch_paused = (
            f"Health.Watch sent over {WATCH_READ_BUDGET / WATCH_COALESCE_S:g} changes a "
            f"second; polled instead for {WATCH_FLOOD_PAUSE_S:g}s"
        )

    def _apply_held(self, state: PluginState) -> None:
        timer = self._watch_timers.pop(state.key, None)
        if timer is not None:
            timer.cancel()
        held = self._watch_held.pop(state.key, None)
        if held is not None and self._running and not state.gone:
            self._apply_watched(state, held)

    def _apply_watched(self, state: PluginState, health: Health) -> None:
        key = state.key
        self._watch_next[key] = asyncio.get_running_loop().time() + WATCH_COALESCE_S
        if self._watch_reads.get(key, 0) <= WATCH_READ_BUDGET:
            self._watch_floods.pop(key, None)  # a calm interval ends a flood
        self._watch_reads[key] = 0
        folded = self._watch_folded.pop(key, 0)
        error = ""
        if health == Health.NOT_SERVING:
            error = f"{self.backend.watch_source(state.info)} streamed NOT_SERVING"
        transition = self._set_health(state, health, error, folded)
        if transition is None and folded:
            self._watch_folded[key] = folded  # flipped back: told with the next change
        self._emit(state, transition)


async def aclose(iterator: AsyncIterator[Health]) -> None:
    """Close an async generator (an async iterator without aclose needs nothing)."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Return when event is set or after timeout, whichever comes first.

    Not `wait_for(event.wait())`: on Python 3.11 a cancel that lands as the event is
    set can be lost there, and `stop()` then waited for ever (after `r`, say)."""
    if event.is_set():
        return
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait([waiter], timeout=timeout)
    finally:
        waiter.cancel()
