"""Web pages of the document registry and the bureau's campaign downloads.

- /documents: documents of the caller's organisations (kind, subject, version, state, download);
- /documents/{id}: one document's versions, signers and files;
- /documents/{id}/pdf, /documents/{id}/versions/{v}/pdf: downloads for the signed-in user;
- /documents/exports: the bureau's campaigns with "prepare ZIP" and earlier exports;
- /documents/exports/{id}: progress (htmx re-fetches it every 2 s) and a live notice when the
  ZIP is ready (Server-Sent Events on the user's own channel, read by documents-live.js — no
  inline script, so the strict CSP holds).

Pages call the services directly inside the request's transaction (`tx`), never the JSON API.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, ServerSentEvent, Stream, Template
from litestar.response.sse import ServerSentEventMessage

from core.i18n import N_
from core.outbox import organization_channel, user_channel
from core.problems import AppError
from core.redis import redis
from documents import exports, service
from documents import report_repository as rr
from documents.controllers import (
    disposition,
    document_language,
    pdf_name,
    queue_annual_report,
)
from documents.schemas import signers_from_json
from tenancy.principal import Principal

KIND_LABELS = {"annual_report": N_("Annual assessment report"),
               "company_report": N_("Company assessment report"), "minutes": N_("Minutes"),
               "notice": N_("Notice"), "other": N_("Document")}
STATE_LABELS = {"draft": N_("Draft"), "awaiting_signatures": N_("Awaiting signatures"),
                "signed": N_("Signed"), "sealed": N_("Sealed"), "superseded": N_("Superseded")}
EXPORT_LABELS = {"queued": N_("Queued"), "running": N_("Preparing"), "ready": N_("Ready"),
                 "failed": N_("Failed"), "expired": N_("Expired")}
STATIC_DIR = Path(__file__).parent / "static"
CHINA = ZoneInfo("Asia/Shanghai")
STATIC = {"documents-live.js": "text/javascript", "documents.css": "text/css"}
LIVE_SECONDS = 600


def _user(request: Request) -> Principal | None:
    return request.scope.get("user")


def _login(request: Request) -> Redirect:
    return Redirect(f"/login?next={request.url.path}")


def _labels() -> dict[str, Any]:
    return {"kind": KIND_LABELS, "state": STATE_LABELS, "export": EXPORT_LABELS}


@get("/documents", include_in_schema=False)
async def document_list(request: Request, tx: object, organization_id: int | None = None,
                        kind: str | None = None) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    org = organization_id if organization_id in p.organization_ids else None
    pairs = await service.list_documents(p, organization_id=org,
                                         kind=kind if kind in KIND_LABELS else None, limit=200)
    return Template("documents/list.html", context={
        "me": p, "rows": pairs, "labels": _labels(), "organization_id": org, "kind": kind,
        "is_bureau": bool(p.seats_where(kinds=("housing_bureau",))),
        "contracts": await _issuable_contracts(p), "queued": request.query_params.get("queued"),
        "years": _years()})


def _years() -> list[int]:
    this = date.today().year
    return [this, this - 1, this - 2]


async def _issuable_contracts(p: Principal) -> list[dict]:
    """Contracts whose annual report the caller may issue (see controllers._may_request_report)."""
    if p.tenant_wide:
        return await rr.contracts_for_reports(p.tenant_id, None)
    estates = sorted(set().union(*(s.estates for s in p.seats
                                   if s.kind == "street_office" and s.role == "admin")))
    return await rr.contracts_for_reports(p.tenant_id, estates) if estates else []


@post("/documents/annual-reports", include_in_schema=False)
async def issue_report(request: Request, tx: object, data: Annotated[
        dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Redirect:
    """Queue a contract's annual report (the same rules as the API); back to the list."""
    p = _user(request)
    if p is None:
        return _login(request)
    try:
        contract_id, year = int(data.get("contract_id") or 0), int(data.get("year") or 0)
    except ValueError:
        raise service.not_found() from None
    if year not in _years():
        raise service.not_found()
    await queue_annual_report(p, contract_id, year)
    return Redirect("/documents?queued=1")


@get("/documents/{document_id:int}", include_in_schema=False)
async def document_page(request: Request, document_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    doc = await service.get_document(p, document_id)
    versions = await service.versions(p, document_id)
    rows = []
    for v in versions:
        signers = signers_from_json(v["signers"])
        nxt = signers[v["next_signer"]] if v["next_signer"] < len(signers) else None
        rows.append({"v": v, "signers": signers,
                     "my_turn": v["state"] in ("awaiting_signatures", "signed") and nxt is not None
                     and service.signer_matches(p, nxt)})
    return Template("documents/detail.html", context={
        "me": p, "doc": doc, "versions": rows, "labels": _labels()})


async def _pdf(p: Principal, document_id: int, version: int | None) -> Stream:
    doc, row, chunks = await service.open_pdf(p, document_id, version)
    return Stream(chunks, media_type="application/pdf", headers={
        "Content-Disposition": disposition(pdf_name(doc, row)),
        "Content-Length": str(row["size"]), "X-Document-Version": str(row["version"])})


@get("/documents/{document_id:int}/pdf", include_in_schema=False)
async def current_pdf(request: Request, document_id: int, tx: object) -> Stream | Redirect:
    p = _user(request)
    return _login(request) if p is None else await _pdf(p, document_id, None)


@get("/documents/{document_id:int}/versions/{version:int}/pdf", include_in_schema=False)
async def version_pdf(request: Request, document_id: int, version: int,
                      tx: object) -> Stream | Redirect:
    p = _user(request)
    return _login(request) if p is None else await _pdf(p, document_id, version)


@get("/documents/exports", include_in_schema=False)
async def exports_page(request: Request, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    bureau = bool(p.seats_where(kinds=("housing_bureau",)))
    campaigns = await rr.campaigns(p.tenant_id) if bureau else []
    return Template("documents/exports.html", context={
        "me": p, "bureau": bureau, "campaigns": campaigns,
        "exports": await exports.list_exports(p), "labels": _labels()})


@post("/documents/exports", include_in_schema=False)
async def create_export(request: Request, tx: object, data: Annotated[
        dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Redirect | Template:
    p = _user(request)
    if p is None:
        return _login(request)
    try:
        row = await exports.request_export(p, int(data.get("campaign_id") or 0),
                                           lang=document_language())
    except (AppError, ValueError) as exc:
        status = exc.status if isinstance(exc, AppError) else 400
        return Template("documents/exports.html", status_code=status, context={
            "me": p, "bureau": bool(p.seats_where(kinds=("housing_bureau",))),
            "campaigns": await rr.campaigns(p.tenant_id) if p.tenant_wide else [],
            "exports": await exports.list_exports(p), "labels": _labels(),
            "error": getattr(exc, "detail", None)})
    return Redirect(f"/documents/exports/{row['id']}")


@get("/documents/exports/{export_id:int}", include_in_schema=False)
async def export_page(request: Request, export_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    row = await exports.get_export(p, export_id)
    expires = exports.expires_at(row)
    return Template("documents/export.html", context={
        "me": p, "x": row, "labels": _labels(),
        "expires": expires.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if expires else None})


@get("/documents/exports/{export_id:int}/file", include_in_schema=False)
async def export_file(request: Request, export_id: int, tx: object) -> Stream | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    row, chunks = await exports.open_export_file(p, export_id)
    return Stream(chunks, media_type=exports.ZIP, headers={
        "Content-Disposition": disposition(row["file_name"]), "Content-Length": str(row["size"])})


async def _ready_events(p: Principal, export_id: int, seconds: float):
    """One `export-ready` message when the export's ZIP is announced (or already ready)."""
    import asyncio

    pubsub = redis().pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(user_channel(p.user_id),
                               *map(organization_channel, sorted(p.organization_ids)))
        yield ServerSentEventMessage(data=None, comment="subscribed")
        loop = asyncio.get_running_loop()
        ends = loop.time() + seconds
        while loop.time() < ends:
            found = await pubsub.get_message(timeout=1.0)
            if not found or found.get("type") != "message":
                continue
            try:
                event = json.loads(found["data"])
            except ValueError:
                continue
            if event.get("topic") == "document.export_ready" and \
                    event.get("data", {}).get("export_id") == export_id:
                yield ServerSentEventMessage(data=json.dumps({"export_id": export_id}),
                                             event="export-ready", id=str(event["id"]))
                return
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()


@get("/documents/exports/{export_id:int}/events", include_in_schema=False)
async def export_events(request: Request, export_id: int,
                        max_seconds: float = LIVE_SECONDS) -> ServerSentEvent | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    await exports.get_export(p, export_id)  # 404 for anyone who may not see it
    return ServerSentEvent(_ready_events(p, export_id, min(max(max_seconds, 0.1), LIVE_SECONDS)),
                           headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@get("/documents/static/{name:str}", include_in_schema=False)
async def static_file(request: Request, name: str) -> Response | Redirect:
    """The package's own script and stylesheet (signed-in users; the pages link them)."""
    if _user(request) is None:
        return _login(request)
    if name not in STATIC:
        raise service.not_found()
    return Response((STATIC_DIR / name).read_bytes(), media_type=STATIC[name],
                    headers={"Cache-Control": "private, max-age=3600"})


PAGES = [document_list, issue_report, document_page, current_pdf, version_pdf, exports_page, create_export,
         export_page, export_file, export_events, static_file]
