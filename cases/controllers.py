"""Cases API. For now the tenant's working calendar, on which SLA deadlines are counted."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Request, delete, get, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from cases import service as svc
from cases.schemas import CalendarDayIn, CalendarDayOut, CalendarYearOut
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
Year = Annotated[int | None, Parameter(ge=svc.MIN_YEAR, le=svc.MAX_YEAR,
                                       description="Defaults to the current year")]


class CalendarController(Controller):
    path = "/api/v1/calendar"
    guards = [authenticated]
    tags = ["calendar"]

    @get("", summary="The year's holidays and make-up workdays, national and the tenant's own")
    async def get_year(self, request: Req, year: Year = None) -> CalendarYearOut:
        return await svc.calendar_year(request.user, year)

    @put("/{day:date}", summary="Make a day a holiday or a working day for this tenant "
                                "(bureau administrators)")
    async def set_day(self, request: Req, day: date, data: CalendarDayIn, tx: object) -> CalendarDayOut:
        return await svc.set_calendar_day(request.user, day, data.kind, data.name)

    @delete("/{day:date}", status_code=HTTP_204_NO_CONTENT,
            summary="Remove the tenant's own entry for a day (bureau administrators)")
    async def delete_day(self, request: Req, day: date, tx: object) -> None:
        await svc.delete_calendar_day(request.user, day)
