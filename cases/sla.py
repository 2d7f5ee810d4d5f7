"""SLA targets and deadlines. Pure: callers pass the targets and the working calendar.

Targets come from the estate's active service contract when it sets them, else from the
tenant's policy; both are stored as JSON (`SlaTargets.to_dict` / `from_dict`). Defaults are
DESIGN.md §4. For emergencies, "acknowledge" means "on site".

The SLA clock and pauses. An allowance is an amount of clock time in its unit: natural hours
(every hour counts) or working days (business hours of working days, see cases.calendar).
While a case is paused (waiting for the resident or for parts) the clock stands still. So:

    consumed(t) = clock time in [start, t] outside every pause, measured in the allowance's unit
    deadline    = the first t with consumed(t) = allowance

i.e. each pause moves the deadline later by the pause's length *in the same unit*: a pause
over a weekend costs a working-day allowance nothing, and a natural-hours allowance its full
length. Pauses before the start or after the deadline change nothing (a case cannot stop
being overdue by pausing). A pause still open (end None) counts up to `now`: the deadline
is then "the deadline if the case resumed now", and it moves on as long as the pause lasts.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Literal, NamedTuple

import msgspec
from msgspec import Meta, Struct

from cases.calendar import WorkingCalendar, add_natural_hours, local

Unit = Literal["natural_hours", "working_days"]
Amount = Annotated[float, Meta(gt=0, le=10_000)]


class Priority(str, Enum):
    emergency = "emergency"
    urgent = "urgent"
    normal = "normal"


class Allowance(Struct, frozen=True, forbid_unknown_fields=True):
    amount: Amount
    unit: Unit


class PriorityTargets(Struct, frozen=True, forbid_unknown_fields=True):
    acknowledge: Allowance  # emergencies: on site
    resolve: Allowance


class SlaTargets(Struct, frozen=True, forbid_unknown_fields=True):
    emergency: PriorityTargets
    urgent: PriorityTargets
    normal: PriorityTargets
    return_window: Allowance  # a wrongly assigned case must be returned (退单) within this

    @classmethod
    def defaults(cls) -> SlaTargets:
        return cls(
            emergency=PriorityTargets(Allowance(0.5, "natural_hours"), Allowance(24.0, "natural_hours")),
            urgent=PriorityTargets(Allowance(2.0, "natural_hours"), Allowance(48.0, "natural_hours")),
            normal=PriorityTargets(Allowance(1.0, "working_days"), Allowance(3.0, "working_days")),
            return_window=Allowance(2.0, "working_days"),
        )

    def for_priority(self, priority: Priority | str) -> PriorityTargets:
        return getattr(self, Priority(priority).value)

    def to_dict(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)

    @classmethod
    def from_dict(cls, data: Any) -> SlaTargets:
        """Validating (bounds, units, no unknown keys); raises msgspec.ValidationError."""
        return msgspec.convert(data, cls)


class Pause(NamedTuple):
    begin: datetime
    end: datetime | None  # None: still paused


def _measure(unit: str, calendar: WorkingCalendar, a: datetime, b: datetime) -> timedelta:
    return b - a if unit == "natural_hours" else calendar.working_time_between(a, b)


def _advance(unit: str, calendar: WorkingCalendar, a: datetime, amount: timedelta) -> datetime:
    return local(a) + amount if unit == "natural_hours" else calendar.add_working_time(a, amount)


def _as_time(allowance: Allowance, calendar: WorkingCalendar) -> timedelta:
    if allowance.unit == "natural_hours":
        return timedelta(hours=allowance.amount)
    return calendar.working_days_to_time(allowance.amount)


def deadline(start: datetime, allowance: Allowance, calendar: WorkingCalendar) -> datetime:
    if allowance.unit == "natural_hours":
        return add_natural_hours(start, allowance.amount)
    return calendar.add_working_days(start, allowance.amount)


def _merged(pauses: Iterable[Pause | tuple], now: datetime | None) -> list[tuple[datetime, datetime]]:
    """Pauses as sorted, disjoint (begin, end) pairs; an open one ends at `now`."""
    spans = []
    for begin, end in pauses:
        if end is None:
            if now is None:
                raise ValueError("an open pause needs `now`")
            end = max(local(begin), local(now))
        if local(end) > local(begin):
            spans.append((local(begin), local(end)))
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def deadline_with_pauses(start: datetime, allowance: Allowance, pauses: Iterable[Pause | tuple],
                         calendar: WorkingCalendar, *, now: datetime | None = None) -> datetime:
    """The deadline when the clock stands still during `pauses` (see the module docstring)."""
    unit, cursor = allowance.unit, local(start)
    left = _as_time(allowance, calendar)
    for begin, end in _merged(pauses, now):
        if end <= cursor:
            continue
        if begin > cursor:
            available = _measure(unit, calendar, cursor, begin)
            if left <= available:
                break
            left -= available
        cursor = max(cursor, end)
    return _advance(unit, calendar, cursor, left)


def remaining(now: datetime, deadline: datetime, pauses: Iterable[Pause | tuple],
              calendar: WorkingCalendar, unit: Unit) -> timedelta:
    """SLA clock time left at `now` until `deadline`, outside pauses; negative when overdue.

    With the deadline from `deadline_with_pauses(..., now=now)` this is the allowance minus
    the clock time consumed by `now`, so it stands still while a pause is open. `unit` is the
    allowance's. (Called with the start for `now` and any later moment for `deadline`, it
    gives the clock time used up to that moment.)
    """
    a, b = sorted((local(now), local(deadline)))
    sign = 1 if now <= deadline else -1
    total = _measure(unit, calendar, a, b)
    for begin, end in _merged(pauses, now):
        lo, hi = max(begin, a), min(end, b)
        if hi > lo:
            total -= _measure(unit, calendar, lo, hi)
    return sign * total


def is_overdue(now: datetime, deadline: datetime) -> bool:
    """Done exactly at the deadline is on time."""
    return local(now) > local(deadline)
