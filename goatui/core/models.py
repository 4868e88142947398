"""Plain data the core hands to the CLI and the console: plugins, manifests, probes, results."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from goatui.core.errors import GoatError


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

    @property
    def meaning(self) -> str:
        """What a state means where the word alone could mislead ("" for the rest)."""
        return _MEANINGS.get(self, "")


_MEANINGS = {
    # GoatFlow's lazy loading: listed, not started; not the same as disabled.
    Health.NOT_LOADED: "not loaded yet: GoatFlow loads it on first use",
    Health.DISABLED: "disabled on the gateway: calls, widgets and jobs are refused",
}


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
    (none measured last). Ties go by name, naturally (fleet-2 before fleet-10)."""
    named = natural_key(name)
    if order == "health":
        return (_SEVERITY.get(status, len(_SEVERITY)), named)
    if order == "latency":
        return (latency_ms is None, -(latency_ms or 0.0), named)
    return (named,)


def natural_key(text: str) -> tuple[tuple[tuple[int, int | str], ...], str]:
    """Orders text as people do: runs of digits compare as numbers ("fleet-2" before
    "fleet-10"), the rest as text without regard to case; the text itself breaks ties."""
    parts = tuple((0, int(run)) if digits else (1, run.casefold()) for run, digits in _runs(text))
    return parts, text


def _runs(text: str) -> list[tuple[str, bool]]:
    """text cut into runs of ASCII digits and of anything else: (run, is_digits)."""
    runs: list[tuple[str, bool]] = []
    for char in text:
        digit = "0" <= char <= "9"
        if runs and runs[-1][1] == digit:
            runs[-1] = (runs[-1][0] + char, digit)
        else:
            runs.append((char, digit))
    return runs


def _dicts(value: Any) -> list[dict[str, Any]]:
    """Keep only the JSON objects of a manifest list (a bad entry must not break the rest)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


#: Why a job whose manifest leaves `enabled` out is disabled (the views say it).
ENABLED_NOT_SET = "enabled not set"


def job_enabled(value: Any, source: str = "plugin") -> tuple[bool, str]:
    """(enabled, why not) as GoatFlow reads a job's `enabled`: a Go bool, so only JSON
    `true` enables the job; left out (or null) it is false and the scheduler skips it.

    `source` is where the manifest came from: GoatFlow's own list ("gateway") always
    carries `enabled`, false whether the manifest said false or left it out."""
    if value is True:
        return True, ""
    if value is False:
        return False, "enabled is false or not set" if source == "gateway" else "enabled is false"
    if value is None:
        return False, ENABLED_NOT_SET
    kind = type(value).__name__ if not isinstance(value, str) else "a string"
    return False, f"enabled is {kind}, not true or false (GoatFlow needs a JSON boolean)"


class Manifest:
    """A plugin's manifest.json (PROTOCOL.md, "The manifest"), tolerant of missing parts.

    Read-only. `deferred` keeps the JSON text and parses it on first use: a gateway lists
    thousands of plugins whose manifests `goatui ls` never looks into (issue #19).
    """

    __slots__ = ("_json", "_raw", "source")

    def __init__(self, raw: dict[str, Any], source: str) -> None:
        self._raw: dict[str, Any] | None = raw
        self._json: str | None = None
        #: "plugin" (RegisterResponse.manifest), "plugins-dir", or "gateway"
        self.source = source

    @classmethod
    def parse(cls, document: bytes | str | dict[str, Any], source: str) -> Manifest:
        """Parse a manifest document; ValueError saying why when it is not a JSON object."""
        try:
            data = document if isinstance(document, dict) else json.loads(document)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            ) from None
        except UnicodeDecodeError:
            raise ValueError("not JSON (not UTF-8 text)") from None
        except RecursionError:
            raise ValueError("not JSON that goatui can read (nested too deeply)") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return cls(raw=data, source=source)

    @classmethod
    def deferred(cls, text: str, source: str) -> Manifest:
        """From the text of a JSON object already checked (parsed again when first read)."""
        manifest = cls({}, source)
        manifest._raw, manifest._json = None, text
        return manifest

    @property
    def raw(self) -> dict[str, Any]:
        if self._raw is None:
            try:
                value = json.loads(self._json or "{}")
            except (ValueError, RecursionError):
                value = None
            self._raw, self._json = (value if isinstance(value, dict) else {}), None
        return self._raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        if self.source != other.source:
            return False
        if self._json is not None and self._json == other._json:
            return True  # the same text, neither parsed: no need to
        return self.raw == other.raw

    __hash__ = None  # type: ignore[assignment]  # mutable contents, as before

    def __repr__(self) -> str:
        return f"Manifest(source={self.source!r}, name={self.name!r})"

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


@dataclass(slots=True)
class PluginInfo:
    """One plugin as found: what it registered as, where it lives, its manifest if any."""

    name: str
    target: str
    version: str = ""
    description: str = ""
    manifest: Manifest | None = None
    # Why Register failed, when it did (the plugin is still listed, by its socket name).
    error: str = ""
    # That failure itself, with its exit code (not shown, not compared).
    failure: GoatError | None = field(default=None, repr=False, compare=False)
    # Where the plugin lives when several contexts are shown together.
    where: str = ""
    # Why its manifest (sent by the plugin, or in the plugins dir) could not be used.
    manifest_problem: str = ""
    # False: listed by a gateway but not loaded yet (GoatFlow loads it on its first
    # call); its manifest, and so its handlers, widgets and jobs, are unknown until then.
    loaded: bool = True
    # Who this plugin is across listings when its name can change (a lazy plugin that
    # loads under another name): the monitor keeps one row per key. "" means its target.
    key: str = ""

    def handlers(self) -> list[str]:
        return self.manifest.handlers() if self.manifest else []


@dataclass(frozen=True, slots=True)
class Probe:
    """One health check: the state, its round trip, and why when it failed."""

    health: Health
    latency_ms: float | None
    error: str = ""
    at: float = field(default_factory=time.time)
    #: What answered, for the operator: 'Check(service="plugin")', "GoatFlow's plugin
    #: list"… ("" when nothing did).
    source: str = ""


@dataclass(frozen=True)
class CallResult:
    """What a handler returned, with how long it took."""

    data: bytes
    duration_ms: float
    code: str = "OK"
    content_type: str = ""
