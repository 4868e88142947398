"""Plain data the core hands to the CLI and the console: plugins, manifests, probes, results."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Health(StrEnum):
    """Plugin states, named the same in the CLI, the console and JSON output."""

    SERVING = "SERVING"
    NOT_SERVING = "NOT_SERVING"
    UNKNOWN = "UNKNOWN"
    SERVICE_UNKNOWN = "SERVICE_UNKNOWN"
    UNREACHABLE = "UNREACHABLE"
    # Gateway mode: what GoatFlow's plugin list says of a plugin.
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    NOT_LOADED = "NOT_LOADED"

    @property
    def is_up(self) -> bool:
        return self in (Health.SERVING, Health.ENABLED)


# Worst first: the order an on-call operator reads a fleet in. Unlisted words (the
# monitor's PENDING and GONE) come after every live state.
_SEVERITY: dict[str, int] = {
    Health.UNREACHABLE: 0,
    Health.NOT_SERVING: 1,
    Health.NOT_LOADED: 2,
    Health.SERVICE_UNKNOWN: 3,
    Health.UNKNOWN: 4,
    Health.DISABLED: 5,
    Health.SERVING: 6,
    Health.ENABLED: 6,
}
#: How plugin lists can be ordered (`goatui ls --sort`, `s` in the console).
SORT_ORDERS = ("name", "health", "latency")


def sort_key(order: str, name: str, status: str, latency_ms: float | None) -> tuple[Any, ...]:
    """Sort key for a plugin: by name; by health, worst first; by latency, slowest first
    (none measured last). Ties go by name."""
    if order == "health":
        return (_SEVERITY.get(status, len(_SEVERITY)), name)
    if order == "latency":
        return (latency_ms is None, -(latency_ms or 0.0), name)
    return (name,)


def _dicts(value: Any) -> list[dict[str, Any]]:
    """Keep only the JSON objects of a manifest list (a bad entry must not break the rest)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


@dataclass(frozen=True)
class Manifest:
    """A plugin's manifest.json (PROTOCOL.md, "The manifest"), tolerant of missing parts."""

    raw: dict[str, Any]
    source: str  # "plugin" (RegisterResponse.manifest), "plugins-dir", or "gateway"

    @classmethod
    def parse(cls, document: bytes | str | dict[str, Any], source: str) -> Manifest:
        """Parse a manifest document; raises ValueError when it is not a JSON object."""
        data = document if isinstance(document, dict) else json.loads(document)
        if not isinstance(data, dict):
            raise ValueError("a manifest must be a JSON object")
        return cls(raw=data, source=source)

    def _text(self, key: str) -> str:
        value = self.raw.get(key)
        return value if isinstance(value, str) else ""

    @property
    def name(self) -> str:
        return self._text("name")

    @property
    def version(self) -> str:
        return self._text("version")

    @property
    def description(self) -> str:
        return self._text("description")

    @property
    def routes(self) -> list[dict[str, Any]]:
        return _dicts(self.raw.get("routes"))

    @property
    def widgets(self) -> list[dict[str, Any]]:
        return _dicts(self.raw.get("widgets"))

    @property
    def jobs(self) -> list[dict[str, Any]]:
        return _dicts(self.raw.get("jobs"))

    @property
    def permissions(self) -> list[str]:
        value = self.raw.get("permissions")
        return [p for p in value if isinstance(p, str)] if isinstance(value, list) else []

    @property
    def grpc_binary(self) -> str:
        grpc = self.raw.get("grpc")
        binary = grpc.get("binary") if isinstance(grpc, dict) else None
        return binary if isinstance(binary, str) else ""

    def handlers(self) -> list[str]:
        """Every handler the manifest names (routes, widgets, jobs), in order, once each."""
        seen: dict[str, None] = {}
        for entry in (*self.routes, *self.widgets, *self.jobs):
            handler = entry.get("handler")
            if isinstance(handler, str) and handler:
                seen.setdefault(handler, None)
        return list(seen)


@dataclass
class PluginInfo:
    """One plugin as found: what it registered as, where it lives, its manifest if any."""

    name: str
    target: str
    version: str = ""
    description: str = ""
    manifest: Manifest | None = None
    # Why Register failed, when it did (the plugin is still listed, by its socket name).
    error: str = ""
    # Where the plugin lives when several contexts are shown together.
    where: str = ""

    def handlers(self) -> list[str]:
        return self.manifest.handlers() if self.manifest else []


@dataclass(frozen=True)
class Probe:
    """One health check: the state, its round trip, and why when it failed."""

    health: Health
    latency_ms: float | None
    error: str = ""
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class CallResult:
    """What a handler returned, with how long it took."""

    data: bytes
    duration_ms: float
    code: str = "OK"
    content_type: str = ""
