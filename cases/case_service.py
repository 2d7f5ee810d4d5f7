"""Cases: intake, who sees what, and the read side. Transitions live in cases.case_actions.

Visibility: a case is seen by its reporter and its assignee, by every member of the
responsible organisation, by the owners' and residents' committees and street offices
covering its estate, and by the housing bureau. Organisation members see internal events;
a reporter who sees the case only as its reporter does not. The reporter's name and phone
are masked except for the reporter, the assignee and the responsible organisation's
dispatchers and managers (CONTACT_ROLES), and the staff member who recorded a phone or
walk-in report; an unmasked detail view is audited.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from cases import case_repository as repo
from cases import lifecycle, routing
from cases.case_repository import Scope
from cases.case_util import emit, event_out, now, record_event
from cases.schemas import CaseEventOut, CaseIn, CaseOut, Reporter
from cases.service import calendar_for
from cases.sla import deadline
from core import audit
from core.i18n import gettext as _
from core.problems import Forbidden, Invalid, NotFound
from tenancy import service as places
from tenancy.masking import mask_name, mask_phone
from tenancy.principal import Principal

DISPATCH_ROLES = {"property_company": ("admin", "manager", "dispatcher"),
                  "residents_committee": ("admin", "director", "staff"),
                  "owners_committee": ("admin", "chair"), "street_office": ("admin", "staff")}
CONTACT_ROLES = ("manager", "dispatcher", "director", "staff", "chair")
ESTATE_READERS = ("owners_committee", "residents_committee", "street_office")
MAX_PAGE = 100  # the case list (cases.listing)


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def invalid_reference(field: str) -> Invalid:
    message = _("This item does not exist or you may not see it.")
    return Invalid(message, errors=[{"field": field, "message": message}])


def scope_for(p: Principal) -> Scope:
    estates = set().union(*(s.estates for s in p.seats if s.kind in ESTATE_READERS))
    return Scope(p.tenant_id, p.user_id, tuple(sorted(p.organization_ids)),
                 tuple(sorted(estates)), p.tenant_wide)


def org_view(p: Principal, case: dict) -> bool:
    """Whether `p` sees the case as an organisation (and so its internal events)."""
    return (p.tenant_wide or case["responsible_org"] in p.organization_ids
            or case["assignee_user"] == p.user_id
            or any(s.kind in ESTATE_READERS and case["estate"] in s.estates for s in p.seats))


def actor_seats(p: Principal, case: dict) -> dict[str, int | None]:
    """The caller's actor roles on this case (cases.lifecycle.ACTORS) -> the organisation
    they act for in that role."""
    found: dict[str, int | None] = {}
    for s in p.seats:
        if s.organization_id == case["responsible_org"] and s.role in DISPATCH_ROLES.get(s.kind, ()):
            found.setdefault("dispatcher", s.organization_id)
        if s.kind == "residents_committee" and s.covers(estate=case["estate"]):
            found.setdefault("coordinator", s.organization_id)
        if s.kind == "street_office" and s.covers(estate=case["estate"]):
            found.setdefault("street", s.organization_id)
    if case["assignee_user"] == p.user_id:
        found.setdefault("handler", case["responsible_org"])
    if case["reporter_user"] is not None and case["reporter_user"] == p.user_id:
        found.setdefault("reporter", None)
    return found


def reads_contact(p: Principal, case: dict) -> bool:
    if p.user_id in (case["reporter_user"], case["assignee_user"]):
        return True
    took_the_call = case["channel"] not in ("app", "open311") and case["created_by"] == p.user_id
    if took_the_call and not case.get("reporter_person"):
        # The staff member who took the call (and typed the contact themselves). Not for
        # Open311: there `created_by` is whoever created the API key, not a person at intake.
        return True
    seat = p.seat_in(case["responsible_org"])
    return seat is not None and seat.role in CONTACT_ROLES


def state_of(case: dict) -> lifecycle.CaseState:
    return lifecycle.CaseState(
        status=case["status"], paused=case["paused"],
        extension_pending=case["extension_until"] is not None, escalated=case["escalated"],
        has_assignee=case["assignee_user"] is not None, transfers=case["transfers"],
        returns=case["returns"], reopens=case["reopens"], pauses=case["pause_count"],
        resolved_at=case["resolved_at"])


def is_overdue(case: dict, at: datetime) -> bool:
    if case["status"] not in repo.OPEN_STATUSES or case["paused"]:
        return False
    return at > case["resolve_due_at"] or (case["acknowledged_at"] is None
                                          and at > case["ack_due_at"])


def case_out(p: Principal, case: dict, *, unmasked: bool = False,
             at: datetime | None = None) -> CaseOut:
    """`at`: the moment overdue is judged at (one per page; default now)."""
    name, phone = case["reporter_name"], case["reporter_phone"]
    reporter = Reporter(name=name, phone=phone, masked=False) if unmasked else Reporter(
        name=mask_name(name) or "", phone=mask_phone(phone), masked=True)
    actors = frozenset(actor_seats(p, case))
    return CaseOut(
        id=case["id"], estate_id=case["estate"], building_id=case["building"],
        unit_id=case["unit"], location=case["location"], category=case["category"],
        priority=case["priority"], description=case["description"], channel=case["channel"],
        status=case["status"], paused=case["paused"], escalated=case["escalated"],
        extension_requested_until=case["extension_until"],
        responsible_organization_id=case["responsible_org"],
        assignee_user_id=case["assignee_user"], reporter=reporter,
        ack_due_at=case["ack_due_at"], resolve_due_at=case["resolve_due_at"],
        overdue=is_overdue(case, at or now()), acknowledged_at=case["acknowledged_at"],
        resolved_at=case["resolved_at"], closed_at=case["closed_at"],
        resolution=case["resolution"], transfers=case["transfers"], returns=case["returns"],
        reopens=case["reopens"], pauses=case["pause_count"], rating=case["rating"],
        rating_comment=case["rating_comment"], duplicate_of_case_id=case["duplicate_of"],
        sla_source=case["sla_source"], version=case["version"], created_at=case["created_at"],
        updated_at=case["updated_at"],
        allowed_actions=list(lifecycle._allowed(case["status"], case["paused"],
                                                case["extension_until"] is not None,
                                                case["escalated"], actors)))


# --- intake -------------------------------------------------------------------------------------
async def _check_place(p: Principal, data: CaseIn) -> None:
    """Residents report only where they own a unit; organisation members where they work."""
    estate = await places.estate_place(p.tenant_id, data.estate_id)
    staff = estate is not None and p.sees(estate=data.estate_id)
    owner = p.person_id is not None and data.estate_id in await places.owned_estates(
        p.tenant_id, p.person_id)
    if data.channel != "app" and not staff:
        if owner or not p.seats:
            raise Forbidden(_("Only organisation staff may record cases received by phone, in "
                              "person, from grid workers or from the 12345 hotline."))
        raise invalid_reference("estate_id")
    if not (staff or owner):
        if not p.seats:
            raise Forbidden(_("You may report problems only for estates where you own a unit."))
        raise invalid_reference("estate_id")
    if not await places.place_in_estate(p.tenant_id, data.estate_id, data.building_id, None):
        raise invalid_reference("building_id")
    if not await places.place_in_estate(p.tenant_id, data.estate_id, data.building_id, data.unit_id):
        raise invalid_reference("unit_id")


async def _reporter(p: Principal, data: CaseIn) -> dict[str, Any]:
    if data.channel == "app":
        if data.reporter_person_id is not None:
            raise invalid_reference("reporter_person_id")
        contact = await places.user_contact(p.tenant_id, p.user_id) or {}
        return {"reporter_user": p.user_id, "reporter_name": contact.get("name") or "",
                "reporter_phone": contact.get("phone")}
    if data.reporter_person_id is not None:
        person = await repo.estate_resident(p.tenant_id, data.estate_id, data.reporter_person_id)
        if person is None:
            raise invalid_reference("reporter_person_id")
        return {"reporter_user": None, "reporter_person": person["id"],
                "reporter_name": person["name"], "reporter_phone": person["phone"]}
    if not data.reporter_name:
        message = _("This field is required.")
        raise Invalid(message, errors=[{"field": "reporter_name", "message": message}])
    return {"reporter_user": None, "reporter_name": data.reporter_name,
            "reporter_phone": data.reporter_phone}


async def create_case(p: Principal, data: CaseIn) -> CaseOut:
    await _check_place(p, data)
    reporter = await _reporter(p, data)
    from cases.duplicates import similar_cases  # it reads through this module's scope
    # Looked up before the case exists (nothing to exclude) and before the first audit entry
    # takes the tenant's audit lock, which is held until commit.
    similar = await similar_cases(
        p, estate_id=data.estate_id, category=data.category, building_id=data.building_id,
        latitude=data.latitude, longitude=data.longitude)
    org = await routing.responsible_organization(p.tenant_id, data.estate_id, data.category)
    targets, source = await routing.sla_targets(p.tenant_id, data.estate_id)
    calendar, at = await calendar_for(p.tenant_id), now()
    goal = targets.for_priority(data.priority)
    case = await repo.insert_case({
        "tenant": p.tenant_id, "estate": data.estate_id, "building": data.building_id,
        "unit": data.unit_id, "location": data.location, "latitude": data.latitude,
        "longitude": data.longitude, "category": data.category, "priority": data.priority,
        "description": data.description, "channel": data.channel, **reporter,
        "created_by": p.user_id, "responsible_org": org, "sla_targets": targets.to_dict(),
        "sla_source": source, "routed_at": at, "created_at": at, "updated_at": at,
        "ack_due_at": deadline(at, goal.acknowledge, calendar),
        "resolve_due_at": deadline(at, goal.resolve, calendar)})
    seat = next(iter(p.seats_where()), None) if data.channel != "app" else None
    event = await record_event(p, case, "create", None, actor_org=seat.organization_id if seat else None,
                               data={"channel": data.channel, "responsible_organization_id": org})
    await emit(case, event)
    out = case_out(p, case, unmasked=reads_contact(p, case))
    out.similar_open_cases = similar
    return out


# --- reading ------------------------------------------------------------------------------------
async def visible_case(p: Principal, case_id: int, *, lock: bool = False) -> dict:
    return await repo.get_case(scope_for(p), case_id, lock=lock) or _raise(not_found())


async def get_case(p: Principal, case_id: int) -> CaseOut:
    case = await visible_case(p, case_id)
    return case_out(p, case, unmasked=await contact_view(p, case))


async def contact_view(p: Principal, case: dict) -> bool:
    """Whether `p` sees the reporter's full contact in this answer; a view by anyone but the
    reporter is audited (`case.contact_viewed`), whichever endpoint answers with it."""
    unmasked = reads_contact(p, case)
    if unmasked and p.user_id != case["reporter_user"]:
        await audit.record(p.tenant_id, "case.contact_viewed", subject_type="case",
                           subject_id=case["id"], actor_user_id=p.user_id)
    return unmasked


async def case_events(p: Principal, case_id: int) -> list[CaseEventOut]:
    case = await visible_case(p, case_id)
    rows = await repo.events(p.tenant_id, case_id, include_internal=org_view(p, case))
    return [event_out(r) for r in rows]


async def add_comment(p: Principal, case_id: int, text: str, visibility: str) -> CaseEventOut:
    case = await visible_case(p, case_id, lock=True)
    if visibility == "internal" and not org_view(p, case):
        raise Forbidden(_("Only organisations may write internal comments."))
    seats = actor_seats(p, case)
    actor_org = next((o for o in seats.values() if o is not None), None)
    event = await record_event(p, case, "comment", case["status"], actor_org=actor_org,
                               data={"text": text}, visibility=visibility)
    await emit(case, event, internal=visibility == "internal")
    return event_out(event)


def _raise(exc: Exception):
    raise exc
