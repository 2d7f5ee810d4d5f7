"""Public notices (公示): a copy of a meeting's final minutes with personal data masked, posted
on the estate's notice page for the tenant's period (default 3 days), readable and
downloadable by the estate's owners and the organisations covering the estate.

Masking: every name of a person (attendees, action-item owners) becomes `张*`; every name and
phone number of anyone known to the meeting (attendees, owners of the estate) is masked
wherever it appears in free text (summary, notes, titles), and any remaining mainland mobile
or landline number in the text is masked by pattern. Owners are never listed by name: votes
appear only as tallies.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from core import outbox
from core.i18n import gettext as _
from core.problems import Conflict
from documents import service as registry
from meetings import repository as repo
from meetings.meeting_service import forbidden, log, manages, not_found, now, visible
from meetings.schemas import NoticeOut
from tenancy import service as places
from tenancy.masking import mask_name, mask_phone
from tenancy.principal import Principal

PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"
                   r"|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
TEXT_FIELDS = ("title", "description", "notes", "text", "summary", "short_notice_reason")


def notice_out(n: dict) -> NoticeOut:
    return NoticeOut(id=n["id"], meeting_id=n["meeting"], estate_id=n["estate"], title=n["title"],
                     content=n["content"], posted_at=n["posted_at"],
                     posted_until=n["posted_until"], status=n["status"])


def mask_text(text: str, names: list[str], phones: list[str]) -> str:
    """`text` with each known name and phone masked, then any phone-like number."""
    for phone in sorted({p for p in phones if p}, key=len, reverse=True):
        text = text.replace(phone, mask_phone(phone) or "")
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        text = text.replace(name, mask_name(name) or "")
    return PHONE.sub(lambda m: mask_phone(m.group(0)) or "", text)


def masked_copy(content: dict[str, Any], names: list[str], phones: list[str]) -> dict[str, Any]:
    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str):
            if key in ("name", "owner_user"):
                return mask_name(value) or ""
            return mask_text(value, names, phones)
        return value

    out = walk({k: v for k, v in content.items() if k != "signatories"})
    for a in out.get("attendance", []):
        a.pop("user_id", None)
    return out


async def _known_people(meeting: dict, content: dict) -> tuple[list[str], list[str]]:
    tenant = meeting["tenant"]
    user_ids = [a["user"] for a in await repo.attendance(tenant, meeting["id"])]
    users = await repo.user_names(tenant, user_ids)
    names = [a.get("name", "") for a in content.get("attendance", [])]
    names += [a.get("owner_user", "") for a in content.get("action_items", [])]
    names += [u["display_name"] for u in users.values()]
    names += [u["person_name"] for u in users.values() if u["person_name"]]
    phones = [u["phone"] for u in users.values() if u["phone"]]
    persons = {p for u in await repo.register(tenant, meeting["estate"]) for p in u["owners"]}
    for person in (await repo.person_names(tenant, sorted(persons))).values():
        names.append(person["name"])
        if person["phone"]:
            phones.append(person["phone"])
    # Anyone else of the tenant's register or users named in the text (an owner of another
    # estate, a staff member mentioned in the discussion).
    for person in await repo.people_named_in(tenant, _all_text([meeting["title"], content])):
        names.append(person["name"])
        if person["phone"]:
            phones.append(person["phone"])
    # Longest first, so that a full name is masked before a shorter name inside it.
    return sorted(set(filter(None, names)), key=len, reverse=True), phones


def _all_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_all_text(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return "\n".join(_all_text(v) for v in value)
    return ""


async def post_notice(p: Principal, meeting_id: int) -> NoticeOut:
    meeting = await visible(p, meeting_id, lock=True)
    if not manages(p, meeting):
        raise forbidden()
    m = await repo.minutes(p.tenant_id, meeting_id)
    if m is None or m["status"] != "final" or m["document"] is None:
        raise Conflict(_("Only final minutes, signed and sealed, can be posted publicly."))
    _doc, version = await registry.get_version(p, m["document"])
    if version["state"] != "sealed":
        raise Conflict(_("Only final minutes, signed and sealed, can be posted publicly."))
    if await repo.rows("meeting_notice", p.tenant_id, meeting_id):
        raise Conflict(_("These minutes are already posted."))
    names, phones = await _known_people(meeting, m["content"])
    content = masked_copy(m["content"], names, phones)
    days = (await repo.settings(p.tenant_id))["notice_post_days"]
    at = now()
    content["sealed"] = {"document_id": version["document"], "version": version["version"],
                         "sha256": version["sha256"], "verify_code": version["verify_code"]}
    row = await repo.insert("meeting_notice", {
        "tenant": p.tenant_id, "meeting": meeting_id, "estate": meeting["estate"],
        "title": mask_text(meeting["title"], names, phones), "content": content,
        "posted_at": at, "posted_until": at + timedelta(days=days), "posted_by": p.user_id})
    await log(p, "meeting.notice_posted", meeting_id, notice=row["id"], days=days)
    from meetings.notice_documents import queue_render

    queue_render(p.tenant_id, row["id"])
    orgs = await places.organizations_covering_estate(
        p.tenant_id, meeting["estate"], ["owners_committee", "residents_committee"])
    await outbox.emit(p.tenant_id, "meeting.notice_posted", {
        "meeting_id": meeting_id, "notice_id": row["id"], "estate_id": meeting["estate"],
        "posted_until": row["posted_until"].isoformat()}, organizations=orgs)
    return notice_out(repo.decoded(row, "content"))  # type: ignore[arg-type]


async def readable_estates(p: Principal) -> list[int] | None:
    """Estates whose notices the caller reads (None: the whole tenant)."""
    if p.tenant_wide:
        return None
    owned = await places.owned_estates(p.tenant_id, p.person_id) if p.person_id else []
    return sorted({*p.estates, *owned})


async def list_notices(p: Principal, *, estate_id: int | None,
                       current_only: bool) -> list[NoticeOut]:
    estates = await readable_estates(p)
    if estate_id is not None:
        estates = [estate_id] if estates is None or estate_id in estates else []
    return [notice_out(n) for n in await repo.notices(p.tenant_id, estates,
                                                      current_only=current_only)]


async def get_notice(p: Principal, notice_id: int) -> NoticeOut:
    n = await repo.notice(p.tenant_id, notice_id)
    estates = await readable_estates(p)
    if n is None or (estates is not None and n["estate"] not in estates):
        raise not_found()
    return notice_out(n)


async def notice_pdf(p: Principal, notice_id: int):
    """(notice row, chunks) of the notice's PDF for whoever may read the notice; None while it
    is being rendered."""
    await get_notice(p, notice_id)
    n = await repo.notice(p.tenant_id, notice_id)
    if n is None or n["pdf_key"] is None:
        return None
    from core.storage import storage

    return n, await storage().open(n["pdf_key"])


async def expire_notices() -> int:
    """Job: notices whose period ended leave the notice page (kept for the record)."""
    expired = await repo.expire_notices(now())
    for n in expired:
        from core import audit

        await audit.record(n["tenant"], "meeting.notice_expired", subject_type="meeting",
                           subject_id=n["meeting"], data={"notice": n["id"]})
    return len(expired)
