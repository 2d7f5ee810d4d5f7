"""Attendance: signing in during a meeting, by the attendee on their phone or recorded by the
secretary, and the live quorum of owners' committee meetings (more than half of all members
present). Nobody attends for someone else: a proxy is refused (owners' committee members must
attend and vote in person; at other meetings the person who comes signs in themselves)."""
from __future__ import annotations

from fractions import Fraction

from core import outbox
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid
from meetings import repository as repo
from meetings.meeting_service import invalid, log, manages, visible
from meetings.schemas import AttendanceIn, AttendanceOut, AttendeeOut, QuorumOut
from meetings.voting import committee_quorum
from tenancy import service as places
from tenancy.principal import Principal


async def eligibility(meeting: dict, user_id: int) -> tuple[bool, int | None, bool] | None:
    """(invited, organisation represented, counts as owners' committee member) of a person,
    or None when they have no place at this meeting."""
    tenant = meeting["tenant"]
    invited = await repo.invitees(tenant, [meeting["id"]])
    orgs = [meeting["convener"], *(i["organization"] for i in invited if i["organization"])]
    memberships = {m["organization"] for m in await repo.user_orgs(tenant, user_id)}
    member = False
    if meeting["kind"] == "committee":
        member = user_id in await repo.committee_members(tenant, meeting["convener"])
    org = next((o for o in orgs if o in memberships), None)
    if org is not None or member:
        return True, org, member
    if any(i["user"] == user_id for i in invited):
        return True, None, False
    if meeting["kind"] == "assembly":
        person = (await repo.user_names(tenant, [user_id])).get(user_id, {}).get("person")
        if person is not None and meeting["estate"] in await places.owned_estates(tenant, person):
            return True, None, False
    return None


async def quorum(meeting: dict, rows: list[dict] | None = None) -> QuorumOut:
    if meeting["kind"] != "committee":
        return QuorumOut(applies=False, members=0, present=0, reached=True, fraction="0/1")
    members = set(await repo.committee_members(meeting["tenant"], meeting["convener"]))
    rows = rows if rows is not None else await repo.attendance(meeting["tenant"], meeting["id"])
    present = len({r["user"] for r in rows if r["committee_member"] and r["user"] in members})
    f = Fraction(present, len(members)) if members else Fraction(0)
    return QuorumOut(applies=True, members=len(members), present=present,
                     reached=committee_quorum(len(members), present),
                     fraction=f"{f.numerator}/{f.denominator}")


async def attendance_out(meeting: dict) -> AttendanceOut:
    rows = await repo.attendance(meeting["tenant"], meeting["id"])
    return AttendanceOut(
        attendees=[AttendeeOut(user_id=r["user"], name=r["display_name"],
                               organization_id=r["organization"],
                               committee_member=r["committee_member"], method=r["method"],
                               signed_in_at=r["signed_in_at"]) for r in rows],
        quorum=await quorum(meeting, rows))


async def reads_record(p: Principal, meeting: dict) -> bool:
    """Who reads the meeting's own record (names of attendees, draft minutes): organisations
    that see the meeting, and the people who attended. Owners who see an owners' assembly only
    as owners read its public notice instead (PIPL: no names of other owners)."""
    if p.seats:
        return True
    return any(r["user"] == p.user_id for r in await repo.attendance(meeting["tenant"],
                                                                     meeting["id"]))


async def get_attendance(p: Principal, meeting_id: int) -> AttendanceOut:
    meeting = await visible(p, meeting_id)
    out = await attendance_out(meeting)
    if not await reads_record(p, meeting):
        out.attendees = [a for a in out.attendees if a.user_id == p.user_id]
    return out


async def sign_in(p: Principal, meeting_id: int, data: AttendanceIn) -> AttendanceOut:
    meeting = await visible(p, meeting_id, lock=True)
    if data.proxy_for_user_id is not None:
        message = (_("No proxies: owners' committee members attend and vote in person.")
                   if meeting["kind"] == "committee"
                   else _("Proxies are not recorded: the person who attends signs in."))
        raise Invalid(message, errors=[{"field": "proxy_for_user_id", "message": message}])
    recorded = data.user_id is not None and data.user_id != p.user_id
    if recorded and not manages(p, meeting):
        raise Forbidden(_("Only the convening organisation's secretary may do this."))
    if meeting["status"] != "in_progress":
        raise Conflict(_("Attendance is taken while the meeting is in progress."))
    user_id = data.user_id if recorded else p.user_id
    place = await eligibility(meeting, user_id)
    if place is None:
        if recorded:
            raise invalid("user_id", _("This person is not invited to this meeting."))
        raise Forbidden(_("You are not invited to this meeting."))
    _invited, org, member = place
    row = await repo.add_attendance({
        "tenant": p.tenant_id, "meeting": meeting_id, "user": user_id, "organization": org,
        "committee_member": member, "method": "secretary" if recorded else "self",
        "recorded_by": p.user_id})
    if row is None:
        raise Conflict(_("This person is already signed in."))
    await log(p, "meeting.signed_in", meeting_id, user=user_id, organization=org,
              method=row["method"])
    out = await attendance_out(meeting)
    await outbox.emit(p.tenant_id, "meeting.attendance", {
        "meeting_id": meeting_id, "present": len(out.attendees),
        "quorum_reached": out.quorum.reached}, organizations=[meeting["convener"]])
    return out
