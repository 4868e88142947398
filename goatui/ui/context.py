"""What every view is given: the session, the live monitor, the call history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from goatui.core.backends.base import Backend
from goatui.core.calls.history import History
from goatui.core.config import Config
from goatui.core.models import natural_key
from goatui.core.monitor import PluginMonitor, PluginState
from goatui.core.session import Session
from goatui.ui.hub import MonitorHub


@dataclass
class ConsoleContext:
    session: Session
    monitor: PluginMonitor
    hub: MonitorHub
    history: History

    @property
    def backend(self) -> Backend:
        return self.session.backend

    @property
    def config(self) -> Config:
        return self.session.config

    @property
    def read_only(self) -> bool:
        return self.session.read_only

    @property
    def clock(self) -> Callable[[], float]:
        """The monitor's clock: durations shown agree with its timestamps."""
        return self.monitor.clock

    def live_plugins(self) -> list[PluginState]:
        """Plugins present now (not gone), by name."""
        return sorted(
            (s for s in self.monitor.states.values() if not s.gone),
            key=lambda s: natural_key(s.name),
        )
