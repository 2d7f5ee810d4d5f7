"""Cases API for dashboards and spreadsheets: counts per status, CSV and XLSX exports of the
filtered list (same filters and visibility as `GET /api/v1/cases`)."""
from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.response import Stream

from cases import export, listing
from cases.listing import case_filters, transaction_after_filters
from cases.schemas import CaseCounts
from cases.search import Filters
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]


class CaseReportController(Controller):
    path = "/api/v1/cases"
    guards = [authenticated]
    tags = ["cases"]
    dependencies = {"f": Provide(case_filters), "tx": Provide(transaction_after_filters)}

    @get("/counts",
         summary="How many of the cases the caller may see are in each status, and "
                 "how many are overdue (same filters as the list)")
    async def counts(self, request: Req, f: Filters) -> CaseCounts:
        return await listing.count_cases(request.user, f)

    @get("/export.csv", media_type=export.CSV_TYPE,
         summary="The filtered list as CSV (UTF-8 with BOM; reporter data masked; at most "
                 "100,000 rows)")
    async def export_csv(self, request: Req, tx: object, f: Filters) -> Stream:
        return await _stream(request.user, f, "csv", export.CSV_TYPE)

    @get("/export.xlsx", media_type=export.XLSX_TYPE,
         summary="The filtered list as an Excel workbook (reporter data masked; at most "
                 "100,000 rows)")
    async def export_xlsx(self, request: Req, tx: object, f: Filters) -> Stream:
        return await _stream(request.user, f, "xlsx", export.XLSX_TYPE)


async def _stream(p: Principal, f, fmt: str, media_type: str) -> Stream:
    """The audit entry commits with the request's transaction (`tx`) before the body is
    streamed; the rows are then read from the pool, batch by batch."""
    body = await export.start_export(p, f, fmt)
    _name, disposition = export.file_name(fmt)
    return Stream(body, media_type=media_type, headers={
        "Content-Disposition": disposition, "Cache-Control": "no-store"})
