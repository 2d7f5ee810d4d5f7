"""The working calendar: which days are working days, and working-time arithmetic on them.

Pure (no database). China's statutory holidays and make-up workdays (调休上班日) ship as data
in cases/data/cn_holidays.json; a tenant's own rows (`overrides`) win over that data for
their dates. Without an entry a day follows the weekday rule (Saturday and Sunday off).
Years the shipped data does not cover fall back to that rule, with a warning once per year.

Working time. Chinese property services count allowances in working days, so a working day
is the unit, with clock-time carry: a case received on a working day at 15:20 with one
working day allowed is due at 15:20 on the next working day. To make that precise, working
time is the business hours (default 09:00-17:00, configurable) of working days, and one
working day is one such window. Consequences:
- received inside business hours: n whole working days later, at the same clock time;
- received outside them (evening, weekend, holiday): the clock starts when the next window
  opens, so one working day is due at that window's close (e.g. Friday 20:00 -> Monday 17:00);
- fractions work (0.5 working day = half a window), and adding n then m equals adding n + m;
- a working-day deadline always falls inside (open, close] of a working day.
Emergencies run on natural hours instead (`add_natural_hours`), holidays or not.

Everything is in Asia/Shanghai (China has no daylight saving time since 1991): inputs must
be timezone-aware, results are aware datetimes in Asia/Shanghai.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
KINDS = ("holiday", "workday")
DATA_FILE = Path(__file__).parent / "data" / "cn_holidays.json"
DEFAULT_OPENS = time(9, 0)
DEFAULT_CLOSES = time(17, 0)
_MAX_SEARCH_DAYS = 3660  # a tenant cannot mark ten years in a row as holidays
log = logging.getLogger("gongzhi.cases.calendar")
_warned_years: set[int] = set()


@dataclass(frozen=True)
class DayEntry:
    """A day that does not follow the weekday rule, and where that comes from."""

    date: date
    kind: str  # "holiday" | "workday"
    name: str
    source: str  # "national" | "tenant"


@lru_cache(maxsize=1)
def national_days() -> tuple[dict[date, tuple[str, str]], frozenset[int]]:
    """The shipped data: {date: (kind, name)} and the years it covers."""
    doc = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    days = {date.fromisoformat(e["date"]): (e["kind"], e["name"]) for e in doc["days"]}
    if any(kind not in KINDS for kind, _ in days.values()):
        raise ValueError(f"{DATA_FILE}: unknown day kind")
    return days, frozenset(doc["years"])


def local(moment: datetime) -> datetime:
    """`moment` in Asia/Shanghai; naive datetimes are refused (their meaning is a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(TZ)


def add_natural_hours(start: datetime, hours: float) -> datetime:
    """Wall-clock time: weekends and holidays count like any other hour."""
    return local(start) + timedelta(hours=hours)


class WorkingCalendar:
    def __init__(self, overrides: Mapping[date, str] | None = None, *,
                 names: Mapping[date, str] | None = None, opens: time = DEFAULT_OPENS,
                 closes: time = DEFAULT_CLOSES) -> None:
        if not opens < closes:
            raise ValueError("business hours must open before they close on the same day")
        self.overrides = dict(overrides or {})
        if any(kind not in KINDS for kind in self.overrides.values()):
            raise ValueError(f"a calendar day's kind must be one of {KINDS}")
        self.names = dict(names or {})
        self.opens, self.closes = opens, closes
        self.national, self.covered_years = national_days()
        base = date(2000, 1, 1)
        self.day_length = datetime.combine(base, closes) - datetime.combine(base, opens)

    # --- days ---------------------------------------------------------------------------
    def kind(self, d: date) -> str | None:
        """The explicit entry for `d` (tenant first, then national), or None."""
        if d in self.overrides:
            return self.overrides[d]
        if d.year not in self.covered_years and d.year not in _warned_years:
            _warned_years.add(d.year)
            log.warning("no holiday data for %s: counting only weekends as days off; "
                        "add the year to %s", d.year, DATA_FILE.name)
        entry = self.national.get(d)
        return entry[0] if entry else None

    def is_workday(self, d: date) -> bool:
        kind = self.kind(d)
        return kind == "workday" if kind is not None else d.weekday() < 5

    def next_workday(self, d: date) -> date:
        """The first working day strictly after `d`."""
        for _ in range(_MAX_SEARCH_DAYS):
            d += timedelta(days=1)
            if self.is_workday(d):
                return d
        raise ValueError("no working day within ten years: check the calendar's overrides")

    def entries(self, year: int) -> list[DayEntry]:
        """The year's days that do not follow the weekday rule, tenant rows winning."""
        found = {d: DayEntry(d, kind, name, "national")
                 for d, (kind, name) in self.national.items() if d.year == year}
        for d, kind in self.overrides.items():
            if d.year == year:
                found[d] = DayEntry(d, kind, self.names.get(d, ""), "tenant")
        return [found[d] for d in sorted(found)]

    # --- working time -------------------------------------------------------------------
    def _window(self, d: date) -> tuple[datetime, datetime]:
        return datetime.combine(d, self.opens, TZ), datetime.combine(d, self.closes, TZ)

    def clock_start(self, moment: datetime) -> datetime:
        """`moment` if it lies in working time, else the next opening of a window."""
        moment = local(moment)
        d = moment.date()
        if self.is_workday(d):
            opens, closes = self._window(d)
            if moment < opens:
                return opens
            if moment < closes:
                return moment
        return self._window(self.next_workday(d))[0]

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when `amount` of working time has passed since `start`."""
        if amount < timedelta(0):
            raise ValueError("working time cannot be negative")
        if amount == timedelta(0):
            return local(start)
        cursor, left = self.clock_start(start), amount
        while True:
            closes = self._window(cursor.date())[1]
            if left <= closes - cursor:
                return cursor + left
            left -= closes - cursor
            cursor = self._window(self.next_workday(cursor.date()))[0]

    def add_working_days(self, start: datetime, n: float) -> datetime:
        return self.add_working_time(start, self.working_days_to_time(n))

    def working_days_to_time(self, n: float) -> timedelta:
        return timedelta(microseconds=round(n * (self.day_length // timedelta(microseconds=1))))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in [a, b]; negative when b is before a."""
        a, b = local(a), local(b)
        if b < a:
            return -self.working_time_between(b, a)
        total, d = timedelta(0), a.date()
        while d <= b.date():
            if self.is_workday(d):
                opens, closes = self._window(d)
                lo, hi = max(opens, a), min(closes, b)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total

    def working_days_between(self, a: datetime, b: datetime) -> float:
        return self.working_time_between(a, b) / self.day_length
