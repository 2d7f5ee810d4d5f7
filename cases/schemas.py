"""Request and response types of the cases API (msgspec Structs)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta, Struct

DayKind = Literal["holiday", "workday"]


class CalendarDayIn(Struct, forbid_unknown_fields=True):
    kind: Annotated[DayKind, Meta(description="holiday: a day off; workday: a working day "
                                              "(e.g. a make-up workday on a weekend)")]
    name: Annotated[str, Meta(min_length=1, max_length=100, examples=["防汛值班"])]


class CalendarDayOut(Struct):
    date: date
    kind: DayKind
    name: str
    source: Annotated[Literal["national", "tenant"],
                      Meta(description="national: shipped statutory data; tenant: your own entry, "
                                       "which wins over the national one")]
    workday: bool


class CalendarYearOut(Struct):
    year: int
    covered: Annotated[bool, Meta(description="Whether national holiday data exists for the year; "
                                              "without it only weekends and your entries count")]
    business_hours: Annotated[str, Meta(examples=["09:00-17:00"])]
    days: list[CalendarDayOut]
