"""The one wasmtime engine of a goatui process: compiled-module cache and call deadlines.

Compiled code is cached on disk by wasmtime itself (its cache, keyed by the module's
bytes, the engine's settings and wasmtime's version) in goatui's cache directory, so a
second start loads machine code instead of compiling again. Deadlines use epoch
interruption: a ticker thread advances the engine's epoch while any call is running,
and each store traps once its own number of ticks has passed. The ticker sleeps when
nothing runs, so an idle console costs no wake-ups.

Importing this module imports wasmtime: do it only where a WASM plugin is used.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from pathlib import Path

import wasmtime

#: How often the epoch advances while calls run; deadlines are this precise.
TICK_S = 0.01
# A cache that grows past this is trimmed by wasmtime's own cleanup.
_CACHE_SIZE_LIMIT = "256Mi"


def cache_home() -> Path:
    """$XDG_CACHE_HOME/goatui (~/.cache/goatui)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "goatui"


def default_cache_dir() -> Path:
    return cache_home() / "wasmtime"


class EpochTicker:
    """Advances an engine's epoch every TICK_S while at least one call is running."""

    def __init__(self, engine: wasmtime.Engine, tick: float = TICK_S) -> None:
        self._engine = engine
        self.tick = tick
        self._running = 0
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        # The longest deadline handed out, in ticks: advancing past it stops every call.
        self._longest = 0

    def ticks_for(self, seconds: float) -> int:
        """Epoch ticks that cover at least `seconds` from now (one more: a tick may be
        just about to happen)."""
        return max(1, math.ceil(max(seconds, 0.0) / self.tick)) + 1

    def set_deadline(self, store: wasmtime.Store, seconds: float) -> None:
        """The store's calls trap `seconds` from now (see `ticks_for`)."""
        ticks = self.ticks_for(seconds)
        self._longest = max(self._longest, ticks)
        store.set_epoch_deadline(ticks)

    def interrupt_all(self) -> None:
        """Stop every call running now, whatever its deadline (goatui is closing)."""
        self.advance(self._longest + 1)

    def enter(self) -> None:
        with self._wake:
            self._running += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="goatui-wasm-epoch", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def leave(self) -> None:
        with self._wake:
            self._running -= 1

    def advance(self, ticks: int) -> None:
        """Advance the epoch now by `ticks` (stops every call whose deadline that passes)."""
        for _ in range(ticks):
            self._engine.increment_epoch()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._running == 0:
                    self._wake.wait()
            # Ticks follow the clock, not the sleeps: a late wake-up (a busy machine)
            # catches up, so a deadline of N ticks is N ticks of real time.
            started = time.monotonic()
            ticked = 0
            while self._running:
                time.sleep(self.tick)
                due = int((time.monotonic() - started) / self.tick)
                self.advance(due - ticked)
                ticked = due


class WasmEngine:
    """A wasmtime Engine with epoch interruption and, where possible, the disk cache."""

    def __init__(self, cache_dir: Path | None = None, *, cache: bool = True) -> None:
        config = wasmtime.Config()
        config.epoch_interruption = True
        #: Linear memories stay where they are when they grow: on 64-bit hosts wasmtime
        #: reserves 4 GiB of address space for each, all a 32-bit memory can take, so
        #: this costs nothing, and fastabi reads them through a view it makes once.
        self.fixed_memory = False
        if sys.maxsize > 2**32:
            try:
                config.memory_may_move = False
                self.fixed_memory = True
            except (AttributeError, TypeError, wasmtime.WasmtimeError):
                pass
        #: Why compiled modules are not cached, when they are not (told, never raised).
        self.cache_problem = ""
        self.cache_dir: Path | None = None
        if cache:
            directory = cache_dir or default_cache_dir()
            try:
                config.cache = str(_write_cache_config(directory))
                self.cache_dir = directory
            except (OSError, wasmtime.WasmtimeError) as exc:
                self.cache_problem = f"compiled WASM modules are not cached: {exc}"
        self.engine = wasmtime.Engine(config)
        self.ticker = EpochTicker(self.engine)


def _write_cache_config(directory: Path) -> Path:
    """wasmtime reads its cache settings from a TOML file: write ours beside the cache."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / "config.toml"
    # JSON strings are valid TOML basic strings.
    text = (
        "[cache]\n"
        f"directory = {json.dumps(str(directory))}\n"
        f'files-total-size-soft-limit = "{_CACHE_SIZE_LIMIT}"\n'
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    return path


_shared: WasmEngine | None = None
_shared_lock = threading.Lock()


def shared_engine() -> WasmEngine:
    """The process's engine (one, so every plugin shares the ticker and the cache)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WasmEngine()
        return _shared
