"""Web pages for one case and for the resident: the case detail with its timeline, comments
(public: the reporter sees them; internal: organisations only), photos and the actions the user
may take now (resolving takes photos too); the resident's "my cases". The report form lives in
cases.intake_pages, the organisations' lists in cases.queue_pages; PAGES gathers them all.

Pages call the cases service directly inside the request's transaction (the `tx` dependency),
never the JSON API over HTTP."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Stream, Template
from msgspec import ValidationError, convert

from cases import attachments, case_actions, case_service, intake_pages, lifecycle, listing, queue_pages, search
from cases.attachment_controllers import _stream
from cases.calendar import TZ
from cases.case_util import now
from cases.labels import STATUS_LABELS
from cases.page_util import MAX_PHOTOS_PER_FORM, is_resident, local, photo_contents, row, to_login, user_of
from cases.place_repository import estate_names
from cases.schemas import ActionIn
from core.i18n import N_
from core.images import process_photo_async
from core.problems import AppError

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
PHOTO_ACTIONS = ("resolve",)  # actions whose form takes photos (the result, as evidence)
ERRORS = {"invalid": N_("That action could not be taken now. Please check the form and try again."),
          "comment": N_("The comment could not be added: write 1 to 4,000 characters."),
          "photo": N_("A photo was refused: JPEG, PNG or WebP up to 10 MB, at most 9 per case.")}


# --- resident -----------------------------------------------------------------------------------
@get("/cases/mine", include_in_schema=False)
async def my_cases(request: Request, tx: object) -> Template | Redirect:
    p = user_of(request)
    if p is None:
        return to_login(request)
    page = await listing.list_cases(p, search.Filters(), limit=100)
    mine = [c for c in page.items if not c.reporter.masked or is_resident(p)]
    estates = await estate_names(p.tenant_id, sorted({c.estate_id for c in mine}))
    at = now()
    return Template("cases/mine.html", context={
        "me": p, "rows": [row(c, estates, at) for c in mine]})


# --- one case -----------------------------------------------------------------------------------
def _event_row(e: Any) -> dict[str, Any]:
    text = e.data.get("text") or e.data.get("comment") or ""
    return {"at": local(e.at), "label": ACTION_LABELS.get(e.action, e.action),
            "status": STATUS_LABELS.get(e.to_status, e.to_status), "reason": e.reason,
            "text": text, "rating": e.data.get("rating"), "internal": e.visibility == "internal",
            "comment": e.action == "comment"}


@get("/cases/{case_id:int}", include_in_schema=False)
async def case_page(request: Request, case_id: int, tx: object) -> Template | Redirect:
    p = user_of(request)
    if p is None:
        return to_login(request)
    case = await case_service.get_case(p, case_id)
    events = await case_service.case_events(p, case_id)
    photos = await attachments.list_photos(p, case_id)
    estates = await estate_names(p.tenant_id, [case.estate_id])
    actions = []
    for name in case.allowed_actions:
        rule = lifecycle.RULES[name]
        fields = [f for f in (*rule.needs, *rule.takes)]
        actions.append({"name": name, "label": ACTION_LABELS.get(name, name),
                        "photos": name in PHOTO_ACTIONS,
                        "fields": [(f, FIELD_LABELS.get(f, f), f in rule.needs) for f in fields]})
    error = request.query_params.get("error")
    return Template("cases/detail.html", context={
        "me": p, "row": row(case, estates, now()), "case": case, "actions": actions,
        "events": [_event_row(e) for e in events], "photos": photos,
        "org_view": case_service.org_view(p, await case_service.visible_case(p, case_id)),
        "max_photos": MAX_PHOTOS_PER_FORM,
        "error": ERRORS.get(error, ERRORS["invalid"]) if error else None})


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
    photos: list[Any] | None = None  # UploadFiles; "" when none was chosen


@post("/cases/{case_id:int}/act", include_in_schema=False)
async def case_act(request: Request, case_id: int, tx: object, data: Annotated[
        ActForm, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Template | Redirect:
    p = user_of(request)
    if p is None:
        return to_login(request)
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
    photos = await photo_contents([f for f in data.photos or [] if not isinstance(f, str)])
    if photos and (data.action not in PHOTO_ACTIONS or len(photos) + await attachments.count(
            p.tenant_id, case_id) > MAX_PHOTOS_PER_FORM):
        return Redirect(f"/cases/{case_id}?error=photo")
    try:
        for content in photos:
            await process_photo_async(content)  # refuse a bad photo before anything changes
        await case_actions.act(p, case_id, data.action, body)
    except AppError as exc:
        if exc.status in (403, 404):
            raise
        return Redirect(f"/cases/{case_id}?error={'photo' if exc.status == 422 and photos else exc.status}")
    for content in photos:  # checked above; a failure here rolls the action back too
        await attachments.add_photo(p, case_id, content)
    return Redirect(f"/cases/{case_id}")


@dataclass
class CommentForm:
    text: str = ""
    visibility: str = "public"


@post("/cases/{case_id:int}/comment", include_in_schema=False)
async def case_comment(request: Request, case_id: int, tx: object, data: Annotated[
        CommentForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Redirect:
    """A public comment (the reporter sees it) or, for organisations, an internal one."""
    p = user_of(request)
    if p is None:
        return to_login(request)
    await case_service.visible_case(p, case_id)  # 404 before the form is looked at
    text = data.text.strip()
    if not 1 <= len(text) <= 4000 or data.visibility not in ("public", "internal"):
        return Redirect(f"/cases/{case_id}?error=comment")
    await case_service.add_comment(p, case_id, text, data.visibility)
    return Redirect(f"/cases/{case_id}#timeline")


@get("/cases/photos/{attachment_id:int}", include_in_schema=False)
async def photo_page(request: Request, attachment_id: int, thumbnail: bool = False) -> Stream | Redirect:
    """A case photo for the signed-in browser (the API's photo routes take bearer tokens)."""
    p = user_of(request)
    if p is None:
        return to_login(request)
    row_, chunks = await attachments.open_photo(p, attachment_id, thumbnail=thumbnail)
    return _stream(row_, chunks, thumbnail=thumbnail)


PAGES = [photo_page, *intake_pages.PAGES, my_cases, *queue_pages.PAGES, case_page, case_act,
         case_comment]
