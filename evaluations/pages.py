"""Web pages of the joint evaluation: the overview (the bureau's campaigns and the form to start
one, an evaluator's open evaluations, a resident's open surveys), a campaign with its
assessments and their progress, the evaluator's scoring form (save as draft, submit) with
evidence photos, and the resident's satisfaction survey. All phone-sized, no inline script.

Pages call the services inside the request's transaction (`tx`), never the JSON API; the
scoring form carries the version it was loaded at, so a stale form gets the same 412 refusal as
the API (shown as a message asking to reload)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Stream, Template
from msgspec import ValidationError, convert

from core.i18n import N_, current_language
from core.i18n import gettext as _
from core.problems import AppError
from evaluations import campaign_service, evidence, submission_service, survey_service
from evaluations.schemas import CampaignIn, ScoreIn, SurveyIn
from evaluations.submission_controllers import photo_stream
from tenancy.principal import Principal

TZ = ZoneInfo("Asia/Shanghai")
STATUS_LABELS = {"draft": N_("Draft"), "open": N_("Open for evaluation"),
                 "closed": N_("Closed for scoring"), "published": N_("Results published"),
                 "final": N_("Final result"), "submitted": N_("Handed in"),
                 "locked": N_("Locked"), "scored": N_("Scored, not yet published"),
                 "objection": N_("Objection being reviewed")}
KIND_LABELS = {"owners_committee": N_("Owners' committee"),
               "residents_committee": N_("Residents' committee"),
               "street_office": N_("Street office"), "bureau_inspection": N_("Bureau inspection")}
PERIOD_LABELS = {"quarter": N_("Quarter"), "half_year": N_("Half-year"), "year": N_("Year")}
STARS = {1: N_("Very dissatisfied"), 2: N_("Dissatisfied"), 3: N_("Neutral"), 4: N_("Satisfied"),
         5: N_("Very satisfied")}


def _user(request: Request) -> Principal | None:
    return request.scope.get("user")


def _login(request: Request) -> Redirect:
    return Redirect(f"/login?next={request.url.path}")


def local(dt: datetime | None) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if dt else ""


def label(node: Any) -> str:
    """A criterion's name in the reader's language."""
    get = node.get if isinstance(node, dict) else lambda k: getattr(node, k)
    return get("name_zh") if current_language().startswith("zh") else get("name_en")


def base(p: Principal, **context: Any) -> dict[str, Any]:
    return {"me": p, "local": local, "status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS,
            "period_labels": PERIOD_LABELS, "label": label, **context}


# --- overview -----------------------------------------------------------------------------------
@get("/evaluations", include_in_schema=False)
async def overview(request: Request, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    return Template("evaluations/index.html", context=await _overview(p, {}, None))


async def _overview(p: Principal, values: dict, error: str | None) -> dict[str, Any]:
    campaigns = await campaign_service.list_campaigns(p) if p.seats else []
    names = {c.id: c.name for c in campaigns}
    mine = [{"sub": sub, "campaign": names.get(sub.campaign_id, ""),
             "assessment": await campaign_service.get_assessment(p, sub.assessment_id)}
            for sub in await submission_service.my_submissions(p, open_only=True)]
    return base(p, campaigns=campaigns if p.tenant_wide else [], mine=mine, values=values,
                error=error, surveys=await survey_service.open_surveys(p),
                may_create=p.is_tenant_admin)


@dataclass
class CampaignForm:
    name: str = ""
    period_kind: str = "quarter"
    period_start: str = ""
    deadline: str = ""  # local date and time (China) from a datetime-local input


@post("/evaluations/campaigns", include_in_schema=False)
async def create_campaign(request: Request, tx: object, data: Annotated[
        CampaignForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    values = {"name": data.name, "period_kind": data.period_kind,
              "period_start": data.period_start, "deadline": data.deadline}
    try:
        deadline = datetime.fromisoformat(data.deadline.strip()).replace(tzinfo=TZ)
        body = convert({"name": data.name.strip(), "period_kind": data.period_kind,
                        "period_start": data.period_start.strip(),
                        "submission_deadline": deadline.isoformat()}, CampaignIn)
        out = await campaign_service.create_campaign(p, body)
    except (ValueError, ValidationError):
        return Template("evaluations/index.html", status_code=422, context=await _overview(
            p, values, _("Please give a name, a period and a deadline.")))
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        return Template("evaluations/index.html", status_code=exc.status, context=await _overview(
            p, values, exc.detail))
    return Redirect(f"/evaluations/campaigns/{out.id}")


# --- the bureau's campaign page ---------------------------------------------------------------------
@get("/evaluations/campaigns/{campaign_id:int}", include_in_schema=False)
async def campaign_page(request: Request, campaign_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    campaign = await campaign_service.get_campaign(p, campaign_id)
    assessments = await campaign_service.list_assessments(p, campaign_id)
    return Template("evaluations/campaign.html", context=base(
        p, campaign=campaign, assessments=assessments, may_manage=p.is_tenant_admin,
        may_inspect=campaign.status == "open" and any(
            s.kind == "housing_bureau" and s.role in ("admin", "staff") for s in p.seats),
        error=request.query_params.get("error")))


async def _step(request: Request, campaign_id: int, action) -> Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    await campaign_service.get_campaign(p, campaign_id)  # 404 first
    try:
        await action(p, campaign_id)
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        return Redirect(f"/evaluations/campaigns/{campaign_id}?error={exc.status}")
    return Redirect(f"/evaluations/campaigns/{campaign_id}")


@post("/evaluations/campaigns/{campaign_id:int}/open", include_in_schema=False)
async def campaign_open(request: Request, campaign_id: int, tx: object) -> Redirect:
    return await _step(request, campaign_id, campaign_service.open_campaign)


@post("/evaluations/campaigns/{campaign_id:int}/close", include_in_schema=False)
async def campaign_close(request: Request, campaign_id: int, tx: object) -> Redirect:
    return await _step(request, campaign_id, campaign_service.close_campaign)


@post("/evaluations/assessments/{assessment_id:int}/inspect", include_in_schema=False)
async def inspect(request: Request, assessment_id: int, tx: object) -> Redirect:
    """The bureau's own inspection of an assessment: start (or reopen) its scoring form."""
    p = _user(request)
    if p is None:
        return _login(request)
    bureau = [s.organization_id for s in p.seats if s.kind == "housing_bureau"]
    out, _created = await submission_service.start_submission(
        p, assessment_id, bureau[0] if bureau else None)
    return Redirect(f"/evaluations/submissions/{out.id}")


# --- the evaluator's scoring form -------------------------------------------------------------------
async def _scoring_context(p: Principal, submission_id: int, error: str | None = None,
                           values: dict | None = None) -> dict[str, Any]:
    sub = await submission_service.get_submission(p, submission_id)
    assessment = await campaign_service.get_assessment(p, sub.assessment_id)
    given = {s.criterion_key: s for s in sub.scores}
    rows = []
    for head in sub.criteria:
        for leaf in head.children or [head]:
            s = given.get(leaf.key)
            rows.append({"key": leaf.key, "head": label(head) if head.children else "",
                         "name": label(leaf), "weight": leaf.weight,
                         "description": leaf.description,
                         "score": (values or {}).get(f"score_{leaf.key}",
                                                     f"{s.score:g}" if s else ""),
                         "comment": (values or {}).get(f"comment_{leaf.key}",
                                                       s.comment if s else ""),
                         "cases": (values or {}).get(f"cases_{leaf.key}", ", ".join(
                             str(c) for c in s.evidence.cases) if s else ""),
                         "photos": s.evidence.photos if s else []})
    return base(p, sub=sub, assessment=assessment, rows=rows, error=error,
                photos=await evidence.list_photos(p, submission_id),
                may_edit=sub.editable and bool(submission_service.evaluator_seats(
                    p, sub.estate_id)) and p.seat_in(sub.organization_id) is not None)


@get("/evaluations/submissions/{submission_id:int}", include_in_schema=False)
async def scoring_page(request: Request, submission_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    saved = request.query_params.get("saved")
    return Template("evaluations/submission.html", context={
        **await _scoring_context(p, submission_id), "saved": saved})


def _scores_from(form: Any, keys: list[str], photo_ids: set[int]) -> list[ScoreIn]:
    """The filled-in rows of the form (an empty score leaves the criterion as it was)."""
    items = []
    for key in keys:
        raw = (form.get(f"score_{key}") or "").strip()
        if not raw:
            continue
        cases = [int(c) for c in (form.get(f"cases_{key}") or "").replace("，", ",").replace(
            "#", "").split(",") if c.strip()]
        photos = [int(x) for x in form.getall(f"photos_{key}", []) if x.isdigit()
                  and int(x) in photo_ids]
        items.append(convert({"criterion_key": key, "score": float(raw),
                              "comment": (form.get(f"comment_{key}") or "").strip(),
                              "evidence": {"photos": photos, "cases": cases}}, ScoreIn))
    return items


@post("/evaluations/submissions/{submission_id:int}", include_in_schema=False)
async def scoring_submit(request: Request, submission_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    sub = await submission_service.get_submission(p, submission_id)  # 404 / 403 first
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    keys = [leaf.key for head in sub.criteria for leaf in (head.children or [head])]
    photo_ids = {ph.id for ph in await evidence.list_photos(p, submission_id)}
    tag = f'"v{(form.get("version") or "").strip()}"'
    try:
        items = _scores_from(form, keys, photo_ids)
    except (ValueError, ValidationError):
        return Template("evaluations/submission.html", status_code=422, context=await
                        _scoring_context(p, submission_id, _(
                            "Scores are numbers from 0 to 100; cases are case numbers."), values))
    try:
        if items:
            _out, tag = await submission_service.save_scores(p, submission_id, items, tag)
        if form.get("action") == "submit":
            await submission_service.submit(p, submission_id, tag)
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        message = exc.detail
        if exc.errors:
            message = f"{exc.detail} " + "; ".join(e["message"] for e in exc.errors)
        return Template("evaluations/submission.html", status_code=exc.status, context=await
                        _scoring_context(p, submission_id, message, values))
    return Redirect(f"/evaluations/submissions/{submission_id}?saved=1")


@dataclass
class PhotoForm:
    photo: UploadFile | None = None


@post("/evaluations/submissions/{submission_id:int}/photos", include_in_schema=False)
async def photo_upload(request: Request, submission_id: int, tx: object, data: Annotated[
        PhotoForm, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    await submission_service.get_submission(p, submission_id)  # 404 / 403 before the file
    content = await data.photo.read() if data.photo is not None else b""
    try:
        await evidence.add_photo(p, submission_id, content)
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        return Template("evaluations/submission.html", status_code=exc.status, context=await
                        _scoring_context(p, submission_id, exc.detail))
    return Redirect(f"/evaluations/submissions/{submission_id}")


@get("/evaluations/photos/{evaluation_photo_id:int}", include_in_schema=False)
async def photo_page(request: Request, evaluation_photo_id: int,
                     thumbnail: bool = False) -> Stream | Redirect:
    """An evidence photo for the signed-in browser (the API's photo routes take bearer tokens)."""
    p = _user(request)
    if p is None:
        return _login(request)
    row, chunks = await evidence.open_photo(p, evaluation_photo_id, thumbnail=thumbnail)
    return photo_stream(row, chunks, thumbnail=thumbnail)


# --- the resident's survey --------------------------------------------------------------------------
async def _survey_context(p: Principal, assessment_id: int, error: str | None = None,
                          values: dict | None = None) -> dict[str, Any]:
    survey = next((s for s in await survey_service.open_surveys(p)
                   if s.assessment_id == assessment_id), None)
    if survey is None:
        await campaign_service.assessment_row(p, assessment_id)  # 404 for strangers
    heads = []
    if survey is not None:
        campaign = await campaign_service.get_row(p, (await campaign_service.assessment_row(
            p, assessment_id))["campaign"])
        version = await campaign_service.repo.version(p.tenant_id, campaign["scheme_version"])
        heads = [{"key": c["key"], "name": label(c)} for c in version["criteria"]]  # type: ignore[index]
    return base(p, survey=survey, heads=heads, stars=STARS, error=error, values=values or {},
                open_units=[u for u in (survey.units if survey else [])
                            if u["unit_id"] not in (survey.answered_units if survey else [])])


@get("/evaluations/surveys/{assessment_id:int}", include_in_schema=False)
async def survey_page(request: Request, assessment_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    context = await _survey_context(p, assessment_id)
    return Template("evaluations/survey.html", context={
        **context, "thanks": request.query_params.get("thanks")})


@post("/evaluations/surveys/{assessment_id:int}", include_in_schema=False)
async def survey_submit(request: Request, assessment_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    context = await _survey_context(p, assessment_id)  # 404 for strangers
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        body = convert({"unit_id": int(form.get("unit_id") or 0),
                        "overall": int(form.get("overall") or 0),
                        "answers": {h["key"]: int(form.get(f"q_{h['key']}"))
                                    for h in context["heads"] if form.get(f"q_{h['key']}")},
                        "comment": (form.get("comment") or "").strip()[:2000]}, SurveyIn)
        await survey_service.answer(p, assessment_id, body)
    except (ValueError, ValidationError):
        return Template("evaluations/survey.html", status_code=422, context=await _survey_context(
            p, assessment_id, _("Please choose your household and an overall rating."), values))
    except AppError as exc:
        if exc.status == 404:
            raise
        return Template("evaluations/survey.html", status_code=exc.status, context=await
                        _survey_context(p, assessment_id, exc.detail, values))
    return Redirect(f"/evaluations/surveys/{assessment_id}?thanks=1")


PAGES = [overview, create_campaign, campaign_page, campaign_open, campaign_close, inspect,
         scoring_page, scoring_submit, photo_upload, photo_page, survey_page, survey_submit]
