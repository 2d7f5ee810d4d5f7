"""Web pages for meetings: the calendar, scheduling, and the meeting page where the secretary
takes attendance, tables resolutions, runs the votes, records action items and edits the
minutes, and where attendees sign in and vote. Pages call the services inside the request's
transaction; one POST route takes every action of the meeting page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from msgspec import ValidationError, convert

from core.i18n import N_
from core.i18n import gettext as _
from core.problems import AppError, Invalid
from meetings import (
    action_service,
    attendance,
    calendar,
    meeting_service,
    minutes_documents,
    minutes_service,
    notice_service,
    repository as repo,
    signatures,
    vote_service,
)
from meetings.meeting_service import CONVENERS, TZ, now
from meetings.printing import CHECK_LABELS, CHOICE_LABELS, KIND_LABELS
from meetings.schemas import (
    ActionItemIn,
    AttendanceIn,
    MeetingIn,
    MinutesSectionIn,
    OpenVotingIn,
    ResolutionIn,
)
from tenancy.principal import Principal

STATUS_LABELS = {"scheduled": N_("Scheduled"), "in_progress": N_("Under way"),
                 "ended": N_("Ended"), "cancelled": N_("Cancelled")}
SIGNING_LABELS = {"draft": N_("Not open for signing"), "awaiting_signatures": N_("Awaiting signatures"),
                  "signed": N_("Signed, awaiting the seal"), "sealed": N_("Signed and sealed"),
                  "superseded": N_("Superseded")}
MINUTES_LABELS = {"draft": N_("Minutes draft"), "review": N_("Minutes in review"),
                  "final": N_("Final minutes")}
AMENDMENT_LABELS = {"proposed": N_("Awaiting decision"), "accepted": N_("Adopted"),
                    "rejected": N_("Not adopted"), "applied": N_("Applied directly")}


def _user(request: Request) -> Principal | None:
    return request.scope.get("user")


def _login(request: Request) -> Redirect:
    return Redirect(f"/login?next={request.url.path}")


def local(moment: datetime | None) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS,
            "choice_labels": CHOICE_LABELS, "check_labels": CHECK_LABELS,
            "minutes_labels": MINUTES_LABELS, "signing_labels": SIGNING_LABELS,
            "amendment_labels": AMENDMENT_LABELS, "local": local}


def reraise(exc: AppError) -> bool:
    """Errors a page shows as a problem document rather than on the page: unknown or foreign
    things (and ids in the form that are), so a form cannot probe what others own."""
    if exc.status in (401, 403, 404):
        return True
    return isinstance(exc, Invalid) and any(str(e.get("field", "")).endswith(("_id", "_ids"))
                                            for e in exc.errors or [])


# --- calendar ---------------------------------------------------------------------------------------
@get("/meetings", include_in_schema=False)
async def calendar_page(request: Request, tx: object, past: bool = False) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    at = now()
    rows = await meeting_service.list_meetings(
        p, starts_from=None if past else at - timedelta(days=1), starts_to=None, estate_id=None,
        kind=None, limit=200, offset=0)
    estates = {e: await repo.estate_name(p.tenant_id, e) for e in {m.estate_id for m in rows}}
    months: dict[str, list] = {}
    for m in rows:
        months.setdefault(m.starts_at.astimezone(TZ).strftime("%Y-%m"), []).append(m)
    can_convene = any(s.kind in kinds for kinds in CONVENERS.values() for s in p.seats)
    return Template("meetings/calendar.html", context={
        "me": p, "months": months, "estates": estates, "past": past,
        "can_convene": can_convene, **_labels()})


# --- scheduling --------------------------------------------------------------------------------------
def _convener_choices(p: Principal) -> list[dict[str, Any]]:
    out = []
    for s in p.seats:
        kinds = [k for k, allowed in CONVENERS.items() if s.role in allowed.get(s.kind, ())]
        if kinds:
            out.append({"id": s.organization_id, "name": s.organization_name, "kinds": kinds,
                        "estates": sorted(s.estates)})
    return out


async def _schedule_context(p: Principal, values: dict, error: str | None) -> dict[str, Any]:
    conveners = _convener_choices(p)
    estate_ids = sorted({e for c in conveners for e in c["estates"]})
    estates = [(e, await repo.estate_name(p.tenant_id, e)) for e in estate_ids]
    return {"me": p, "conveners": conveners, "estates": estates, "values": values,
            "error": error, **_labels()}


@get("/meetings/new", include_in_schema=False)
async def schedule_page(request: Request, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    return Template("meetings/new.html", context=await _schedule_context(p, {}, None))


@dataclass
class ScheduleForm:
    kind: str = "joint"
    estate_id: str = ""
    convener_organization_id: str = ""
    title: str = ""
    starts_at: str = ""
    ends_at: str = ""
    location: str = ""
    online_url: str = ""
    agenda: str = ""
    short_notice_reason: str = ""


def _local_input(value: str) -> datetime | str:
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=TZ)
    except ValueError:
        return value


@post("/meetings/new", include_in_schema=False)
async def schedule_submit(request: Request, tx: object, data: Annotated[
        ScheduleForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    values = {k: getattr(data, k) for k in ScheduleForm.__dataclass_fields__}
    # the form's ids name the caller's own organisation and an estate it covers, or nothing
    org = int(data.convener_organization_id) if data.convener_organization_id.isdigit() else 0
    estate = int(data.estate_id) if data.estate_id.isdigit() else 0
    if p.seat_in(org) is None or not p.sees(estate=estate):
        raise meeting_service.not_found()
    raw: dict[str, Any] = {
        "kind": data.kind, "title": data.title.strip(), "location": data.location.strip(),
        "online_url": data.online_url.strip(),
        "estate_id": int(data.estate_id) if data.estate_id.isdigit() else data.estate_id,
        "convener_organization_id": int(data.convener_organization_id)
        if data.convener_organization_id.isdigit() else data.convener_organization_id,
        "starts_at": _local_input(data.starts_at), "ends_at": _local_input(data.ends_at),
        "agenda": [{"title": line.strip()[:200]} for line in data.agenda.splitlines()
                   if line.strip()][:50]}
    if data.short_notice_reason.strip():
        raw["short_notice_reason"] = data.short_notice_reason.strip()
    try:
        body = convert(raw, MeetingIn)
    except ValidationError as exc:
        return Template("meetings/new.html", status_code=422, context=await _schedule_context(
            p, values, _("Please check the form: {error}").format(error=str(exc))))
    try:
        out = await meeting_service.create_meeting(p, body)
    except AppError as exc:
        if exc.status in (401, 403, 404):
            raise
        return Template("meetings/new.html", status_code=exc.status,
                        context=await _schedule_context(p, values, exc.detail))
    return Redirect(f"/meetings/{out.id}")


# --- the meeting page ----------------------------------------------------------------------------------
async def meeting_context(p: Principal, meeting_id: int) -> dict[str, Any]:
    meeting = await meeting_service.visible(p, meeting_id)
    out = await meeting_service.meeting_out(p, meeting)
    present = await attendance.attendance_out(meeting)
    record = await attendance.reads_record(p, meeting)
    if not record:  # an owner of the estate: the public notice is their copy of the record
        present.attendees = []
    resolutions = await vote_service.list_resolutions(p, meeting_id)
    actions = await action_service.list_actions(p, meeting_id)
    minutes = await repo.minutes(p.tenant_id, meeting_id) if record else None
    amendments = await repo.amendments(p.tenant_id, minutes["id"]) if minutes else []
    notice = next(iter(await repo.rows("meeting_notice", p.tenant_id, meeting_id)), None)
    my_keys = await vote_service.my_keys(p, meeting)
    signed_in = any(a.user_id == p.user_id for a in present.attendees)
    invitable = [] if not out.can_manage else await _invitable_people(meeting, present)
    signing = None
    if minutes and minutes["document"]:
        signing = await signatures.signature_status(p, meeting_id)
    return {"me": p, "meeting": out, "estate": await repo.estate_name(p.tenant_id, out.estate_id),
            "attendance": present, "resolutions": resolutions, "actions": actions,
            "minutes": minutes, "amendments": amendments, "notice": notice,
            "can_vote": bool(my_keys), "signed_in": signed_in,
            "may_sign_in": not signed_in and await attendance.eligibility(meeting, p.user_id) is not None,
            "invitable": invitable, "signing": signing, "error": None, **_labels()}


async def _invitable_people(meeting: dict, present: Any) -> list[tuple[int, str]]:
    """People the secretary may sign in: members of the convener and invited organisations."""
    invited = await repo.invitees(meeting["tenant"], [meeting["id"]])
    orgs = [meeting["convener"], *(i["organization"] for i in invited if i["organization"])]
    from tenancy import service as places

    users: list[int] = []
    for org in orgs:
        users += await places.organization_members(meeting["tenant"], org)
    users += [i["user"] for i in invited if i["user"]]
    signed = {a.user_id for a in present.attendees}
    names = await repo.user_names(meeting["tenant"], [u for u in dict.fromkeys(users)
                                                      if u not in signed])
    return [(u, n["display_name"]) for u, n in names.items()]


@get("/meetings/{meeting_id:int}", include_in_schema=False)
async def meeting_page(request: Request, meeting_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    return Template("meetings/meeting.html", context=await meeting_context(p, meeting_id))


@dataclass
class ActForm:
    action: str = ""
    user_id: str = ""
    resolution_id: str = ""
    amendment_id: str = ""
    owner_organization_id: str = ""
    title: str = ""
    text: str = ""
    matter: str = "ordinary"
    choice: str = ""
    closes_at: str = ""
    due_on: str = ""
    accept: str = ""
    section: str = "summary"
    next: str = ""
    pin: str = ""


def _int(value: str) -> int | str:
    return int(value) if value.strip().isdigit() else value


async def _act(p: Principal, meeting_id: int, f: ActForm) -> str:
    """Run one action of the meeting page; returns the anchor to land on."""
    a = f.action
    if a in ("start", "end", "cancel"):
        await meeting_service.transition(p, meeting_id, a)
        return "top"
    if a in ("sign_in", "record_attendance"):
        body = AttendanceIn(user_id=_int(f.user_id) if a == "record_attendance" else None)  # type: ignore[arg-type]
        await attendance.sign_in(p, meeting_id, body)
        return "attendance"
    if a == "add_resolution":
        await vote_service.create_resolution(p, meeting_id, convert(
            {"title": f.title.strip(), "text": f.text, "matter": f.matter}, ResolutionIn))
        return "resolutions"
    if a in ("open_resolution", "close_resolution", "vote"):
        resolution = await _resolution_of(p, meeting_id, f.resolution_id)
        if a == "open_resolution":
            closes = _local_input(f.closes_at) if f.closes_at.strip() else None
            await vote_service.open_voting(p, resolution, convert({"closes_at": closes},
                                                                  OpenVotingIn))
        elif a == "close_resolution":
            await vote_service.close_voting(p, resolution)
        else:
            if f.choice not in CHOICE_LABELS:
                raise ValueError("choice")
            await vote_service.cast_vote(p, resolution, f.choice)
        return "resolutions"
    if a == "add_action":
        raw: dict[str, Any] = {"title": f.title.strip()}
        if f.owner_organization_id.strip():
            raw["owner_organization_id"] = _int(f.owner_organization_id)
        if f.due_on.strip():
            raw["due_on"] = f.due_on.strip()
        await action_service.create_action(p, meeting_id, convert(raw, ActionItemIn))
        return "actions"
    return await _minutes_act(p, meeting_id, f)


async def _minutes_act(p: Principal, meeting_id: int, f: ActForm) -> str:
    a = f.action
    if a == "draft_minutes":
        await minutes_service.draft_minutes(p, meeting_id)
    elif a == "edit_section":
        await minutes_service.edit_section(p, meeting_id, convert(
            {"section": f.section, "text": f.text}, MinutesSectionIn), None)
    elif a == "review":
        await minutes_service.start_review(p, meeting_id)
    elif a == "propose":
        await minutes_service.propose_amendment(p, meeting_id, convert(
            {"section": f.section, "text": f.text}, MinutesSectionIn))
    elif a == "decide":
        amendment = await repo.row("meeting_minutes_amendment", p.tenant_id, _int(f.amendment_id)) \
            if f.amendment_id.strip().isdigit() else None
        minutes = await repo.minutes(p.tenant_id, meeting_id)
        if amendment is None or minutes is None or amendment["minutes"] != minutes["id"]:
            raise meeting_service.not_found()
        await minutes_service.decide_amendment(p, amendment["id"], f.accept == "yes")
    elif a == "finalize":
        await minutes_service.finalize(p, meeting_id)
    elif a == "post_notice":
        await notice_service.post_notice(p, meeting_id)
    elif a == "render":
        await minutes_documents.request_render(p, meeting_id)
    elif a == "sign":
        await signatures.sign(p, meeting_id, f.pin)
    else:
        raise meeting_service.not_found()
    return "minutes"


async def _resolution_of(p: Principal, meeting_id: int, value: str) -> int:
    row = await repo.row("meeting_resolution", p.tenant_id, int(value)) \
        if value.strip().isdigit() and int(value) < 2**31 else None
    if row is None or row["meeting"] != meeting_id:
        raise meeting_service.not_found()
    return row["id"]


@post("/meetings/{meeting_id:int}/act", include_in_schema=False)
async def meeting_act(request: Request, meeting_id: int, tx: object, data: Annotated[
        ActForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    await meeting_service.visible(p, meeting_id)  # 404 before the form is looked at
    try:
        anchor = await _act(p, meeting_id, data)
    except (ValidationError, ValueError):
        error, status = _("Please check the form and try again."), 422
    except AppError as exc:
        if reraise(exc):
            raise
        error, status = exc.detail or _("That action could not be taken now."), exc.status
    else:
        if data.next in ("/vote", "/meetings/signing"):
            return Redirect(data.next)
        return Redirect(f"/meetings/{meeting_id}#{anchor}")
    context = await meeting_context(p, meeting_id)
    return Template("meetings/meeting.html", status_code=status, context={**context, "error": error})


@get("/meetings/signing", include_in_schema=False)
async def signing_inbox(request: Request, tx: object) -> Template | Redirect:
    """The signatory's inbox: minutes whose next signature (or seal) is the caller's."""
    p = _user(request)
    if p is None:
        return _login(request)
    return Template("meetings/signing.html", context={
        "me": p, "items": await signatures.inbox(p), **_labels()})


@get("/meetings/feed/{token:str}", include_in_schema=False)
async def feed_page(token: str, tx: object) -> Response[bytes]:
    """An organisation's meetings for calendar clients; the unguessable token is the credential."""
    return Response(await calendar.feed(token), media_type="text/calendar; charset=utf-8")


PAGES: list = [calendar_page, schedule_page, schedule_submit, signing_inbox, meeting_page,
               meeting_act, feed_page]
