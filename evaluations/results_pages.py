"""Web pages of evaluation results: the list of campaigns with results, the results table with
filters and company roll-ups (compute / publish / finalise buttons and exports for the bureau),
one assessment's result with its components and objections — the company's objection form and
the bureau's resolution forms.

Pages call the results services inside the request's transaction, like the JSON API; what a
user sees and may do is decided there, so a page never shows more than the API would."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import ValidationError, convert

from cases.calendar import TZ
from core.i18n import N_, current_language
from core.problems import AppError
from evaluations import export, objection_service, results_service
from evaluations import results_repository as repo
from evaluations.metrics import METRICS
from evaluations.results_repository import ResultFilters
from evaluations.results_schemas import ObjectionIn, ResolveIn
from evaluations.scoring import KINDS
from tenancy.principal import Principal

GRADE_LABELS = {"excellent": N_("Excellent"), "good": N_("Good"), "pass": N_("Pass"),
                "fail": N_("Fail")}
STATUS_LABELS = {"open": N_("Open"), "scored": N_("Scored"),
                 "published": N_("Published for objections"),
                 "objection": N_("Under objection"), "final": N_("Final and binding"),
                 "closed": N_("Submissions closed"), "upheld": N_("Upheld"), "adjusted": N_("Adjusted")}
KIND_LABELS = {"owners_survey": N_("Owners' survey"), "owners_committee": N_("Owners' committee"),
               "residents_committee": N_("Residents' committee"),
               "street_office": N_("Street office"), "bureau_inspection": N_("Bureau inspection"),
               "objective_metrics": N_("Objective case metrics")}
STATE_LABELS = {"ok": N_("Counted"), "missing": N_("Missing"),
                "insufficient": N_("Insufficient responses")}
ERRORS = {"409": N_("That is not possible at this stage."),
          "422": N_("Please check the form and try again."),
          "412": N_("Someone changed this in the meantime; please review and try again.")}


def _user(request: Request) -> Principal | None:
    return request.scope.get("user")


def _login(request: Request) -> Redirect:
    return Redirect(f"/login?next={request.url.path}")


def local(dt: datetime | None) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if dt else ""


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _base(p: Principal, request: Request) -> dict[str, Any]:
    error = request.query_params.get("error")
    return {"me": p, "grades": GRADE_LABELS, "statuses": STATUS_LABELS, "local": local,
            "is_bureau": p.tenant_wide, "is_bureau_admin": any(
                s.kind == "housing_bureau" and s.role == "admin" for s in p.seats),
            "error": ERRORS.get(error or "", N_("Please check the form and try again.")
                                ) if error else None}


@get("/evaluations/results", include_in_schema=False)
async def campaigns_page(request: Request, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    rows = await repo.campaigns_with_results(results_service.scope_for(p))
    return Template("evaluations/results_campaigns.html",
                    context={**_base(p, request), "campaigns": rows})


@get("/evaluations/campaigns/{campaign_id:int}/results", include_in_schema=False)
async def results_page(request: Request, campaign_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    q = request.query_params
    f = ResultFilters(company_id=_int(q.get("company_id")), street_id=_int(q.get("street_id")),
                      grade=q.get("grade") or None, status=q.get("status") or None,
                      q=(q.get("q") or "").strip()[:100] or None)
    campaign = await results_service.campaign_row(p, campaign_id)
    everything = await results_service.results(p, campaign_id)
    rows = await results_service.results(p, campaign_id, f) if f != ResultFilters() else everything
    companies = await results_service.company_results(p, campaign_id)
    objections = await objection_service.objections(p, campaign_id=campaign_id, status="open")
    return Template("evaluations/results.html", context={
        **_base(p, request), "campaign": campaign, "rows": rows, "companies": companies,
        "objections": objections, "filters": f,
        "company_options": sorted({(r.property_company_id, r.property_company_name)
                                   for r in everything}, key=lambda x: x[1]),
        "street_options": sorted({(r.street_id, r.street_name) for r in everything},
                                 key=lambda x: x[1])})


@post("/evaluations/campaigns/{campaign_id:int}/results/{step:str}", include_in_schema=False)
async def campaign_step(request: Request, campaign_id: int, step: str, tx: object) -> Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    steps = {"compute": results_service.compute, "publish": results_service.publish,
             "finalize": results_service.finalize}
    if step not in steps:
        raise results_service.not_found()
    await results_service.campaign_row(p, campaign_id)  # 404 before anything else
    try:
        await steps[step](p, campaign_id)
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        return Redirect(f"/evaluations/campaigns/{campaign_id}/results?error={exc.status}")
    return Redirect(f"/evaluations/campaigns/{campaign_id}/results")


@get("/evaluations/campaigns/{campaign_id:int}/results/download", include_in_schema=False)
async def download(request: Request, campaign_id: int, tx: object,
                   format: str = "xlsx") -> Response | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    if format not in ("csv", "xlsx", "json"):
        format = "xlsx"
    campaign, rows, companies = await export.gather(p, campaign_id)
    body, media = {"csv": (lambda: (export.to_csv(rows), export.CSV_TYPE)),
                   "xlsx": (lambda: (export.to_xlsx(rows, companies, current_language()),
                                     export.XLSX_TYPE)),
                   "json": (lambda: (export.to_json(campaign, rows, companies),
                                     export.JSON_TYPE))}[format]()
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{export.file_name(campaign_id, format)}"',
        "Cache-Control": "no-store"})


@get("/evaluations/assessments/{assessment_id:int}/result", include_in_schema=False)
async def result_page(request: Request, assessment_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    result = await results_service.result(p, assessment_id)
    objections = await objection_service.objections(p, assessment_id=assessment_id)
    kinds = (result.components or {}).get("kinds") or {}
    metrics = (kinds.get("objective_metrics") or {}).get("metrics") or {}
    seat = next((s for s in p.seats if s.organization_id == result.property_company_id), None)
    may_object = (seat is not None and seat.role in objection_service.OBJECTING_ROLES
                  and result.status == "published" and result.objection_deadline is not None
                  and results_service.now() <= result.objection_deadline)
    return Template("evaluations/result.html", context={
        **_base(p, request), "r": result, "objections": objections, "may_object": may_object,
        "components": [(k, KIND_LABELS[k], kinds.get(k)) for k in KINDS if k in kinds],
        "state_labels": STATE_LABELS,
        "metrics": [(m.label, m.kind, metrics.get(m.key)) for m in METRICS],
        "adjustment": (result.components or {}).get("adjustment")})


@dataclass
class ObjectionForm:
    reasons: str = ""
    evidence_case_ids: str = ""
    evidence_note: str = ""


@post("/evaluations/assessments/{assessment_id:int}/objections", include_in_schema=False)
async def object_submit(request: Request, assessment_id: int, tx: object, data: Annotated[
        ObjectionForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    await results_service.result(p, assessment_id)  # 404 before the form is looked at
    back = f"/evaluations/assessments/{assessment_id}/result"
    ids = [int(x) for x in data.evidence_case_ids.replace("，", ",").replace(" ", ",").split(",")
           if x.strip().isdigit()]
    try:
        body = convert({"reasons": data.reasons.strip(), "evidence_case_ids": ids,
                        "evidence_note": data.evidence_note.strip()}, ObjectionIn)
        await objection_service.raise_objection(p, assessment_id, body)
    except ValidationError:
        return Redirect(f"{back}?error=422")
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        return Redirect(f"{back}?error={exc.status}")
    return Redirect(back)


@dataclass
class ResolveForm:
    decision: str = ""
    reason: str = ""
    adjusted_score: str = ""
    version: str = ""


@post("/evaluations/objections/{objection_id:int}/resolve", include_in_schema=False)
async def resolve_submit(request: Request, objection_id: int, tx: object, data: Annotated[
        ResolveForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    objection, _tag = await objection_service.get_objection(p, objection_id)
    back = f"/evaluations/assessments/{objection.assessment_id}/result"
    raw: dict[str, Any] = {"decision": data.decision, "reason": data.reason.strip()}
    if data.adjusted_score.strip():
        try:
            raw["adjusted_score"] = float(data.adjusted_score)
        except ValueError:
            return Redirect(f"{back}?error=422")
    try:
        body = convert(raw, ResolveIn)
        await objection_service.resolve(p, objection_id, body,
                                         f'"o{data.version}"' if data.version.isdigit() else None)
    except ValidationError:
        return Redirect(f"{back}?error=422")
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        return Redirect(f"{back}?error={exc.status}")
    return Redirect(back)


RESULT_PAGES = [campaigns_page, results_page, campaign_step, download, result_page,
                object_submit, resolve_submit]
