"""Web pages for cases: the resident's report form, "my cases" and rating; the organisation's
queue with SLA countdowns and the case detail with the actions the user may take now.

Pages call the cases service directly inside the request's transaction (the `tx` dependency),
never the JSON API over HTTP."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Stream, Template
from msgspec import ValidationError, convert

from cases import attachments, case_actions, case_service, lifecycle, listing, search
from cases.attachment_controllers import _stream
from cases.calendar import TZ
from cases.case_util import now
from cases.labels import CATEGORY_LABELS, PRIORITY_LABELS, STATUS_LABELS
from cases.schemas import ActionIn, CaseIn
from core.db import fetch
from core.images import process_photo_async
from core.i18n import N_, gettext as _, ngettext
from core.problems import AppError
from tenancy import service as places
from tenancy.principal import Principal

ACTION_LABELS = {
    "accept": N_("Accept"), "reject": N_("Reject"), "assign": N_("Assign"),
    "acknowledge": N_("Acknowledge"), "start": N_("Start work"), "return": N_("Return (退单)"),
    "transfer": N_("Transfer"), "pause": N_("Pause"), "resume": N_("Resume"),
    "request_extension": N_("Request extension"), "approve_extension": N_("Approve extension"),
    "decline_extension": N_("Decline extension"), "resolve": N_("Resolve"), "rate": N_("Rate"),
    "reopen": N_("Reopen (重办)"), "close": N_("Close"), "mark_duplicate": N_("Mark duplicate"),
    "withdraw": N_("Withdraw"), "escalate": N_("Escalate"), "create": N_("Reported"),
    "comment": N_("Comment"), "attach": N_("Photo added"), "supervise": N_("Supervision (督办)"),
    "auto_close": N_("Closed automatically"),
}
FIELD_LABELS = {
    "reason": N_("Reason"), "comment": N_("Result"), "assignee_user_id": N_("Assignee (user id, empty: least loaded)"),
    "target_organization_id": N_("Target organisation id"), "new_due_at": N_("New due date"),
    "duplicate_of_case_id": N_("Original case number"), "rating": N_("Rating"),
}
CATEGORIES = tuple(CATEGORY_LABELS)
PRIORITIES = ("normal", "urgent", "emergency")


def _user(request: Request) -> Principal | None:
    return request.scope.get("user")


def _login(request: Request) -> Redirect:
    return Redirect(f"/login?next={request.url.path}")


async def _estate_names(tenant_id: int, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await fetch("SELECT id, name FROM estate WHERE tenant = $1 AND id = ANY($2::bigint[])",
                       tenant_id, list(ids))
    return {r["id"]: r["name"] for r in rows}


def _local(dt: datetime | None) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if dt else ""


def sla_text(case: Any, at: datetime) -> tuple[str, bool]:
    """("剩余 3 小时" / "已超时 2 小时", overdue) for an open case; ("", False) otherwise."""
    if case.status not in lifecycle.OPEN:
        return "", False
    if case.paused:
        return _("Paused"), False
    due = case.resolve_due_at if case.acknowledged_at else min(case.ack_due_at, case.resolve_due_at)
    seconds = (due - at).total_seconds()
    overdue = case.overdue or seconds < 0
    hours = int(abs(seconds) // 3600)
    if hours >= 48:
        span = ngettext("%(num)d day", "%(num)d days", hours // 24) % {"num": hours // 24}
    elif hours >= 1:
        span = ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours}
    else:
        minutes = max(1, int(abs(seconds) // 60))
        span = ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
    if overdue:
        return _("Overdue by %(span)s") % {"span": span}, True
    return _("%(span)s left") % {"span": span}, False


def _row(case: Any, estates: dict[int, str], at: datetime) -> dict[str, Any]:
    text, overdue = sla_text(case, at)
    return {"case": case, "estate": estates.get(case.estate_id, ""), "sla": text,
            "overdue": overdue, "status_label": STATUS_LABELS.get(case.status, case.status),
            "category_label": CATEGORY_LABELS.get(case.category, case.category),
            "priority_label": PRIORITY_LABELS.get(case.priority, case.priority),
            "created": _local(case.created_at)}


def _is_resident(p: Principal) -> bool:
    return p.person_id is not None and not p.seats


# --- resident -----------------------------------------------------------------------------------
@dataclass
class ReportForm:
    estate_id: str = ""
    category: str = "repair"
    priority: str = "normal"
    description: str = ""
    location: str = ""
    photo: UploadFile | None = None


async def _form_context(p: Principal, values: dict, error: str | None) -> dict[str, Any]:
    owned = await places.owned_estates(p.tenant_id, p.person_id) if p.person_id else []
    names = await _estate_names(p.tenant_id, owned)
    return {"me": p, "estates": [(i, names.get(i, str(i))) for i in owned], "error": error,
            "values": values, "categories": [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
            "priorities": [(c, PRIORITY_LABELS[c]) for c in PRIORITIES]}


@get("/cases/new", include_in_schema=False)
async def new_case_page(request: Request, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    return Template("cases/new.html", context=await _form_context(p, {}, None))


@post("/cases/new", include_in_schema=False)
async def new_case_submit(request: Request, tx: object, data: Annotated[
        ReportForm, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    values = {"estate_id": data.estate_id, "category": data.category, "priority": data.priority,
              "description": data.description, "location": data.location}
    if data.estate_id.strip().isdigit():  # 404 for an estate the user has nothing to do with
        estate_id = int(data.estate_id)
        owned = await places.owned_estates(p.tenant_id, p.person_id) if p.person_id else []
        if estate_id not in owned and not (
                await places.estate_place(p.tenant_id, estate_id) and p.sees(estate=estate_id)):
            raise case_service.not_found()
    try:
        case_in = convert({"estate_id": int(data.estate_id or 0), "category": data.category,
                           "priority": data.priority, "description": data.description.strip(),
                           "location": data.location.strip(), "channel": "app"}, CaseIn)
    except (ValidationError, ValueError):
        return Template("cases/new.html", status_code=422, context=await _form_context(
            p, values, _("Please choose an estate and describe the problem.")))
    content = await data.photo.read() if data.photo is not None else b""
    try:
        if content:
            await process_photo_async(content)  # refuse a bad photo before the case exists
        out = await case_service.create_case(p, case_in)
        if content:
            await attachments.add_photo(p, out.id, content)
    except AppError as exc:
        return Template("cases/new.html", status_code=exc.status, context=await _form_context(
            p, values, exc.detail))
    return Redirect(f"/cases/{out.id}")


@get("/cases/mine", include_in_schema=False)
async def my_cases(request: Request, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    page = await listing.list_cases(p, search.Filters(), limit=100)
    mine = [c for c in page.items if not c.reporter.masked or _is_resident(p)]
    estates = await _estate_names(p.tenant_id, sorted({c.estate_id for c in mine}))
    at = now()
    return Template("cases/mine.html", context={
        "me": p, "rows": [_row(c, estates, at) for c in mine]})


# --- organisations ------------------------------------------------------------------------------
@get("/cases", include_in_schema=False)
async def queue(request: Request, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    page = await listing.list_cases(p, search.Filters(), sort="priority", limit=100)
    at = now()
    open_cases = [c for c in page.items if c.status in lifecycle.OPEN]
    # Most urgent first: overdue, then priority, then the nearest deadline.
    rank = {"emergency": 0, "urgent": 1, "normal": 2}
    open_cases.sort(key=lambda c: (not c.overdue, rank.get(c.priority, 3), c.resolve_due_at))
    estates = await _estate_names(p.tenant_id, sorted({c.estate_id for c in open_cases}))
    return Template("cases/queue.html", context={
        "me": p, "rows": [_row(c, estates, at) for c in open_cases]})


def _event_row(e: Any) -> dict[str, Any]:
    text = e.data.get("text") or e.data.get("comment") or ""
    return {"at": _local(e.at), "label": ACTION_LABELS.get(e.action, e.action),
            "status": STATUS_LABELS.get(e.to_status, e.to_status), "reason": e.reason,
            "text": text, "rating": e.data.get("rating"), "internal": e.visibility == "internal"}


@get("/cases/{case_id:int}", include_in_schema=False)
async def case_page(request: Request, case_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    case = await case_service.get_case(p, case_id)
    events = await case_service.case_events(p, case_id)
    photos = await attachments.list_photos(p, case_id)
    estates = await _estate_names(p.tenant_id, [case.estate_id])
    actions = []
    for name in case.allowed_actions:
        rule = lifecycle.RULES[name]
        fields = [f for f in (*rule.needs, *rule.takes)]
        actions.append({"name": name, "label": ACTION_LABELS.get(name, name),
                        "fields": [(f, FIELD_LABELS.get(f, f), f in rule.needs) for f in fields]})
    return Template("cases/detail.html", context={
        "me": p, "row": _row(case, estates, now()), "case": case, "actions": actions,
        "events": [_event_row(e) for e in events], "photos": photos,
        "error": request.query_params.get("error")})


@dataclass
class ActForm:
    action: str = ""
    reason: str = ""
    comment: str = ""
    rating: str = ""
    assignee_user_id: str = ""
    target_organization_id: str = ""
    new_due_at: str = ""
    duplicate_of_case_id: str = ""


@post("/cases/{case_id:int}/act", include_in_schema=False)
async def case_act(request: Request, case_id: int, tx: object, data: Annotated[
        ActForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    if data.action not in lifecycle.RULES:
        raise case_service.not_found()
    await case_service.visible_case(p, case_id)  # 404 before the form is looked at
    raw: dict[str, Any] = {}
    for field in ("reason", "comment"):
        if getattr(data, field).strip():
            raw[field] = getattr(data, field).strip()
    for field in ("rating", "assignee_user_id", "target_organization_id", "duplicate_of_case_id"):
        value = getattr(data, field).strip()
        if value:
            raw[field] = int(value) if value.isdigit() else value
    if data.new_due_at.strip():
        try:
            raw["new_due_at"] = datetime.fromisoformat(data.new_due_at.strip()).replace(tzinfo=TZ)
        except ValueError:
            raw["new_due_at"] = data.new_due_at
    try:
        body = convert(raw, ActionIn)
    except ValidationError:
        return Redirect(f"/cases/{case_id}?error=invalid")
    try:
        await case_actions.act(p, case_id, data.action, body)
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        return Redirect(f"/cases/{case_id}?error={exc.status}")
    return Redirect(f"/cases/{case_id}")


@get("/cases/photos/{attachment_id:int}", include_in_schema=False)
async def photo_page(request: Request, attachment_id: int, thumbnail: bool = False) -> Stream | Redirect:
    """A case photo for the signed-in browser (the API's photo routes take bearer tokens)."""
    p = _user(request)
    if p is None:
        return _login(request)
    row, chunks = await attachments.open_photo(p, attachment_id, thumbnail=thumbnail)
    return _stream(row, chunks, thumbnail=thumbnail)


PAGES = [photo_page, new_case_page, new_case_submit, my_cases, queue, case_page, case_act]
