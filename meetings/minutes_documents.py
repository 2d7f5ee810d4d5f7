"""Final minutes through the documents pipeline: rendered in a queue worker from
pdf_templates/meetings/minutes.html (extending the shared base), registered as a `minutes`
document of the meeting with its ordered signer list, opened for signing at once.

Signers, in order: owners' committee meetings — every attending member, chair first (tenant
option `majority_of_all`: the first more-than-half of ALL members among those present);
joint meetings and assemblies — one representative per attending organisation (the first of
them to sign in), the convener's last; then the convening organisation's seal, applied by its
secretary roles. A signer signs only in turn (documents.service enforces it); the minutes count
once `sealed`. Signing itself is documents.signing_service.
"""
from __future__ import annotations

from datetime import datetime

import anyio

from core.db import db
from core.i18n import N_
from core.i18n import gettext as _
from core.problems import Conflict
from core.settings import get_settings
from documents import jobs as document_jobs
from documents import pdfa
from documents import service as registry
from documents.rendering import Header, render_pdf
from documents.schemas import Signer
from meetings import repository as repo
from meetings.meeting_service import CONVENERS, TZ, forbidden, manages, visible
from meetings.minutes_service import signatories
from meetings.printing import CHECK_LABELS, CHOICE_LABELS, KIND_LABELS
from tenancy.principal import Principal

TEMPLATE = "meetings/minutes.html"
ROLE_LABELS = {"chair": N_("Owners' committee chair"),
               "vice_chair": N_("Owners' committee vice chair"),
               "secretary": N_("Owners' committee member"), "member": N_("Owners' committee member")}


async def minutes_signers(meeting: dict, attendance: list[dict]) -> list[Signer]:
    tenant = meeting["tenant"]
    plan = await signatories(meeting, attendance)
    users = plan["users"][:plan["required"]]
    names = await repo.user_names(tenant, users)
    by_user = {a["user"]: a for a in attendance}
    roles = await repo.committee_roles(tenant, meeting["convener"]) \
        if meeting["kind"] == "committee" else {}
    out: list[Signer] = []
    for i, user in enumerate(users, start=1):
        org_id = by_user[user]["organization"] or meeting["convener"]
        org = await repo.organization(tenant, org_id) or {"name": ""}
        role_label = ROLE_LABELS[roles.get(user) or "member"]
        role = (_(role_label)
                if meeting["kind"] == "committee" else _("Representative"))
        out.append(Signer(field_name=f"sig_{i}", kind="person", role=role,
                          organization=org["name"], organization_id=org_id, user_id=user,
                          person_id=names.get(user, {}).get("person"),
                          name=names.get(user, {}).get("display_name", "")))
    convener = await repo.organization(tenant, meeting["convener"]) or {"name": "", "kind": ""}
    seal_roles = sorted({"admin", *CONVENERS[meeting["kind"]].get(convener["kind"], ())})
    out.append(Signer(field_name="seal_convener", kind="seal", role=_("Seal of the convener"),
                      organization=convener["name"], organization_id=meeting["convener"],
                      roles=seal_roles))
    return out


def job_key(meeting_id: int, minutes_version: int) -> str:
    return f"meetings:minutes:{meeting_id}:v{minutes_version}"


async def request_render(p: Principal, meeting_id: int) -> str:
    """Queue the rendering of the final minutes (the secretary); returns the job key."""
    meeting = await visible(p, meeting_id)
    if not manages(p, meeting):
        raise forbidden()
    m = await repo.minutes(p.tenant_id, meeting_id)
    if m is None or m["status"] != "final":
        raise Conflict(_("Only final minutes are rendered for signing."))
    if m["document"] is not None:
        raise Conflict(_("These minutes have already been rendered for signing."))
    key = job_key(meeting_id, m["version"])
    await document_jobs.enqueue_render("render_minutes", job_key=key, tenant_id=p.tenant_id,
                                       meeting_id=meeting_id, requested_by=p.user_id,
                                       lang=get_settings().default_language)
    return key


async def produce_minutes(tenant_id: int, meeting_id: int, *, job_key: str,
                          requested_by: int | None, lang: str) -> dict:
    """Render and register the meeting's final minutes (in a worker); returns the version row."""
    async with db().transaction():
        meeting = await repo.row("meeting", tenant_id, meeting_id)
        m = await repo.minutes(tenant_id, meeting_id)
        if meeting is None or m is None or m["status"] != "final":
            raise ValueError(f"meeting {meeting_id} has no final minutes")
        attendance = await repo.attendance(tenant_id, meeting_id)
        signers = await minutes_signers(meeting, attendance)
        convener = await repo.organization(tenant_id, meeting["convener"]) or {"name": ""}
        invited = await repo.invitees(tenant_id, [meeting_id])
    concerned = sorted({*(i["organization"] for i in invited if i["organization"]),
                        *(a["organization"] for a in attendance if a["organization"])})
    content = m["content"]
    title = _("Minutes: {title}").format(title=meeting["title"])
    starts: datetime = meeting["starts_at"]
    kind_label = KIND_LABELS[meeting["kind"]]
    header = Header(
        title=title, number=registry.document_number("minutes", "meeting", meeting_id, ""),
        version=1, issuer=convener["name"], issued_on=datetime.now(TZ).date(),
        verify_code=registry.verify_code_for(tenant_id, job_key),
        subtitle=_(kind_label),
        lines=[(_("Estate"), content["meeting"]["estate"]),
               (_("Time"), starts.astimezone(TZ).strftime("%Y-%m-%d %H:%M")),
               (_("Place"), meeting["location"] or meeting["online_url"])])
    context = {"header": header, "content": content, "kind_labels": KIND_LABELS,
               "choice_labels": CHOICE_LABELS, "check_labels": CHECK_LABELS}
    rendered = await anyio.to_thread.run_sync(lambda: render_pdf(
        TEMPLATE, context, signers=signers, lang=lang, attachments=[
            pdfa.json_attachment(content, "Meeting minutes (structured record)")]))
    async with db().transaction():
        # one final text, one job key: a retried job gets the version its first run registered
        version = await registry.register_version(
            tenant_id=tenant_id, kind="minutes", subject_type="meeting", subject_id=meeting_id,
            period="", title=title, owner_organization_id=meeting["convener"],
            estate_id=meeting["estate"], organizations=concerned, pdf=rendered.pdf,
            page_count=rendered.page_count, signers=rendered.signers, source=content,
            template=TEMPLATE, job_key=job_key, created_by=requested_by, open_for_signing=True,
            expected_version=1)
        await repo.update("meeting_minutes", tenant_id, m["id"], {"document": version["document"]})
        return version
