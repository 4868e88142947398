"""The jobs a plugin's manifest declares (`jobs` entries), read as GoatFlow reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from goatui.core.jobs.cron import Schedule
from goatui.core.jobs.durations import parse_go_duration
from goatui.core.models import PluginInfo
from goatui.core.sanitize import short_repr

DEFAULT_JOB_TIMEOUT_S = 300.0


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _enabled(value: Any) -> bool:
    """Missing means enabled; tolerate the obvious spellings of a boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "no", "off", "0", "disabled")
    return True


def _timeout(value: Any) -> tuple[float, str]:
    """(seconds, why it was refused) for a job's timeout; refused means the default."""
    if value is None or value == "":
        return DEFAULT_JOB_TIMEOUT_S, ""
    default = f"using the default {DEFAULT_JOB_TIMEOUT_S:g}s"
    if not isinstance(value, str):
        kind = "a boolean" if isinstance(value, bool) else type(value).__name__
        return (
            DEFAULT_JOB_TIMEOUT_S,
            f"timeout must be a duration such as '5m', not {kind}; {default}",
        )
    try:
        seconds = parse_go_duration(value)
    except ValueError as exc:
        return DEFAULT_JOB_TIMEOUT_S, f"{exc}; {default}"
    if seconds <= 0:
        return DEFAULT_JOB_TIMEOUT_S, f"timeout {short_repr(value)} is not positive; {default}"
    return seconds, ""


@dataclass(frozen=True)
class JobSpec:
    """One job a plugin's manifest declares."""

    plugin: str
    id: str
    handler: str
    schedule: str
    description: str = ""
    enabled: bool = True
    timeout_s: float = DEFAULT_JOB_TIMEOUT_S
    # Why the manifest's timeout was not usable ("" when it was, or was absent).
    timeout_error: str = ""

    @classmethod
    def from_manifest(cls, plugin: str, entry: Mapping[str, Any]) -> JobSpec:
        """Read a manifest ``jobs`` entry; missing or mistyped fields get defaults."""
        if not isinstance(entry, Mapping):
            entry = {}
        timeout_s, timeout_error = _timeout(entry.get("timeout"))
        return cls(
            plugin=plugin,
            id=_text(entry, "id"),
            handler=_text(entry, "handler"),
            schedule=_text(entry, "schedule"),
            description=_text(entry, "description"),
            enabled=_enabled(entry.get("enabled")),
            timeout_s=timeout_s,
            timeout_error=timeout_error,
        )

    @property
    def parsed_schedule(self) -> Schedule:
        return Schedule.parse(self.schedule)


def jobs_of(plugin: PluginInfo) -> list[JobSpec]:
    """The jobs a plugin's manifest declares, in manifest order (none without a manifest)."""
    if plugin.manifest is None:
        return []
    return [JobSpec.from_manifest(plugin.name, entry) for entry in plugin.manifest.jobs]
