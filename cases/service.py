"""Case rules. For now: each tenant's working calendar, which SLA deadlines are computed on.

`calendar_for` caches a tenant's calendar per process. An edit drops this process's copy at
once; other processes notice within CACHE_SECONDS, which bounds how long a deadline computed
elsewhere may still use the old calendar (calendar edits are rare and made days ahead).
"""
from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from cases import repository as repo
from cases.calendar import KINDS, TZ, DayEntry, WorkingCalendar
from cases.schemas import CalendarDayOut, CalendarYearOut
from core import audit
from core.i18n import gettext as _
from core.problems import Forbidden, Invalid, NotFound
from tenancy.principal import Principal

CACHE_SECONDS = 60.0
MIN_YEAR, MAX_YEAR = 2000, 2100
_cache: dict[int, tuple[float, WorkingCalendar]] = {}


def invalidate_calendar(tenant_id: int | None = None) -> None:
    """Forget cached calendars: one tenant's, or (None) all of them."""
    if tenant_id is None:
        _cache.clear()
    else:
        _cache.pop(tenant_id, None)


async def calendar_for(tenant_id: int) -> WorkingCalendar:
    """The tenant's working calendar: the national data with the tenant's own days on top."""
    hit = _cache.get(tenant_id)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    rows = await repo.calendar_days(tenant_id)
    calendar = WorkingCalendar({r["date"]: r["kind"] for r in rows},
                               names={r["date"]: r["name"] for r in rows})
    _cache[tenant_id] = (time.monotonic(), calendar)
    return calendar


def day_out(calendar: WorkingCalendar, entry: DayEntry) -> CalendarDayOut:
    return CalendarDayOut(date=entry.date, kind=entry.kind,  # type: ignore[arg-type]
                          name=entry.name, source=entry.source,  # type: ignore[arg-type]
                          workday=calendar.is_workday(entry.date))


async def calendar_year(p: Principal, year: int | None = None) -> CalendarYearOut:
    """The year's days that differ from the weekday rule, as the caller's tenant counts them."""
    year = year or datetime.now(TZ).year
    calendar = await calendar_for(p.tenant_id)
    return CalendarYearOut(
        year=year, covered=year in calendar.covered_years,
        business_hours=f"{calendar.opens:%H:%M}-{calendar.closes:%H:%M}",
        days=[day_out(calendar, e) for e in calendar.entries(year)])


def _require_calendar_admin(p: Principal) -> None:
    if not p.is_tenant_admin:
        raise Forbidden(_("Only the administrators of the housing bureau may edit the working "
                          "calendar."))


def _check_day(day: date) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        message = _("The date must lie between the years {first} and {last}.").format(
            first=MIN_YEAR, last=MAX_YEAR)
        raise Invalid(message, errors=[{"field": "day", "message": message}])


async def _log(p: Principal, action: str, day: date, **data: Any) -> None:
    await audit.record(p.tenant_id, action, subject_type="calendar_day", subject_id=day.isoformat(),
                       actor_user_id=p.user_id, data=data)


async def set_calendar_day(p: Principal, day: date, kind: str, name: str) -> CalendarDayOut:
    """Make `day` a holiday or a working day for the caller's tenant (wins over national data)."""
    _require_calendar_admin(p)
    _check_day(day)
    if kind not in KINDS:
        message = _("This is not one of the allowed values.")
        raise Invalid(message, errors=[{"field": "kind", "message": message}])
    if not name.strip():
        message = _("This field is required.")
        raise Invalid(message, errors=[{"field": "name", "message": message}])
    before = await repo.calendar_day(p.tenant_id, day)
    row = await repo.upsert_calendar_day(p.tenant_id, day, kind, name.strip())
    invalidate_calendar(p.tenant_id)
    await _log(p, "calendar_day.set", day, kind=kind, name=row["name"],
               previous={"kind": before["kind"], "name": before["name"]} if before else None)
    return CalendarDayOut(date=day, kind=kind, name=row["name"],  # type: ignore[arg-type]
                          source="tenant", workday=kind == "workday")


async def delete_calendar_day(p: Principal, day: date) -> None:
    """Drop the tenant's own entry for `day`: the national data (or the weekday rule) applies again."""
    _require_calendar_admin(p)
    row = await repo.delete_calendar_day(p.tenant_id, day)
    if row is None:
        raise NotFound(_("Your calendar has no entry of its own for this date."))
    invalidate_calendar(p.tenant_id)
    await _log(p, "calendar_day.deleted", day, kind=row["kind"], name=row["name"])
