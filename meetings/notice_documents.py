"""The public notice as a PDF: rendered by the documents pipeline from
pdf_templates/meetings/notice_pdf.html and registered as a `notice` document (no signers: it
copies minutes that are already sealed, and names them), so its QR code verifies like every
other paper. The estate's owners download it through the meetings API, which checks that they
may read the notice (owners read no documents directly)."""
from __future__ import annotations

import asyncio
from datetime import datetime

import anyio

from core.db import after_commit, db
from core.i18n import gettext as _
from core.settings import get_settings
from documents import jobs as document_jobs
from documents import pdfa
from documents import service as registry
from documents.rendering import Header, render_pdf
from meetings import repository as repo
from meetings.meeting_service import TZ
from meetings.printing import CHECK_LABELS, CHOICE_LABELS, KIND_LABELS

TEMPLATE = "meetings/notice_pdf.html"
_PENDING: set[asyncio.Task] = set()  # enqueue tasks started after commit (kept referenced)


def job_key(notice_id: int) -> str:
    return f"meetings:notice:{notice_id}"


def queue_render(tenant_id: int, notice_id: int) -> None:
    """Ask for the PDF once the notice is committed (the job reads it)."""
    async def enqueue() -> None:
        await document_jobs.enqueue_render("render_notice", job_key=job_key(notice_id),
                                           tenant_id=tenant_id, notice_id=notice_id,
                                           lang=get_settings().default_language)

    def start() -> None:
        task = asyncio.get_running_loop().create_task(enqueue())
        _PENDING.add(task)
        task.add_done_callback(_PENDING.discard)

    after_commit(start)


async def produce_notice(tenant_id: int, notice_id: int, *, lang: str) -> dict:
    async with db().transaction():
        notice = await repo.notice(tenant_id, notice_id)
        if notice is None:
            raise ValueError(f"no notice {notice_id}")
        meeting = await repo.row("meeting", tenant_id, notice["meeting"])
        convener = await repo.organization(tenant_id, meeting["convener"]) or {"name": ""}
        invited = await repo.invitees(tenant_id, [meeting["id"]])
    key = job_key(notice_id)
    content = notice["content"]
    title = _("Public notice: {title}").format(title=notice["title"])
    header = Header(
        title=title, number=registry.document_number("notice", "meeting_notice", notice_id, ""),
        version=1, issuer=convener["name"], issued_on=notice["posted_at"].astimezone(TZ).date(),
        verify_code=registry.verify_code_for(tenant_id, key),
        lines=[(_("Estate"), content["meeting"]["estate"])])
    sealed = content.get("sealed") or {}
    context = {
        "header": header, "notice": notice, "content": content, "kind_labels": KIND_LABELS,
        "choice_labels": CHOICE_LABELS, "check_labels": CHECK_LABELS,
        "period_start": _day(notice["posted_at"]), "period_end": _day(notice["posted_until"]),
        "minutes_number": registry.document_number("minutes", "meeting", meeting["id"], "")
        if sealed else ""}
    rendered = await anyio.to_thread.run_sync(lambda: render_pdf(
        TEMPLATE, context, signers=[], lang=lang,
        attachments=[pdfa.json_attachment(content, "Public notice (masked record)")]))
    async with db().transaction():
        version = await registry.register_version(
            tenant_id=tenant_id, kind="notice", subject_type="meeting_notice",
            subject_id=notice_id, period="", title=title,
            owner_organization_id=meeting["convener"], estate_id=meeting["estate"],
            organizations=sorted({i["organization"] for i in invited if i["organization"]}),
            pdf=rendered.pdf, page_count=rendered.page_count, signers=[], source=content,
            template=TEMPLATE, job_key=key, expected_version=1)
        await repo.update("meeting_notice", tenant_id, notice_id, {
            "document": version["document"], "pdf_key": version["storage_key"],
            "pdf_sha256": version["sha256"], "pdf_size": version["size"]})
        return version


def _day(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d")
