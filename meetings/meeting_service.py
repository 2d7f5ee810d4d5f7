"""Meetings: who convenes what, scheduling with the notice rules, invitations, agenda, and the
meeting's status (no HTTP).

Conveners: a joint meeting (联席会议) by the residents' committee or street office covering the
estate (the estate's owners' committee and its property company under the contract in force
are invited automatically, the residents' committee too when the street office convenes); an
owners' committee meeting (业委会会议) or owners' assembly (业主大会) by the estate's owners'
committee (the residents' committee is informed, i.e. invited). The convener's chair, vice
chairs, secretary, directors, staff or administrators act as the meeting's secretary.

Notice: a meeting must be announced the tenant's number of days ahead for its kind (defaults:
joint 3, owners' committee 7, assembly 15). One scheduled later is flagged `notice_short` and
needs a stated reason.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from cases import case_service
from contracts import service as contracts
from core import audit, outbox
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from meetings import repository as repo
from meetings.schemas import AgendaItemOut, InviteeOut, MeetingIn, MeetingOut
from meetings.settings_service import notice_days
from tenancy import service as places
from tenancy.principal import Principal

TZ = ZoneInfo("Asia/Shanghai")
CONVENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "joint": {"residents_committee": ("admin", "director", "staff"),
              "street_office": ("admin", "staff")},
    "committee": {"owners_committee": ("admin", "chair", "vice_chair", "secretary")},
    "assembly": {"owners_committee": ("admin", "chair", "vice_chair", "secretary")},
}


def now() -> datetime:
    return datetime.now(timezone.utc)


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": field, "message": message}])


def invalid_reference(field: str) -> Invalid:
    return invalid(field, _("This item does not exist or you may not see it."))


def aware(moment: datetime) -> datetime:
    """Times without an offset are China time."""
    return moment.replace(tzinfo=TZ) if moment.tzinfo is None else moment


async def scope_for(p: Principal) -> repo.Scope:
    owned = await places.owned_estates(p.tenant_id, p.person_id) if p.person_id else []
    estates = set().union(*(s.estates for s in p.seats if s.kind in repo.ESTATE_READERS)) \
        if p.seats else set()
    return repo.Scope(p.tenant_id, p.tenant_wide, p.user_id, tuple(sorted(p.organization_ids)),
                      tuple(sorted(estates)), tuple(owned))


def manages(p: Principal, meeting: dict) -> bool:
    """The caller acts as the meeting's secretary (for the convening organisation)."""
    seat = p.seat_in(meeting["convener"])
    return seat is not None and seat.role in CONVENERS[meeting["kind"]].get(seat.kind, ())


def forbidden() -> Forbidden:
    return Forbidden(_("Only the convening organisation's secretary may do this."))


async def visible(p: Principal, meeting_id: int, *, lock: bool = False) -> dict:
    row = await repo.meeting(await scope_for(p), meeting_id, lock=lock)
    if row is None:
        raise not_found()
    return row


async def managed(p: Principal, meeting_id: int) -> dict:
    row = await visible(p, meeting_id, lock=True)
    if not manages(p, row):
        raise forbidden()
    return row


def etag(meeting: dict) -> str:
    return f'"m{meeting["id"]}v{meeting["version"]}"'


def check_if_match(meeting: dict, if_match: str | None) -> None:
    if if_match is not None and if_match.strip() not in (etag(meeting), "*"):
        raise PreconditionFailed(_("This meeting was changed by someone else; reload it and try "
                                   "again."))


async def log(p: Principal, action: str, meeting_id: int, **data: Any) -> None:
    await audit.record(p.tenant_id, action, subject_type="meeting", subject_id=meeting_id,
                       actor_user_id=p.user_id, data=data)


async def audience(meeting: dict) -> list[int]:
    """The organisations that hear about a meeting: the convener and invited organisations."""
    invited = await repo.invitees(meeting["tenant"], [meeting["id"]])
    return sorted({meeting["convener"], *(i["organization"] for i in invited if i["organization"])})


async def announce(meeting: dict, topic: str, **data: Any) -> None:
    await outbox.emit(meeting["tenant"], topic, {
        "meeting_id": meeting["id"], "kind": meeting["kind"], "estate_id": meeting["estate"],
        "starts_at": meeting["starts_at"].isoformat(), **data},
        organizations=await audience(meeting))


# --- reading -----------------------------------------------------------------------------------------
async def meeting_out(p: Principal, row: dict) -> MeetingOut:
    invited = await repo.invitees(p.tenant_id, [row["id"]])
    agenda = await repo.agenda(p.tenant_id, row["id"])
    return MeetingOut(
        id=row["id"], kind=row["kind"], estate_id=row["estate"], title=row["title"],
        convener_organization_id=row["convener"], starts_at=row["starts_at"],
        ends_at=row["ends_at"], location=row["location"], online_url=row["online_url"],
        status=row["status"], notice_days_required=row["notice_days_required"],
        notice_short=row["notice_short"], short_notice_reason=row["short_notice_reason"],
        version=row["version"], can_manage=manages(p, row),
        invitees=[InviteeOut(organization_id=i["organization"],
                             organization_name=i["organization_name"], user_id=i["user"],
                             name=i["name"]) for i in invited],
        agenda=[AgendaItemOut(id=a["id"], position=a["position"], title=a["title"],
                              description=a["description"], case_id=a["case"],
                              contract_id=a["contract"], notes=a["notes"]) for a in agenda])


async def get_meeting(p: Principal, meeting_id: int) -> MeetingOut:
    return await meeting_out(p, await visible(p, meeting_id))


async def list_meetings(p: Principal, *, starts_from: datetime | None, starts_to: datetime | None,
                        estate_id: int | None, kind: str | None, limit: int,
                        offset: int) -> list[MeetingOut]:
    rows = await repo.meetings(await scope_for(p), starts_from=starts_from, starts_to=starts_to,
                               estate_id=estate_id, kind=kind, limit=limit, offset=offset)
    return [await meeting_out(p, r) for r in rows]


# --- scheduling ----------------------------------------------------------------------------------------
def _convener_seat(p: Principal, kind: str, org_id: int, estate_id: int):
    seat = p.seat_in(org_id)
    if seat is None:
        raise invalid_reference("convener_organization_id")
    if seat.kind not in CONVENERS[kind]:
        raise invalid("convener_organization_id", _(
            "This kind of organisation cannot convene this kind of meeting."))
    if seat.role not in CONVENERS[kind][seat.kind] or not seat.covers(estate=estate_id):
        raise Forbidden(_("Your role does not allow this action here."))
    return seat


async def _invitable_orgs(p: Principal, estate_id: int) -> set[int]:
    covering = await places.organizations_covering_estate(
        p.tenant_id, estate_id, ["owners_committee", "residents_committee", "street_office",
                                 "property_company", "housing_bureau"])
    company = await contracts.active_property_company(p.tenant_id, estate_id)
    bureau = {s.organization_id for s in p.seats if s.kind == "housing_bureau"}
    return {*covering, *([company] if company else []), *bureau}


async def _invitable_user(p: Principal, user_id: int, estate_id: int, orgs: set[int]) -> bool:
    memberships = await repo.user_orgs(p.tenant_id, user_id)
    if any(m["organization"] in orgs for m in memberships):
        return True
    names = await repo.user_names(p.tenant_id, [user_id])
    person = names.get(user_id, {}).get("person")
    return person is not None and estate_id in await places.owned_estates(p.tenant_id, person)


async def _check_agenda_links(p: Principal, estate_id: int, item: Any, field: str) -> None:
    if item.case_id is not None:
        try:
            case = await case_service.visible_case(p, item.case_id)
        except NotFound:
            raise invalid_reference(f"{field}.case_id") from None
        if case["estate"] != estate_id:
            raise invalid(f"{field}.case_id", _("This case belongs to another estate."))
    if item.contract_id is not None:
        try:
            contract = await contracts.get_row(p, item.contract_id)
        except NotFound:
            raise invalid_reference(f"{field}.contract_id") from None
        if contract["estate"] != estate_id:
            raise invalid(f"{field}.contract_id", _("This contract belongs to another estate."))


async def notice_check(tenant: int, kind: str, starts_at: datetime, reason: str | None,
                       at: datetime) -> tuple[int, bool]:
    """(days required, short) for a meeting starting at `starts_at` announced at `at`;
    refuses a short notice without a reason."""
    required = await notice_days(tenant, kind)
    short = starts_at - at < timedelta(days=required)
    if short and not (reason or "").strip():
        raise invalid("short_notice_reason", _(
            "This meeting must be announced {days} days ahead; it starts sooner, so state why "
            "it cannot wait.").format(days=required))
    return required, short


def check_url(url: str) -> None:
    if url and (not url.startswith("https://") or any(c.isspace() for c in url)):
        raise invalid("online_url", _("An online meeting's link starts with https://."))


def _check_times(starts_at: datetime, ends_at: datetime, at: datetime) -> None:
    if ends_at <= starts_at:
        raise invalid("ends_at", _("The meeting must end after it starts."))
    if starts_at < at - timedelta(minutes=5):
        raise invalid("starts_at", _("A meeting cannot be scheduled in the past."))
    if ends_at - starts_at > timedelta(days=31):
        raise invalid("ends_at", _("A meeting lasts at most 31 days (an assembly's voting "
                                   "period included)."))


async def create_meeting(p: Principal, data: MeetingIn) -> MeetingOut:
    estate = await places.referenced(places.get_estate(p, data.estate_id), "estate_id")
    _convener_seat(p, data.kind, data.convener_organization_id, data.estate_id)
    starts_at, ends_at, at = aware(data.starts_at), aware(data.ends_at), now()
    _check_times(starts_at, ends_at, at)
    check_url(data.online_url)
    allowed = await _invitable_orgs(p, data.estate_id)
    for org_id in data.invited_organization_ids:
        if org_id not in allowed:
            raise invalid("invited_organization_ids", _(
                "Invite organisations that work in this estate."))
    for user_id in data.invited_user_ids:
        if not await _invitable_user(p, user_id, data.estate_id, allowed):
            raise invalid("invited_user_ids", _(
                "Invite people of organisations working in this estate, or its owners."))
    for i, item in enumerate(data.agenda):
        await _check_agenda_links(p, data.estate_id, item, f"agenda[{i}]")
    required, short = await notice_check(p.tenant_id, data.kind, starts_at,
                                         data.short_notice_reason, at)
    row = await repo.insert("meeting", {
        "tenant": p.tenant_id, "estate": data.estate_id, "kind": data.kind,
        "title": data.title.strip(), "convener": data.convener_organization_id,
        "starts_at": starts_at, "ends_at": ends_at, "location": data.location,
        "online_url": data.online_url, "notice_days_required": required, "notice_short": short,
        "short_notice_reason": (data.short_notice_reason or "").strip() or None if short else None,
        "uid": f"{secrets.token_hex(16)}@gongzhi", "created_by": p.user_id})
    orgs = set(data.invited_organization_ids) | await _automatic_invitees(p, data.kind, estate)
    orgs.discard(data.convener_organization_id)
    for org_id in sorted(orgs):
        await repo.insert("meeting_invitee", {"tenant": p.tenant_id, "meeting": row["id"],
                                              "organization": org_id})
    for user_id in dict.fromkeys(data.invited_user_ids):
        await repo.insert("meeting_invitee", {"tenant": p.tenant_id, "meeting": row["id"],
                                              "user": user_id})
    for guest in data.guests:
        await repo.insert("meeting_invitee", {"tenant": p.tenant_id, "meeting": row["id"],
                                              "guest_name": guest.name.strip()})
    for position, item in enumerate(data.agenda, start=1):
        await repo.insert("meeting_agenda_item", {
            "tenant": p.tenant_id, "meeting": row["id"], "position": position,
            "title": item.title.strip(), "description": item.description,
            "case": item.case_id, "contract": item.contract_id})
    await log(p, "meeting.scheduled", row["id"], kind=data.kind, estate=data.estate_id,
              convener=data.convener_organization_id, starts_at=starts_at,
              notice_short=short, invited=sorted(orgs))
    await announce(row, "meeting.scheduled", title=row["title"], notice_short=short)
    return await meeting_out(p, row)


async def _automatic_invitees(p: Principal, kind: str, estate: dict) -> set[int]:
    want = {"joint": ["owners_committee", "residents_committee"],
            "committee": ["residents_committee"], "assembly": ["residents_committee"]}[kind]
    orgs = set(await places.organizations_covering_estate(p.tenant_id, estate["id"], want))
    if kind == "joint":
        company = await contracts.active_property_company(p.tenant_id, estate["id"])
        if company:
            orgs.add(company)
    return orgs


async def update_meeting(p: Principal, meeting_id: int, changes: dict[str, Any],
                         if_match: str | None) -> MeetingOut:
    row = await managed(p, meeting_id)
    check_if_match(row, if_match)
    if row["status"] != "scheduled":
        raise Conflict(_("Only a meeting that has not started can be changed."))
    starts_at = aware(changes.get("starts_at", row["starts_at"]))
    ends_at = aware(changes.get("ends_at", row["ends_at"]))
    values = {k: v for k, v in changes.items() if k in ("title", "location", "online_url")}
    check_url(values.get("online_url", ""))
    if "starts_at" in changes or "ends_at" in changes:
        at = now()
        _check_times(starts_at, ends_at, at)
        reason = changes.get("short_notice_reason", row["short_notice_reason"])
        required, short = await notice_check(p.tenant_id, row["kind"], starts_at, reason, at)
        values.update(starts_at=starts_at, ends_at=ends_at, notice_days_required=required,
                      notice_short=short, short_notice_reason=reason if short else None)
    elif "short_notice_reason" in changes and row["notice_short"]:
        values["short_notice_reason"] = changes["short_notice_reason"]
    if not values:
        return await meeting_out(p, row)
    new = await repo.update("meeting", p.tenant_id, meeting_id,
                            {**values, "sequence": row["sequence"] + 1}, bump=True)
    await log(p, "meeting.updated", meeting_id, **values)
    await announce(new, "meeting.updated", title=new["title"])
    return await meeting_out(p, new)


TRANSITIONS = {"start": ("scheduled", "in_progress"), "end": ("in_progress", "ended"),
               "cancel": ("scheduled", "cancelled")}


async def transition(p: Principal, meeting_id: int, action: str) -> MeetingOut:
    row = await managed(p, meeting_id)
    before, after = TRANSITIONS[action]
    if row["status"] != before:
        raise Conflict(_("The meeting is not in a state that allows this."))
    stamp = {"start": {"started_at": now()}, "end": {"ended_at": now()}}.get(action, {})
    new = await repo.update("meeting", p.tenant_id, meeting_id,
                            {"status": after, "sequence": row["sequence"] + 1, **stamp}, bump=True)
    await log(p, f"meeting.{after}", meeting_id)
    await announce(new, f"meeting.{after}")
    return await meeting_out(p, new)


async def set_agenda_notes(p: Principal, meeting_id: int, item_id: int, notes: str) -> AgendaItemOut:
    await managed(p, meeting_id)
    item = await repo.row("meeting_agenda_item", p.tenant_id, item_id)
    if item is None or item["meeting"] != meeting_id:
        raise not_found()
    new = await repo.update("meeting_agenda_item", p.tenant_id, item_id, {"notes": notes})
    await log(p, "meeting.agenda_notes", meeting_id, agenda_item=item_id)
    return AgendaItemOut(id=new["id"], position=new["position"], title=new["title"],
                         description=new["description"], case_id=new["case"],
                         contract_id=new["contract"], notes=new["notes"])
