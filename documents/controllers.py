"""Documents API: the registry (list, one document, its versions, events, PDF downloads, opening
a draft for signing), report rendering requests, and the bureau's campaign ZIP exports.

Rendering never happens here: a request queues a job and answers 202 with a status URL."""
from __future__ import annotations

import secrets
from typing import Annotated, Literal
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Stream

from core.i18n import gettext as _
from core.problems import Forbidden, NotFound
from core.settings import get_settings
from documents import exports, jobs, service
from documents import report_repository as rr
from documents.report_gather import year_bounds
from documents.schemas import (
    DocumentOut,
    DocumentPage,
    EventOut,
    ExportOut,
    FileOut,
    VersionOut,
    document_out,
    export_out,
    version_out,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
Limit = Annotated[int, Parameter(ge=1, le=200)]
Kind = Literal["annual_report", "company_report", "minutes", "notice", "other"]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]


class AnnualReportIn(msgspec.Struct, forbid_unknown_fields=True):
    contract_id: int
    year: Year


class CompanyReportIn(msgspec.Struct, forbid_unknown_fields=True):
    company_id: int
    year: Year


class RenderQueued(msgspec.Struct):
    job: str
    status_url: str


class RenderStatus(msgspec.Struct):
    job: str
    stage: str  # queued | rendering | registered | failed | unknown
    document_id: int | None = None
    version: int | None = None


class ExportIn(msgspec.Struct, forbid_unknown_fields=True):
    campaign_id: int


def document_language() -> str:
    """Documents are one text for every reader (bureau, committees, company): they are written
    in the deployment's default language, not in the requester's interface language."""
    return get_settings().default_language


def disposition(file_name: str) -> str:
    ascii_name = file_name.encode("ascii", "ignore").decode().replace('"', "") or "document.pdf"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


def pdf_name(doc: dict, version: dict) -> str:
    return f"{doc['number']}_v{version['version']}_{doc['title']}.pdf".replace("/", "_")


def _job_key(p: Principal, what: str) -> str:
    # The tenant and user in the key let only the requester read its status.
    return f"req:{p.tenant_id}:{p.user_id}:{what}:{secrets.token_hex(8)}"


def _may_request_report(p: Principal, estate_id: int | None) -> bool:
    if p.tenant_wide:
        return True
    return estate_id is not None and any(
        s.kind == "street_office" and s.role == "admin" and estate_id in s.estates
        for s in p.seats)


async def queue_annual_report(p: Principal, contract_id: int, year: int) -> str:
    """Queue the render of a contract's annual report for `year`; returns the job key. 404 for
    a contract the caller cannot see, 403 unless bureau or the estate's street office admin."""
    contract = await rr.contract_context(p.tenant_id, contract_id)
    if contract is None or not p.sees(estate=contract["estate"]):
        raise NotFound(_("The requested item does not exist or you may not see it."))
    if not _may_request_report(p, contract["estate"]):
        raise Forbidden(_("Only the housing bureau or the street office may issue reports."))
    start, end = year_bounds(year)
    key = _job_key(p, f"contract{contract_id}")
    await jobs.enqueue_render("render_contract_report", job_key=key, tenant_id=p.tenant_id,
                              contract_id=contract_id, start=start.isoformat(),
                              end=end.isoformat(), requested_by=p.user_id,
                              lang=document_language())
    return key


async def _pdf_response(p: Principal, document_id: int, version: int | None) -> Stream:
    doc, row, chunks = await service.open_pdf(p, document_id, version)
    return Stream(chunks, media_type="application/pdf", headers={
        "Content-Disposition": disposition(pdf_name(doc, row)),
        "Content-Length": str(row["size"]), "ETag": f'"{row["sha256"]}"',
        "X-Document-Number": quote(doc["number"]), "X-Document-Version": str(row["version"]),
        "X-Document-State": row["state"], "X-Content-SHA256": row["sha256"]})


class DocumentController(Controller):
    path = "/api/v1/documents"
    guards = [authenticated]
    tags = ["documents"]

    @get("", summary="Registered documents you may read (owned by or concerning your "
                     "organisations), newest first, with their current version")
    async def list_documents(self, request: Req, organization_id: int | None = None,
                             kind: Kind | None = None, limit: Limit = 50,
                             offset: Annotated[int, Parameter(ge=0)] = 0) -> DocumentPage:
        pairs = await service.list_documents(request.user, organization_id=organization_id,
                                             kind=kind, limit=limit, offset=offset)
        return DocumentPage(items=[document_out(d, v) for d, v in pairs], limit=limit,
                            offset=offset)

    @get("/{document_id:int}", summary="One document with its current version")
    async def get_document(self, request: Req, document_id: int) -> DocumentOut:
        doc, row = await service.get_version(request.user, document_id)
        return document_out(doc, row)

    @get("/{document_id:int}/versions", summary="Every version, newest first")
    async def versions(self, request: Req, document_id: int) -> list[VersionOut]:
        return [version_out(v) for v in await service.versions(request.user, document_id)]

    @get("/{document_id:int}/versions/{version:int}/files",
         summary="Every stored file of a version: the render and each signed increment")
    async def files(self, request: Req, document_id: int, version: int) -> list[FileOut]:
        _doc, row = await service.get_version(request.user, document_id, version)
        rows = await service.repo.Documents(request.user).files(row["id"])
        return [FileOut(**r) for r in rows]

    @get("/{document_id:int}/events", summary="The document's history")
    async def events(self, request: Req, document_id: int) -> list[EventOut]:
        return [EventOut(action=e["action"], version=e["version"], actor_user_id=e["actor_user"],
                         data=e["data"], created_at=e["created_at"])
                for e in await service.events(request.user, document_id)]

    @get("/{document_id:int}/pdf", summary="Download the current version's PDF (its newest "
                                           "signed state); headers name the version")
    async def current_pdf(self, request: Req, document_id: int, tx: object) -> Stream:
        return await _pdf_response(request.user, document_id, None)

    @get("/{document_id:int}/versions/{version:int}/pdf", summary="Download one version's PDF")
    async def version_pdf(self, request: Req, document_id: int, version: int,
                          tx: object) -> Stream:
        return await _pdf_response(request.user, document_id, version)

    @post("/{document_id:int}/versions/{version:int}/open-for-signing", status_code=200,
          summary="Send the current draft to its signers (a manager of the owning organisation)")
    async def open_for_signing(self, request: Req, document_id: int, version: int,
                               tx: object) -> VersionOut:
        return version_out(await service.open_for_signing(request.user, document_id, version))

    @post("/annual-reports", status_code=202,
          summary="Render a contract's annual assessment report for a year (the bureau, or the "
                  "street office's administrators for estates in their street); a new version "
                  "if one exists")
    async def annual_report(self, request: Req, data: AnnualReportIn,
                            tx: object) -> RenderQueued:
        key = await queue_annual_report(request.user, data.contract_id, data.year)
        return RenderQueued(job=key, status_url=f"/api/v1/documents/render-jobs/{key}")

    @post("/company-reports", status_code=202,
          summary="Render a property company's roll-up report for a year (the bureau)")
    async def company_report(self, request: Req, data: CompanyReportIn,
                             tx: object) -> RenderQueued:
        p = request.user
        company = await rr.organization(p.tenant_id, data.company_id)
        if company is None or company["kind"] != "property_company":
            raise NotFound(_("The requested item does not exist or you may not see it."))
        if not p.tenant_wide:
            raise Forbidden(_("Only the housing bureau or the street office may issue reports."))
        start, end = year_bounds(data.year)
        key = _job_key(p, f"company{data.company_id}")
        await jobs.enqueue_render("render_company_report", job_key=key, tenant_id=p.tenant_id,
                                  company_id=data.company_id, start=start.isoformat(),
                                  end=end.isoformat(), requested_by=p.user_id,
                                  lang=document_language())
        return RenderQueued(job=key, status_url=f"/api/v1/documents/render-jobs/{key}")

    @get("/render-jobs/{job:str}", summary="How far a render you requested has got")
    async def render_status(self, request: Req, job: str) -> RenderStatus:
        p = request.user
        if not job.startswith(f"req:{p.tenant_id}:{p.user_id}:"):
            raise NotFound(_("The requested item does not exist or you may not see it."))
        stage = await jobs.render_stage(job) or "unknown"
        version = await service.repo.system_version_by_job(p.tenant_id, job)
        return RenderStatus(job=job, stage="registered" if version else stage,
                            document_id=version["document"] if version else None,
                            version=version["version"] if version else None)


def _export(row: dict) -> ExportOut:
    return export_out(row, exports.expires_at(row))


class DocumentExportController(Controller):
    path = "/api/v1/document-exports"
    guards = [authenticated]
    tags = ["documents"]

    @post("", status_code=202, summary="Build a ZIP of every assessment report of a campaign "
                                       "with a CSV and XLSX summary (the housing bureau)")
    async def create(self, request: Req, data: ExportIn, tx: object) -> ExportOut:
        return _export(await exports.request_export(request.user, data.campaign_id,
                                                    lang=document_language()))

    @get("", summary="Your organisations' exports, newest first")
    async def list_exports(self, request: Req, campaign_id: int | None = None) -> list[ExportOut]:
        return [_export(r) for r in await exports.list_exports(request.user, campaign_id)]

    @get("/{export_id:int}", summary="An export's progress (done of total reports)")
    async def get_export(self, request: Req, export_id: int) -> ExportOut:
        return _export(await exports.get_export(request.user, export_id))

    @get("/{export_id:int}/file", summary="Download a finished export (410 once it expired)")
    async def download(self, request: Req, export_id: int, tx: object) -> Stream:
        row, chunks = await exports.open_export_file(request.user, export_id)
        return Stream(chunks, media_type=exports.ZIP, headers={
            "Content-Disposition": disposition(row["file_name"]),
            "Content-Length": str(row["size"]), "X-Content-SHA256": row["sha256"]})
