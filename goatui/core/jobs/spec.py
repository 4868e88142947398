"""The jobs a plugin's manifest declares (`jobs` entries), read as GoatFlow reads them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from goatui.core.calls.jsondiff import json_type
from goatui.core.jobs.cron import Schedule
from goatui.core.jobs.durations import parse_go_duration
from goatui.core.models import ENABLED_NOT_SET, PluginInfo, job_enabled
from goatui.core.sanitize import short_repr

DEFAULT_JOB_TIMEOUT_S = 300.0


def _field(entry: Mapping[str, Any], key: str) -> tuple[str, str]:
    """(the field's text, "" or what is wrong with it): a field of the wrong type (a
    numeric id, a list for a schedule) is shown as it is and said to be wrong, not
    taken for a missing one."""
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value or "", ""
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    kind = json_type(value)
    article = "an" if kind[0] in "aeiou" else "a"
    return shown, f"{key} must be a string, not {article} {kind} ({shown})"


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
    if seconds < 1:
        # GoatFlow's own floor (PROTOCOL.md): under a second is taken as a mistake.
        return DEFAULT_JOB_TIMEOUT_S, f"timeout {short_repr(value)} is under a second; {default}"
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
    # Why the job is disabled ("enabled not set", "enabled is false"); "" when enabled.
    why_disabled: str = ""
    timeout_s: float = DEFAULT_JOB_TIMEOUT_S
    # Why the manifest's timeout was not usable ("" when it was, or was absent).
    timeout_error: str = ""
    # Fields of the wrong type: id, handler, description ("" when none); and schedule.
    field_error: str = ""
    schedule_error: str = ""

    @classmethod
    def from_manifest(
        cls, plugin: str, entry: Mapping[str, Any], *, source: str = "plugin"
    ) -> JobSpec:
        """Read a manifest ``jobs`` entry; missing or mistyped fields get defaults.

        `source` is where the manifest came from: GoatFlow's list ("gateway") always
        carries `enabled`, false whether the manifest says false or leaves it out."""
        if not isinstance(entry, Mapping):
            entry = {}
        timeout_s, timeout_error = _timeout(entry.get("timeout"))
        (job_id, id_error), (handler, handler_error), (description, description_error) = (
            _field(entry, key) for key in ("id", "handler", "description")
        )
        schedule, schedule_error = _field(entry, "schedule")
        enabled, why_disabled = job_enabled(entry.get("enabled"), source)
        return cls(
            plugin=plugin,
            id=job_id,
            handler=handler,
            schedule=schedule,
            description=description,
            enabled=enabled,
            why_disabled=why_disabled,
            timeout_s=timeout_s,
            timeout_error=timeout_error,
            field_error="; ".join(e for e in (id_error, handler_error, description_error) if e),
            schedule_error=schedule_error,
        )

    @property
    def enabled_word(self) -> str:
        """ "yes", "no", or "not set" (left out of the manifest, so GoatFlow reads false)."""
        if self.enabled:
            return "yes"
        return "not set" if self.why_disabled == ENABLED_NOT_SET else "no"

    @property
    def disabled_text(self) -> str:
        """ "disabled (enabled not set): GoatFlow does not schedule it"; "" when enabled."""
        if self.enabled:
            return ""
        why = f" ({self.why_disabled})" if self.why_disabled else ""
        return f"disabled{why}: GoatFlow does not schedule it"

    @property
    def parsed_schedule(self) -> Schedule:
        """The schedule checked as GoatFlow would take it (a schedule that is not a
        string is invalid for what it is)."""
        if self.schedule_error:
            return Schedule(expression=self.schedule, error=self.schedule_error)
        return Schedule.parse(self.schedule)


def jobs_of(plugin: PluginInfo) -> list[JobSpec]:
    """The jobs a plugin's manifest declares, in manifest order (none without a manifest)."""
    if plugin.manifest is None:
        return []
    source = plugin.manifest.source
    return [
        JobSpec.from_manifest(plugin.name, entry, source=source) for entry in plugin.manifest.jobs
    ]
