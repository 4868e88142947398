"""Cron expressions: checked, described in words, and their next fire times.

GoatFlow schedules manifest jobs with robfig/cron (standard 5-field parser plus the
``@hourly``-style nicknames), so validation follows what robfig accepts and fire times
follow robfig's semantics; croniter does the date arithmetic.

DST, and what croniter does about it (checked against croniter 7, Europe/Berlin and
America/New_York, 2026):

* Spring forward (Berlin 2026-03-29, 02:00-02:59 does not exist): croniter moves a
  wall time that falls in the gap to the first minute after it, so "30 2 * * *" yields
  03:00 that day, unless the hour field is "*", in which case it skips the gap. robfig
  never fires instead of a missing time: the run is skipped that day. ``next_runs``
  drops croniter's manufactured times (their wall clock does not match the expression).
* Fall back (Berlin 2026-10-25, 02:00-02:59 happens twice): croniter returns both
  instants, 02:30+02:00 then 02:30+01:00 (fold=1), and robfig fires twice too, so both
  are kept: they are different instants an hour apart, and ``format_next`` names the
  zone for such wall times.
* Python compares and subtracts aware datetimes that share a tzinfo by wall clock,
  ignoring fold: those two 02:30 runs compare *equal*. Everything here compares through
  UTC timestamps; callers should do the same (``dt.timestamp()``), not ``==`` or ``-``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from croniter import croniter

from goatui.core.sanitize import short_repr

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# Longest month length, counting leap years (robfig looks 5 years ahead, so Feb 29 fires).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# What robfig/cron's descriptors stand for (parser.go, parseDescriptor).
NICKNAMES: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # full names, indexed from `low`; matched by 3 letters

    def value(self, token: str) -> int:
        if token.isdigit() and token.isascii():
            if len(token) > 4:  # out of range for sure; avoid int() on huge input
                raise ValueError(f"{self.name}: {short_repr(token)} is out of range")
            return int(token)
        for index, full in enumerate(self.names):
            if token.lower() == full[:3].lower():
                return self.low + index
        expected = "a number or a 3-letter name" if self.names else "a number"
        raise ValueError(f"{self.name}: {short_repr(token)} is not {expected}")

    def label(self, value: int, short: bool) -> str:
        if not self.names:
            return str(value)
        full = self.names[value - self.low]
        return full[:3] if short else full


_SPECS = (
    _FieldSpec("minute", 0, 59),
    _FieldSpec("hour", 0, 23),
    _FieldSpec("day of month", 1, 31),
    _FieldSpec("month", 1, 12, _MONTHS),
    _FieldSpec("day of week", 0, 6, _WEEKDAYS),
)
_TERM = re.compile(r"(\*|\?|[0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?(?:/([0-9A-Za-z]+))?")


@dataclass(frozen=True)
class _Term:
    """One comma-separated part of a field: ``*``, ``N``, ``A-B``, each with optional ``/S``."""

    low: int
    high: int
    step: int
    star: bool  # written as * or ?
    ranged: bool  # written as A-B
    stepped: bool  # written with /S

    def render(self, spec: _FieldSpec, short: bool = True) -> str:
        if self.star:
            body = "*"
        elif self.ranged or self.stepped:
            body = f"{spec.label(self.low, short)}-{spec.label(self.high, short)}"
        else:
            body = spec.label(self.low, short)
        return f"{body}/{self.step}" if self.stepped else body


@dataclass(frozen=True)
class _Field:
    spec: _FieldSpec
    terms: tuple[_Term, ...]
    values: frozenset[int]

    @property
    def star(self) -> bool:
        """robfig's "star bit": a bare * or ? (a step over 1 clears it); see dayMatches."""
        return any(t.star and t.step == 1 for t in self.terms)

    @property
    def full(self) -> bool:
        return len(self.values) == self.spec.high - self.spec.low + 1

    @property
    def every(self) -> int:
        """N for "*/N" (or "0/N" and the like, spanning the whole field), else 0."""
        if len(self.terms) != 1:
            return 0
        t = self.terms[0]
        spans = t.low == self.spec.low and t.high == self.spec.high
        return t.step if t.stepped and t.step > 1 and spans else 0

    @property
    def singles(self) -> list[int]:
        """The values when the field is a plain list of numbers or names, else []."""
        if any(t.star or t.ranged or t.stepped for t in self.terms):
            return []
        return sorted(self.values)

    @property
    def span(self) -> tuple[int, int] | None:
        """(A, B) when the field is exactly one plain range A-B."""
        if len(self.terms) != 1:
            return None
        t = self.terms[0]
        return (t.low, t.high) if t.ranged and not t.stepped else None

    def text(self, short: bool = True) -> str:
        return ",".join(t.render(self.spec, short) for t in self.terms)


def _parse_field(raw: str, spec: _FieldSpec) -> _Field:
    terms: list[_Term] = []
    values: set[int] = set()
    for part in raw.split(","):
        match = _TERM.fullmatch(part)
        if match is None:
            if not part:
                raise ValueError(f"{spec.name}: empty item in {short_repr(raw)}")
            raise ValueError(f"{spec.name}: cannot read {short_repr(part)}")
        first, last, step_text = match.groups()
        star = first in ("*", "?")
        if star and last is not None:
            raise ValueError(f"{spec.name}: {short_repr(part)} mixes * with a range")
        if star:
            low, high = spec.low, spec.high
        else:
            low = spec.value(first)
            high = spec.value(last) if last is not None else low
        step = 1
        if step_text is not None:
            if not (step_text.isdigit() and step_text.isascii()) or len(step_text) > 4:
                raise ValueError(f"{spec.name}: step {short_repr(step_text)} is not a number")
            step = int(step_text)
            if step == 0:
                raise ValueError(f"{spec.name}: a step must be positive")
            if last is None and not star:
                high = spec.high  # robfig: "N/S" means N through the field's maximum
        for value in (low, high):
            if not spec.low <= value <= spec.high:
                hint = " (use 0 for Sunday)" if spec.names == _WEEKDAYS and value == 7 else ""
                raise ValueError(
                    f"{spec.name}: {value} is out of range {spec.low}-{spec.high}{hint}"
                )
        if low > high:
            raise ValueError(f"{spec.name}: range {short_repr(part)} runs backwards")
        terms.append(_Term(low, high, step, star, last is not None, step_text is not None))
        values.update(range(low, high + 1, step))
    return _Field(spec, tuple(terms), frozenset(values))


@dataclass(frozen=True)
class _Cron:
    """A validated 5-field expression."""

    minute: _Field
    hour: _Field
    dom: _Field
    month: _Field
    dow: _Field
    # The same schedule spelled for croniter with robfig's day semantics (see _for_croniter).
    cron: str

    def day_matches(self, when: datetime) -> bool:
        # robfig's dayMatches: if either day field is a bare *, both must match (so the
        # other decides); otherwise either may match (the Vixie cron OR rule).
        dom_ok = when.day in self.dom.values
        dow_ok = when.isoweekday() % 7 in self.dow.values
        if self.dom.star or self.dow.star:
            return dom_ok and dow_ok
        return dom_ok or dow_ok

    def fires_at(self, when: datetime) -> bool:
        """True when the wall clock of `when` is one this schedule names."""
        return (
            when.minute in self.minute.values
            and when.hour in self.hour.values
            and when.month in self.month.values
            and self.day_matches(when)
        )


def _values(field: _Field) -> str:
    return "*" if field.full else ",".join(str(v) for v in sorted(field.values))


def _for_croniter(minute: _Field, hour: _Field, dom: _Field, month: _Field, dow: _Field) -> str:
    """Spell the schedule so croniter's day rule gives robfig's answer.

    croniter ORs the day fields unless one *expands* to "*", and it expands some forms
    differently from robfig ("*/1" stays a list, "0-6" collapses to "*"). Explicit value
    lists plus an explicit "*" where robfig ANDs remove the guesswork.
    """
    if dom.star or dow.star:
        dom_text = "*" if dom.star else _values(dom)
        dow_text = "*" if dow.star else _values(dow)
    elif dom.full or dow.full:
        dom_text = dow_text = "*"  # OR with a field that allows every day: every day
    else:
        dom_text, dow_text = _values(dom), _values(dow)
    return " ".join((_values(minute), _values(hour), dom_text, _values(month), dow_text))


@lru_cache(maxsize=512)
def _analyse(expression: str) -> _Cron | str:
    """The parsed expression, or why it is not one GoatFlow would run."""
    text = expression.strip()
    if not text:
        return "empty schedule"
    if text.startswith("@"):
        if text in NICKNAMES:
            text = NICKNAMES[text]
        elif text.startswith("@every"):
            return "'@every' intervals have no calendar times; use 5 cron fields"
        else:
            return f"unknown nickname {short_repr(text)} (use {', '.join(NICKNAMES)})"
    parts = text.split()
    if len(parts) != 5:
        if len(parts) in (6, 7):
            return (
                f"{len(parts)} fields; GoatFlow schedules take exactly 5 "
                "(minute hour day-of-month month day-of-week), no seconds or year"
            )
        return f"{len(parts)} field{'s' * (len(parts) != 1)}; expected 5 (minute hour day month weekday)"
    try:
        fields = [_parse_field(raw, spec) for raw, spec in zip(parts, _SPECS, strict=True)]
    except ValueError as exc:
        return str(exc)
    minute, hour, dom, month, dow = fields
    if not dom.star and dow.star:  # robfig ANDs: the day of month alone decides
        longest = max(_MONTH_DAYS[m - 1] for m in month.values)
        if min(dom.values) > longest:
            return f"never fires: no month in the schedule has a day {min(dom.values)}"
    cron = _for_croniter(minute, hour, dom, month, dow)
    try:
        croniter(cron, datetime(2000, 1, 1, tzinfo=UTC))
    except (ValueError, TypeError) as exc:  # CroniterError is a ValueError
        return f"not a cron expression: {exc}"
    return _Cron(minute, hour, dom, month, dow, cron)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _clock(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def _time_phrase(minute: _Field, hour: _Field) -> tuple[str, bool, bool]:
    """(phrase, names specific clock times, had to fall back to field text)."""
    if minute.star or minute.every:
        base = "every minute" if minute.star else f"every {minute.every} minutes"
        if hour.star:
            return base, False, False
        if hour.every:
            return f"{base} of every {_ordinal(hour.every)} hour", False, False
        if hour.span:
            first, last = hour.span
            return f"{base} from {_clock(first, 0)} through {_clock(last, 59)}", False, False
        if len(hour.singles) == 1:
            h = hour.singles[0]
            return f"{base} from {_clock(h, 0)} through {_clock(h, 59)}", False, False
        return f"{base} during hours {hour.text()}", False, True
    if len(minute.singles) == 1:
        m = minute.singles[0]
        if hour.star:
            return ("every hour" if m == 0 else f"at minute {m} past every hour"), False, False
        if hour.every:
            if m == 0:
                return f"every {hour.every} hours", False, False
            return f"at minute {m} past every {_ordinal(hour.every)} hour", False, False
        if hour.span:
            first, last = hour.span
            return f"every hour from {_clock(first, m)} through {_clock(last, m)}", False, False
    if minute.singles and hour.singles and len(minute.singles) * len(hour.singles) <= 6:
        times = [_clock(h, m) for h in hour.singles for m in minute.singles]
        return f"at {_join(times)}", True, False
    # Fallback: say the fields as written, still as a sentence.
    singular = len(minute.singles) == 1
    phrase = f"at minute{'' if singular else 's'} {minute.text()}"
    if hour.star:
        phrase += " past every hour"
    elif hour.every:
        phrase += f" past every {_ordinal(hour.every)} hour"
    elif len(hour.singles) == 1:
        phrase += f" past hour {hour.singles[0]}"
    else:
        phrase += f" past hours {hour.text()}"
    return phrase, False, True


def _dom_phrase(dom: _Field) -> str:
    if dom.every:
        return f"on every {_ordinal(dom.every)} day of the month"
    if len(dom.singles) == 1:
        return f"on day {dom.singles[0]} of the month"
    if dom.singles:
        return f"on days {_join([str(d) for d in dom.singles])} of the month"
    return f"on days {dom.text()} of the month"


def _named_phrase(field: _Field, short: bool, every_noun: str) -> str:
    """Weekdays or months: full names when the rest reads as prose, else abbreviations."""
    if field.every:
        return f"every {_ordinal(field.every)} {every_noun}"
    if short:
        return field.text(short=True)
    if field.span:
        first, last = field.span
        return f"{field.spec.label(first, False)} through {field.spec.label(last, False)}"
    if field.singles:
        return _join([field.spec.label(v, False) for v in field.singles])
    return field.text(short=True)


def _describe(cron: _Cron) -> str:
    time_text, specific, short = _time_phrase(cron.minute, cron.hour)
    parts = [time_text]
    month_used = False
    if not cron.dom.star and not cron.dow.star:
        # Both restricted: robfig fires when either matches.
        dow_text = "on " + _named_phrase(cron.dow, short, "day of the week")
        parts.append(f"{_dom_phrase(cron.dom)} or {dow_text}")
    elif not cron.dom.star:
        dom_days, months = cron.dom.singles, cron.month.singles
        if len(dom_days) == 1 and len(months) == 1 and not short:
            parts.append(f"on {cron.month.spec.label(months[0], False)} {dom_days[0]}")
            month_used = True
        else:
            parts.append(_dom_phrase(cron.dom))
    elif not cron.dow.star:
        parts.append("on " + _named_phrase(cron.dow, short, "day of the week"))
    if not cron.month.star and not month_used:
        parts.append("in " + _named_phrase(cron.month, short, "month"))
    if specific and len(parts) == 1:
        parts.append("every day")
    return " ".join(parts)


@dataclass(frozen=True)
class Schedule:
    """A job's cron expression, checked the way GoatFlow's scheduler would take it."""

    expression: str
    error: str = ""  # "" when valid, else why not

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        """Never raises: an unusable expression comes back with `error` set."""
        if not isinstance(expression, str):
            return cls(expression="", error="schedule must be text")
        result = _analyse(expression)
        return cls(expression=expression, error=result if isinstance(result, str) else "")

    @property
    def valid(self) -> bool:
        return not self.error and not isinstance(_analyse(self.expression), str)

    def next_runs(self, count: int, start: datetime) -> list[datetime]:
        """The next `count` fire times strictly after `start`, in start's zone.

        `start` must be timezone-aware. Returns [] when the expression is invalid. Fire
        times follow robfig: wall times inside a spring-forward gap are skipped, wall
        times in a fall-back overlap fire at both instants (see the module docstring).
        """
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        cron = _analyse(self.expression)
        if isinstance(cron, str) or count <= 0:
            return []
        zone = start.tzinfo
        runs: list[datetime] = []
        last = start.timestamp()
        it = croniter(cron.cron, start)
        # Skipped candidates are rare (one per DST gap); the cap only guards a runaway.
        for _ in range(2 * count + 16):
            if len(runs) == count:
                break
            try:
                candidate: datetime = it.get_next(datetime)
            except (ValueError, OverflowError):  # CroniterBadDateError: nothing further
                break
            # Through UTC so fold is set right for the repeated hour.
            when = candidate.astimezone(UTC).astimezone(zone)
            stamp = when.timestamp()
            if stamp <= last or not cron.fires_at(when):
                continue  # croniter's shifted gap time, or not after the previous run
            runs.append(when)
            last = stamp
        return runs

    def next_run(self, start: datetime) -> datetime | None:
        runs = self.next_runs(1, start)
        return runs[0] if runs else None

    def describe(self) -> str:
        """Plain English ("at 06:00 every day"), or "invalid: <why>"."""
        if self.error:
            return f"invalid: {self.error}"
        cron = _analyse(self.expression)
        if isinstance(cron, str):
            return f"invalid: {cron}"
        return _describe(cron)
