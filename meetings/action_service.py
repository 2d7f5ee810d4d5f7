"""Action items of a meeting: what was agreed to do, by whom (an organisation taking part, or
a person), by when; one can open a case through cases' own intake, which names the meeting."""
from __future__ import annotations

from typing import Any

from cases import case_service
from cases.schemas import CaseIn
from core.i18n import gettext as _
from core.problems import Conflict
from meetings import repository as repo
from meetings.attendance import eligibility
from meetings.meeting_service import forbidden, invalid, log, manages, not_found, visible
from meetings.schemas import ActionItemIn, ActionItemOut, OpenCaseIn
from tenancy.principal import Principal


def action_out(r: dict) -> ActionItemOut:
    return ActionItemOut(id=r["id"], meeting_id=r["meeting"], title=r["title"],
                         owner_organization_id=r["owner_organization"],
                         owner_user_id=r["owner_user"], due_on=r["due_on"], status=r["status"],
                         case_id=r["case"])


async def list_actions(p: Principal, meeting_id: int) -> list[ActionItemOut]:
    await visible(p, meeting_id)
    return [action_out(r) for r in await repo.rows("meeting_action_item", p.tenant_id, meeting_id)]


async def create_action(p: Principal, meeting_id: int, data: ActionItemIn) -> ActionItemOut:
    meeting = await visible(p, meeting_id, lock=True)
    if not manages(p, meeting):
        raise forbidden()
    if data.owner_organization_id is not None:
        invited = await repo.invitees(p.tenant_id, [meeting_id])
        orgs = {meeting["convener"], *(i["organization"] for i in invited if i["organization"])}
        if data.owner_organization_id not in orgs:
            raise invalid("owner_organization_id", _(
                "Give the action to an organisation taking part in the meeting."))
    if data.owner_user_id is not None and await eligibility(meeting, data.owner_user_id) is None:
        raise invalid("owner_user_id", _("This person is not invited to this meeting."))
    row = await repo.insert("meeting_action_item", {
        "tenant": p.tenant_id, "meeting": meeting_id, "title": data.title.strip(),
        "owner_organization": data.owner_organization_id, "owner_user": data.owner_user_id,
        "due_on": data.due_on})
    await log(p, "meeting.action_created", meeting_id, action_item=row["id"], title=row["title"],
              due_on=data.due_on)
    return action_out(row)


async def _managed_action(p: Principal, action_id: int) -> tuple[dict, dict]:
    row = await repo.row("meeting_action_item", p.tenant_id, action_id, lock=True)
    if row is None:
        raise not_found()
    meeting = await visible(p, row["meeting"])
    if not manages(p, meeting):
        raise forbidden()
    return row, meeting


async def update_action(p: Principal, action_id: int, changes: dict[str, Any]) -> ActionItemOut:
    row, meeting = await _managed_action(p, action_id)
    if not changes:
        return action_out(row)
    new = await repo.update("meeting_action_item", p.tenant_id, action_id, changes)
    await log(p, "meeting.action_updated", meeting["id"], action_item=action_id, **changes)
    return action_out(new)


async def open_case(p: Principal, action_id: int, data: OpenCaseIn) -> ActionItemOut:
    """Open a case for the action item through cases' intake (the secretary reports it; the
    description names the meeting) and link it to the item."""
    row, meeting = await _managed_action(p, action_id)
    if row["case"] is not None:
        raise Conflict(_("This action item already has a case."))
    lead = _("From meeting #{id} «{title}», action item: {item}").format(
        id=meeting["id"], title=meeting["title"], item=row["title"])
    description = f"{lead}\n{data.description}".strip()[:4000]
    case = await case_service.create_case(p, CaseIn(
        estate_id=meeting["estate"], category=data.category, priority=data.priority,
        description=description))
    new = await repo.update("meeting_action_item", p.tenant_id, action_id, {"case": case.id})
    await log(p, "meeting.action_case_opened", meeting["id"], action_item=action_id, case=case.id)
    return action_out(new)
