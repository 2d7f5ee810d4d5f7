"""Queue jobs of the documents package (gongzhi.worker registers them).

Rendering runs here, never in the web process. Every job is safe to run again: a render job
registers its PDF under its job key in one transaction (documents.service.register_version), so
a worker killed mid-render leaves nothing registered and the retried job (the queue sweeps jobs
past their timeout back in, up to `RETRIES` attempts) makes exactly one version. Each render
job records its stage in Redis (`render_stage`) for progress displays and tests. Every 10
minutes `fail_stalled_exports` fails the campaign exports that have registered no report for
longer than a render can be retried (documents.exports.STALLED_AFTER_SECONDS); every hour
`expire_exports` expires the ZIPs past DOCUMENTS_EXPORT_RETENTION_DAYS and deletes their files.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from saq import CronJob

from core import i18n, outbox
from core.problems import AppError
from core.queue import queue
from core.redis import key, redis
from documents import reports

log = logging.getLogger("gongzhi.documents")
RENDER_TIMEOUT = 600  # seconds a render may take before the queue considers its worker dead
RETRIES = 3
STAGE_TTL = 3600


def _stage_key(job_key: str) -> str:
    return key("documents", "render", job_key)


async def set_stage(job_key: str, stage: str) -> None:
    try:
        await redis().set(_stage_key(job_key), stage, ex=STAGE_TTL)
    except Exception:  # progress is informative only; never fail a render over it
        log.warning("documents: could not record stage %s of %s", stage, job_key)


async def render_stage(job_key: str) -> str | None:
    """gathering | rendering | registered | failed, or None when unknown."""
    value = await redis().get(_stage_key(job_key))
    return value.decode() if isinstance(value, bytes) else value


async def render_contract_report(ctx: Any, *, tenant_id: int, contract_id: int, start: str,
                                 end: str, job_key: str, assessment_id: int | None = None,
                                 requested_by: int | None = None, lang: str = "zh-CN",
                                 export_id: int | None = None) -> dict:
    """Render and register one contract's assessment report for [start, end] (ISO dates)."""
    token = i18n.set_language(lang)
    try:
        await set_stage(job_key, "rendering")
        version = await reports.produce_contract_report(
            tenant_id, contract_id, date.fromisoformat(start), date.fromisoformat(end),
            job_key=job_key, assessment_id=assessment_id, requested_by=requested_by, lang=lang)
        await set_stage(job_key, "registered")
    except Exception as exc:
        await set_stage(job_key, "failed")
        if export_id is not None and isinstance(exc, AppError):  # will not succeed on retry
            from documents import exports

            await exports.mark_failed(export_id, f"contract {contract_id}: {exc.detail}")
        raise
    finally:
        i18n.reset_language(token)
    outbox.kick()  # no request commits for us: ask for the publisher ourselves
    if export_id is not None:
        from documents import exports

        await exports.report_finished(tenant_id, export_id)
    return {"document_id": version["document"], "version": version["version"],
            "sha256": version["sha256"]}


async def render_company_report(ctx: Any, *, tenant_id: int, company_id: int, start: str,
                                end: str, job_key: str, requested_by: int | None = None,
                                lang: str = "zh-CN") -> dict:
    token = i18n.set_language(lang)
    try:
        await set_stage(job_key, "rendering")
        version = await reports.produce_company_report(
            tenant_id, company_id, date.fromisoformat(start), date.fromisoformat(end),
            job_key=job_key, requested_by=requested_by, lang=lang)
        await set_stage(job_key, "registered")
    except Exception:
        await set_stage(job_key, "failed")
        raise
    finally:
        i18n.reset_language(token)
    outbox.kick()
    return {"document_id": version["document"], "version": version["version"],
            "sha256": version["sha256"]}


WARM_UP_HTML = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
                '<link rel="stylesheet" href="print.css"></head><body><h1>共治</h1>'
                '<p>物业服务评价报告 Gongzhi</p></body></html>')


def warm_up() -> bytes:
    """What a worker's first render would otherwise pay for (about a second): WeasyPrint with
    the print stylesheet and the CJK fonts (one short page laid out and written as PDF/A),
    pyHanko and the stamp font. `gongzhi worker` runs it once at start; returns the page."""
    from documents import pdfa, rendering, signing

    pdf = rendering.layout(WARM_UP_HTML).write_pdf(pdf_variant=pdfa.PDF_VARIANT,
                                                   finisher=pdfa.serialise_once)
    signing.subset_font(signing.printable("共治"))
    return pdf


async def enqueue_render(function: str, *, job_key: str, timeout: int = RENDER_TIMEOUT,
                         **kwargs: Any) -> None:
    """Queue a render job once per job key (a second enqueue of the same key is ignored)."""
    await set_stage(job_key, "queued")
    await queue().enqueue(function, key=job_key, job_key=job_key, timeout=timeout,
                          retries=RETRIES, **kwargs)


async def export_campaign(ctx: Any, *, export_id: int, lang: str = "zh-CN") -> dict:
    from documents import exports

    return await exports.start_export(export_id, lang)


async def zip_export(ctx: Any, *, export_id: int) -> dict:
    from documents import exports

    return await exports.build_zip(export_id)


async def fail_stalled_exports(ctx: Any) -> dict:
    from documents import exports

    failed = await exports.fail_stalled_exports()
    if failed:
        log.warning("exports %s made no progress for %d minutes and were marked failed",
                    failed, exports.STALLED_AFTER_SECONDS // 60)
    return {"failed": failed}


async def expire_exports(ctx: Any) -> dict:
    from documents import exports

    expired = await exports.expire_exports()
    if expired:
        log.info("exports %s expired and their files were deleted", expired)
    return {"expired": expired}


FUNCTIONS = [render_contract_report, render_company_report, export_campaign, zip_export]
CRON_JOBS: list = [CronJob(fail_stalled_exports, cron="*/10 * * * *", timeout=120),
                   CronJob(expire_exports, cron="17 * * * *", timeout=600)]
