"""Minutes (会议纪要): drafted from the meeting's structured record (attendance, agenda with the
discussion notes, resolutions with their tallies, action items), edited by the secretary,
circulated to the attendees for review, amended with every change tracked (section, text
before and after, who proposed it, who decided), then final — ready for the documents
pipeline to render and have signed by `signatories(...)`.

Editable sections: "summary" and "agenda:<agenda item id>" (that item's discussion notes).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core import outbox
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, PreconditionFailed
from meetings import repository as repo
from meetings.attendance import quorum
from meetings.meeting_service import TZ, forbidden, invalid, log, manages, not_found, now, visible
from meetings.schemas import AmendmentOut, MinutesOut, MinutesSectionIn
from tenancy.principal import Principal

ROLE_ORDER = ("chair", "vice_chair", "secretary", "member")


def minutes_etag(m: dict) -> str:
    return f'"min{m["meeting"]}v{m["version"]}"'


def minutes_out(m: dict) -> MinutesOut:
    return MinutesOut(meeting_id=m["meeting"], status=m["status"], content=m["content"],
                      version=m["version"], document_id=m["document"],
                      finalized_at=m["finalized_at"])


def amendment_out(a: dict) -> AmendmentOut:
    return AmendmentOut(id=a["id"], section=a["section"], before=a["before"], after=a["after"],
                        note=a["note"], status=a["status"], author_user_id=a["author"],
                        decided_by_user_id=a["decided_by"], created_at=a["created_at"],
                        decided_at=a["decided_at"])


def _iso(value: datetime | None) -> str | None:
    """China time (the papers print it as is)."""
    return value.astimezone(TZ).isoformat() if value else None


async def signatories(meeting: dict, attendance: list[dict]) -> dict[str, Any]:
    """Who must sign, in order, and who seals: owners' committee meetings — every attending
    member (tenant option `majority_of_all`: at least more than half of all members, taken from
    those present), chair first; joint meetings and assemblies — one representative of each
    attending organisation, the convener's last; the convening organisation seals."""
    settings = await repo.settings(meeting["tenant"])
    if meeting["kind"] == "committee":
        roles = await repo.committee_roles(meeting["tenant"], meeting["convener"])
        present = [a for a in attendance if a["committee_member"]]
        chair_first = sorted(present, key=lambda a: (ROLE_ORDER.index(roles.get(a["user"], "member")),
                                                     a["signed_in_at"]))
        needed = len(present) if settings["committee_signers"] == "attending" \
            else len(roles) // 2 + 1
        users = [a["user"] for a in chair_first]
    else:
        seen: dict[int, int] = {}
        for a in attendance:
            if a["organization"] and a["organization"] not in seen:
                seen[a["organization"]] = a["user"]
        order = sorted(seen, key=lambda o: o == meeting["convener"])
        users = [seen[o] for o in order]
        needed = len(users)
    return {"rule": settings["committee_signers"] if meeting["kind"] == "committee" else "organisations",
            "users": users, "required": needed, "seal_organization_id": meeting["convener"]}


async def draft_content(meeting: dict) -> dict[str, Any]:
    tenant, meeting_id = meeting["tenant"], meeting["id"]
    attendance = await repo.attendance(tenant, meeting_id)
    orgs = {o: await repo.organization(tenant, o) for o in
            {meeting["convener"], *(a["organization"] for a in attendance if a["organization"])}}
    agenda = await repo.agenda(tenant, meeting_id)
    resolutions = await repo.rows("meeting_resolution", tenant, meeting_id)
    actions = await repo.rows("meeting_action_item", tenant, meeting_id)
    owners = await repo.user_names(tenant, [a["owner_user"] for a in actions if a["owner_user"]])
    q = await quorum(meeting, attendance)
    return {
        "meeting": {"id": meeting_id, "kind": meeting["kind"], "title": meeting["title"],
                    "estate": await repo.estate_name(tenant, meeting["estate"]),
                    "convener": (orgs[meeting["convener"]] or {}).get("name", ""),
                    "starts_at": _iso(meeting["starts_at"]), "ends_at": _iso(meeting["ends_at"]),
                    "location": meeting["location"], "online_url": meeting["online_url"],
                    "notice_short": meeting["notice_short"],
                    "short_notice_reason": meeting["short_notice_reason"]},
        "attendance": [{"user_id": a["user"], "name": a["display_name"],
                        "organization": (orgs.get(a["organization"]) or {}).get("name", ""),
                        "committee_member": a["committee_member"], "method": a["method"],
                        "signed_in_at": _iso(a["signed_in_at"])} for a in attendance],
        "quorum": {"applies": q.applies, "members": q.members, "present": q.present,
                   "reached": q.reached, "fraction": q.fraction},
        "agenda": [{"id": i["id"], "position": i["position"], "title": i["title"],
                    "description": i["description"], "notes": i["notes"], "case_id": i["case"],
                    "contract_id": i["contract"]} for i in agenda],
        "resolutions": [{"id": r["id"], "title": r["title"], "text": r["text"],
                         "matter": r["matter"], "status": r["status"], "passed": r["passed"],
                         "result": repo.decoded(dict(r), "result")["result"]}  # type: ignore[index]
                        for r in resolutions],
        "action_items": [{"id": a["id"], "title": a["title"],
                          "owner_organization": ((await repo.organization(
                              tenant, a["owner_organization"])) or {}).get("name", "")
                          if a["owner_organization"] else "",
                          "owner_user": owners.get(a["owner_user"], {}).get("display_name", ""),
                          "due_on": a["due_on"].isoformat() if a["due_on"] else None,
                          "case_id": a["case"]} for a in actions],
        "summary": "",
        "signatories": await signatories(meeting, attendance),
        "generated_at": now().isoformat(),
    }


async def _managed_meeting(p: Principal, meeting_id: int) -> dict:
    meeting = await visible(p, meeting_id, lock=True)
    if not manages(p, meeting):
        raise forbidden()
    return meeting


async def _record_reader(p: Principal, meeting_id: int) -> dict:
    from meetings.attendance import reads_record

    meeting = await visible(p, meeting_id)
    if not await reads_record(p, meeting):
        raise not_found()
    return meeting


async def get_minutes(p: Principal, meeting_id: int) -> MinutesOut:
    await _record_reader(p, meeting_id)
    m = await repo.minutes(p.tenant_id, meeting_id)
    if m is None:
        raise not_found()
    return minutes_out(m)


async def draft_minutes(p: Principal, meeting_id: int) -> MinutesOut:
    """Create the draft from the record, or rebuild a draft (keeping its summary and notes)."""
    meeting = await _managed_meeting(p, meeting_id)
    if meeting["status"] not in ("in_progress", "ended"):
        raise Conflict(_("Minutes are drafted once the meeting has started."))
    content = await draft_content(meeting)
    m = await repo.minutes(p.tenant_id, meeting_id, lock=True)
    if m is None:
        m = await repo.insert("meeting_minutes", {"tenant": p.tenant_id, "meeting": meeting_id,
                                                  "content": content})
    else:
        if m["status"] != "draft":
            raise Conflict(_("Only a draft can be rebuilt from the meeting's record."))
        content["summary"] = m["content"].get("summary", "")
        await repo.update("meeting_minutes", p.tenant_id, m["id"],
                          {"content": content, "updated_at": now()}, bump=True)
    await log(p, "meeting.minutes_drafted", meeting_id)
    return minutes_out(await repo.minutes(p.tenant_id, meeting_id))  # type: ignore[arg-type]


def _section_text(content: dict, section: str) -> str:
    if section == "summary":
        return content.get("summary", "")
    if section.startswith("agenda:") and section[7:].isdigit():
        for item in content.get("agenda", []):
            if item["id"] == int(section[7:]):
                return item.get("notes", "")
    raise invalid("section", _("There is no such section in these minutes."))


def _apply(content: dict, section: str, text: str) -> dict:
    if section == "summary":
        return {**content, "summary": text}
    item_id = int(section[7:])
    return {**content, "agenda": [{**i, "notes": text} if i["id"] == item_id else i
                                  for i in content.get("agenda", [])]}


async def _minutes_row(p: Principal, meeting_id: int) -> dict:
    m = await repo.minutes(p.tenant_id, meeting_id, lock=True)
    if m is None:
        raise not_found()
    return m


async def edit_section(p: Principal, meeting_id: int, data: MinutesSectionIn,
                       if_match: str | None) -> MinutesOut:
    """The secretary edits a section (draft or review); the change is tracked as applied."""
    await _managed_meeting(p, meeting_id)
    m = await _minutes_row(p, meeting_id)
    if if_match is not None and if_match.strip() not in (minutes_etag(m), "*"):
        raise PreconditionFailed(_("These minutes were changed by someone else; reload them and "
                                   "try again."))
    if m["status"] == "final":
        raise Conflict(_("Final minutes cannot be changed."))
    before = _section_text(m["content"], data.section)
    await repo.insert("meeting_minutes_amendment", {
        "tenant": p.tenant_id, "minutes": m["id"], "section": data.section, "before": before,
        "after": data.text, "note": data.note, "status": "applied", "author": p.user_id,
        "decided_by": p.user_id, "decided_at": now()})
    await repo.update("meeting_minutes", p.tenant_id, m["id"], {
        "content": _apply(m["content"], data.section, data.text), "updated_at": now()}, bump=True)
    await log(p, "meeting.minutes_edited", meeting_id, section=data.section)
    return minutes_out(await repo.minutes(p.tenant_id, meeting_id))  # type: ignore[arg-type]


async def start_review(p: Principal, meeting_id: int) -> MinutesOut:
    meeting = await _managed_meeting(p, meeting_id)
    m = await _minutes_row(p, meeting_id)
    if m["status"] != "draft":
        raise Conflict(_("Only a draft can be circulated for review."))
    await repo.update("meeting_minutes", p.tenant_id, m["id"], {"status": "review",
                                                                "updated_at": now()}, bump=True)
    attendees = [a["user"] for a in await repo.attendance(p.tenant_id, meeting_id)]
    await outbox.emit(p.tenant_id, "meeting.minutes_review", {
        "meeting_id": meeting_id, "title": meeting["title"]}, users=attendees)
    await log(p, "meeting.minutes_review", meeting_id, reviewers=attendees)
    return minutes_out(await repo.minutes(p.tenant_id, meeting_id))  # type: ignore[arg-type]


async def list_amendments(p: Principal, meeting_id: int) -> list[AmendmentOut]:
    await _record_reader(p, meeting_id)
    m = await repo.minutes(p.tenant_id, meeting_id)
    if m is None:
        raise not_found()
    return [amendment_out(a) for a in await repo.amendments(p.tenant_id, m["id"])]


async def propose_amendment(p: Principal, meeting_id: int, data: MinutesSectionIn) -> AmendmentOut:
    """An attendee proposes a change while the minutes are in review."""
    meeting = await visible(p, meeting_id)
    attendees = {a["user"] for a in await repo.attendance(p.tenant_id, meeting_id)}
    if p.user_id not in attendees and not manages(p, meeting):
        raise Forbidden(_("Only the meeting's attendees review its minutes."))
    m = await _minutes_row(p, meeting_id)
    if m["status"] != "review":
        raise Conflict(_("Amendments are proposed while the minutes are in review."))
    row = await repo.insert("meeting_minutes_amendment", {
        "tenant": p.tenant_id, "minutes": m["id"], "section": data.section,
        "before": _section_text(m["content"], data.section), "after": data.text,
        "note": data.note, "author": p.user_id})
    await log(p, "meeting.amendment_proposed", meeting_id, amendment=row["id"],
              section=data.section)
    return amendment_out(row)


async def decide_amendment(p: Principal, amendment_id: int, accept: bool) -> AmendmentOut:
    a = await repo.row("meeting_minutes_amendment", p.tenant_id, amendment_id, lock=True)
    if a is None:
        raise not_found()
    m = repo.decoded(await repo.row("meeting_minutes", p.tenant_id, a["minutes"], lock=True),
                     "content")
    await _managed_meeting(p, m["meeting"])  # type: ignore[index]
    if a["status"] != "proposed" or m["status"] != "review":  # type: ignore[index]
        raise Conflict(_("This amendment has already been decided."))
    if accept:
        if _section_text(m["content"], a["section"]) != a["before"]:  # type: ignore[index]
            raise Conflict(_("The section changed since this amendment was proposed; propose it "
                             "again on the current text."))
        await repo.update("meeting_minutes", p.tenant_id, m["id"], {  # type: ignore[index]
            "content": _apply(m["content"], a["section"], a["after"]),  # type: ignore[index]
            "updated_at": now()}, bump=True)
    row = await repo.update("meeting_minutes_amendment", p.tenant_id, amendment_id, {
        "status": "accepted" if accept else "rejected", "decided_by": p.user_id,
        "decided_at": now()})
    await log(p, "meeting.amendment_decided", m["meeting"], amendment=amendment_id,  # type: ignore[index]
              accepted=accept)
    return amendment_out(row)


async def finalize(p: Principal, meeting_id: int) -> MinutesOut:
    meeting = await _managed_meeting(p, meeting_id)
    m = await _minutes_row(p, meeting_id)
    if m["status"] != "review":
        raise Conflict(_("Minutes become final after their review."))
    if meeting["status"] != "ended":
        raise Conflict(_("End the meeting before finalising its minutes."))
    if any(a["status"] == "proposed" for a in await repo.amendments(p.tenant_id, m["id"])):
        raise Conflict(_("Decide every proposed amendment first."))
    attendance = await repo.attendance(p.tenant_id, meeting_id)
    content = {**m["content"], "signatories": await signatories(meeting, attendance)}
    await repo.update("meeting_minutes", p.tenant_id, m["id"], {
        "status": "final", "content": content, "finalized_at": now(), "updated_at": now()},
        bump=True)
    await log(p, "meeting.minutes_final", meeting_id)
    return minutes_out(await repo.minutes(p.tenant_id, meeting_id))  # type: ignore[arg-type]
