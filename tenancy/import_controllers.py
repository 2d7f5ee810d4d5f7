"""Ledger import API: upload a CSV/XLSX ledger of buildings, units and owners into an estate."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core.i18n import gettext as _
from core.problems import Invalid
from tenancy import ledger_import
from tenancy.guards import authenticated
from tenancy.ledger_files import MAX_BYTES, FileTooLarge
from tenancy.principal import Principal

Req = Request[Principal, str, object]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class LedgerUpload:
    file: UploadFile
    dry_run: bool = False


class LedgerImportController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["places"]

    @post("/estates/{estate_id:int}/ledger-imports", status_code=200,
          summary="Import buildings, units and owners from a CSV or XLSX ledger (all or nothing)")
    async def import_ledger(
        self, request: Req, estate_id: int, tx: object,
        data: Annotated[LedgerUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ledger_import.LedgerReport:
        content = await data.file.read(MAX_BYTES + 1)
        if len(content) > MAX_BYTES:
            raise FileTooLarge(_("The file is larger than {limit} MB.").format(limit=MAX_BYTES >> 20))
        report = await ledger_import.import_ledger(request.user, estate_id, content,
                                                   dry_run=data.dry_run)
        if report.errors:
            errors = msgspec.to_builtins(report.errors[:ledger_import.MAX_REPORTED_ERRORS])
            raise Invalid(_("The ledger has errors; nothing was imported."), errors=errors,
                          error_count=len(report.errors), rows=report.rows)
        return report

    @get("/ledger-imports/template.xlsx", media_type=XLSX,
         summary="An empty ledger workbook with example rows")
    async def template(self) -> Response[bytes]:
        return Response(ledger_import.template_workbook(), media_type=XLSX, headers={
            "Content-Disposition": "attachment; filename=\"ledger-template.xlsx\"; "
                                   "filename*=UTF-8''%E6%88%BF%E5%B1%8B%E5%8F%B0%E8%B4%A6.xlsx"})
