"""Bureau downloads: a campaign's assessment reports as one ZIP with a CSV and XLSX summary.

Requested by a member of the housing bureau (`request_export`, in the request's transaction);
the work runs in queue jobs: `start_export` queues a render job for every assessment whose
report does not exist yet (existing reports, signed or not, are taken as they are), each
finished render updates the progress (`report_finished`), and once every report exists
`build_zip` writes the archive to storage, marks the export ready and announces it through the
outbox (`document.export_ready`, to the bureau and the requester: the web page listens on the
live stream and also polls the progress). Every step can run again without harm: renders are
idempotent per job key, progress is recounted from the registry, the ZIP job is queued under
one key per export. A ready ZIP stays downloadable for DOCUMENTS_EXPORT_RETENTION_DAYS; then
`expire_exports` (hourly) marks the export expired and deletes the file, a download answers 410
and the page offers to prepare the campaign's ZIP again.
"""
from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from core import audit, outbox
from core.db import after_commit, db, require_transaction
from core.i18n import gettext as _
from core.problems import AppError, Forbidden, NotFound
from core.queue import queue
from core.settings import get_settings
from core.spreadsheet import formula_safe, xlsx_text
from core.storage import key_for, storage
from documents import export_repository as xr
from documents import report_repository as rr
from documents.jobs import RENDER_TIMEOUT, RETRIES
from documents.report_gather import period_label
from tenancy.principal import Principal

STORAGE_NAMESPACE = "documents-exports"
ZIP = "application/zip"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class ExportExpired(AppError):
    status = 410


def retention() -> timedelta:
    """How long a ready ZIP stays downloadable (DOCUMENTS_EXPORT_RETENTION_DAYS)."""
    return timedelta(days=get_settings().documents_export_retention_days)


def expires_at(row: dict) -> datetime | None:
    """When a ready export's file will be deleted; None for any other state."""
    if row["state"] != "ready" or row["finished_at"] is None:
        return None
    return row["finished_at"] + retention()


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def _bureau_seat(p: Principal):
    seats = p.seats_where(kinds=("housing_bureau",))
    if not seats:
        raise Forbidden(_("Only the housing bureau may download a campaign's reports."))
    return seats[0]


async def request_export(p: Principal, campaign_id: int, *, lang: str) -> dict:
    """Create an export of the campaign's reports and queue its job once this request commits."""
    require_transaction()
    seat = _bureau_seat(p)
    campaign = await rr.campaign(p.tenant_id, campaign_id)
    if campaign is None:
        raise not_found()
    total = len(await rr.campaign_assessments(p.tenant_id, campaign_id))
    label = period_label(campaign["period_start"], campaign["period_end"])
    name = _UNSAFE.sub("_", f"{campaign['name']}_{label}")[:150] + ".zip"
    row = await xr.insert(p.tenant_id, campaign_id, p.user_id, seat.organization_id, total, name)
    await audit.record(p.tenant_id, "document.export_requested", subject_type="document_export",
                       subject_id=row["id"], actor_user_id=p.user_id,
                       actor_org_id=seat.organization_id,
                       data={"campaign": campaign_id, "reports": total})
    export_id = row["id"]

    def enqueue() -> None:
        asyncio.get_running_loop().create_task(
            queue().enqueue("export_campaign", key=f"export:{export_id}", export_id=export_id,
                            lang=lang, timeout=300, retries=3))
    after_commit(enqueue)
    return row


async def get_export(p: Principal, export_id: int) -> dict:
    """An export the caller may see: members of the organisation that requested it."""
    row = await xr.get(p.tenant_id, export_id)
    if row is None or row["organization"] not in p.organization_ids:
        raise not_found()
    return row


async def list_exports(p: Principal, campaign_id: int | None = None) -> list[dict]:
    return await xr.list_for(p.tenant_id, sorted(p.organization_ids), campaign_id)


# --- jobs ------------------------------------------------------------------------------------
async def _reports(tenant_id: int, campaign: dict) -> list[tuple[dict, dict | None]]:
    """(assessment, its report's current version with document fields, or None)."""
    period = period_label(campaign["period_start"], campaign["period_end"])
    assessments = await rr.campaign_assessments(tenant_id, campaign["id"])
    found = await xr.campaign_reports(tenant_id, period, [a["contract"] for a in assessments])
    by_contract = {r["contract"]: r for r in found}
    return [(a, by_contract.get(a["contract"])) for a in assessments]


async def start_export(export_id: int, lang: str = "zh-CN") -> dict:
    from documents.jobs import enqueue_render

    async with db().transaction():
        row = await xr.get_any(export_id, lock=True)
        if row is None or row["state"] in ("ready", "failed", "expired"):
            return {"state": row["state"] if row else "missing"}
        await xr.set_running(export_id)
    tenant = row["tenant"]
    campaign = await rr.campaign(tenant, row["subject_id"])
    if campaign is None:
        await mark_failed(export_id, "the campaign no longer exists")
        return {"state": "failed"}
    pairs = await _reports(tenant, campaign)
    for a, version in pairs:
        if version is None:
            await enqueue_render(
                "render_contract_report", job_key=f"export:{export_id}:a{a['id']}",
                tenant_id=tenant, contract_id=a["contract"],
                start=campaign["period_start"].isoformat(),
                end=campaign["period_end"].isoformat(), assessment_id=a["id"],
                requested_by=row["requested_by"], lang=lang, export_id=export_id)
    return await report_finished(tenant, export_id, total=len(pairs))


# An export whose worker died past all its retries would otherwise show its progress bar for
# ever: after this long without a report of it being registered, it fails and the page offers
# to request it again (a render may take RENDER_TIMEOUT, tried RETRIES times, before the queue
# gives up on it; a late success still completes the ZIP).
STALLED_AFTER_SECONDS = RENDER_TIMEOUT * (RETRIES + 1) + 300


async def fail_stalled_exports() -> list[int]:
    """Fail the exports that made no progress for STALLED_AFTER_SECONDS; returns their ids."""
    async with db().transaction():
        rows = await xr.fail_stalled(STALLED_AFTER_SECONDS)
        for r in rows:
            await audit.record(r["tenant"], "document.export_failed", subject_type="document_export",
                               subject_id=r["id"], data={"reason": "stalled"})
    return sorted(r["id"] for r in rows)


async def mark_failed(export_id: int, error: str) -> None:
    """A report of the export cannot be made (its contract vanished, say): the export fails
    with the reason instead of waiting forever; the page offers to request it again."""
    async with db().transaction():
        await xr.set_failed(export_id, error)


async def expire_exports(now: datetime | None = None) -> list[int]:
    """Expire the exports ready for longer than the retention, and delete each ZIP no other
    export still offers; returns the expired exports' ids. Safe to run again at any point: the
    rows change first (a crash before the deletes leaves only unreferenced files behind, which
    the next run does not see, rather than a ready export without its file)."""
    cutoff = (now or datetime.now(timezone.utc)) - retention()
    async with db().transaction():
        rows = await xr.expire_ready_before(cutoff)
        for r in rows:
            await audit.record(r["tenant"], "document.export_expired",
                               subject_type="document_export", subject_id=r["id"],
                               data={"sha256": r["sha256"]})
    for key in sorted({r["storage_key"] for r in rows if r["storage_key"]}):
        async with db().transaction():
            await xr.lock_file(key)
            if not await xr.key_in_use(key):
                await storage().delete(key)
    return sorted(r["id"] for r in rows)


async def report_finished(tenant_id: int, export_id: int, total: int | None = None) -> dict:
    """Recount the export's progress from the registry; queue the ZIP once all reports exist."""
    row = await xr.get_any(export_id)
    if row is None or row["tenant"] != tenant_id:
        return {"state": "missing"}
    campaign = await rr.campaign(tenant_id, row["subject_id"])
    progress = await xr.campaign_report_progress(
        tenant_id, campaign["id"], period_label(campaign["period_start"], campaign["period_end"]))
    done, total = progress["done"], progress["total"]
    async with db().transaction():
        await xr.set_progress(export_id, done, total)
    if done >= total:
        await queue().enqueue("zip_export", key=f"zip:{export_id}", export_id=export_id,
                              timeout=600, retries=3)
    return {"state": "running", "done": done, "total": total}


def _summary_rows(pairs: list[tuple[dict, dict | None]]) -> tuple[list[str], list[list[Any]]]:
    header = [_("Estate"), _("Property service company"), _("Service contract"),
              _("Assessment status"), _("Total score"), _("Grade"), _("Rank"),
              _("Document number"), _("Version"), _("Document state"), "SHA-256"]
    rows = [[a["estate_name"], a["company_name"], a["contract_number"], a["status"],
             a["total_score"], a["grade"], a["rank"], v["number"] if v else "",
             v["version"] if v else "", v["state"] if v else "", v["sha256"] if v else ""]
            for a, v in pairs]
    return header, rows


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow([formula_safe(c) if isinstance(c, str) else ("" if c is None else c)
                    for c in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for r in rows:
        ws.append([xlsx_text(c) if isinstance(c, str) else c for c in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _entry_name(a: dict, v: dict) -> str:
    return _UNSAFE.sub("_", f"{a['estate_name']}_{v['number']}_v{v['version']}")[:180] + ".pdf"


async def build_zip(export_id: int) -> dict:
    row = await xr.get_any(export_id)
    if row is None or row["state"] in ("ready", "expired"):
        return {"state": row["state"] if row else "missing"}
    tenant = row["tenant"]
    campaign = await rr.campaign(tenant, row["subject_id"])
    pairs = await _reports(tenant, campaign)
    header, rows = _summary_rows(pairs)
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            for a, v in pairs:
                if v is not None:  # PDFs are compressed already: stored, not deflated
                    zf.writestr(_entry_name(a, v), await storage().get(v["storage_key"]))
            zf.writestr("summary.csv", _csv(header, rows), compress_type=zipfile.ZIP_DEFLATED)
            zf.writestr("summary.xlsx", _xlsx(header, rows))
        fh.seek(0)
        data = fh.read()
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    async with db().transaction():
        # ZIPs are stored by content: an unchanged campaign's two exports share one file, which
        # `expire_exports` deletes only once no export offers it; the lock orders the two.
        key = key_for(STORAGE_NAMESPACE, tenant, digest, "zip")
        await xr.lock_file(key)
        stored = await storage().put(key, data, ZIP)
        await xr.set_ready(export_id, stored.key, digest, len(data),
                           sum(1 for _a, v in pairs if v is not None))
        await audit.record(tenant, "document.export_ready", subject_type="document_export",
                           subject_id=export_id, data={"sha256": digest, "size": len(data),
                                                       "reports": len(pairs)})
        await outbox.emit(tenant, "document.export_ready",
                          {"export_id": export_id, "campaign_id": row["subject_id"],
                           "file_name": row["file_name"], "size": len(data)},
                          organizations=[row["organization"]],
                          users=[row["requested_by"]] if row["requested_by"] else [])
    outbox.kick()
    return {"state": "ready", "size": len(data), "sha256": digest}


async def open_export_file(p: Principal, export_id: int) -> tuple[dict, Any]:
    row = await get_export(p, export_id)
    if row["state"] == "expired":
        raise ExportExpired(_("This download expired {days} days after it was prepared; "
                              "prepare the campaign's ZIP again.")
                            .format(days=retention().days), code="expired")
    if row["state"] != "ready" or not row["storage_key"]:
        raise not_found()
    await audit.record(p.tenant_id, "document.export_downloaded", subject_type="document_export",
                       subject_id=export_id, actor_user_id=p.user_id,
                       data={"sha256": row["sha256"]})
    return row, await storage().open(row["storage_key"])
