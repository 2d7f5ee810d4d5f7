"""Queue jobs of the meetings package (gongzhi.worker registers them)."""
from __future__ import annotations

from typing import Any

from saq import CronJob

from core.db import db


async def expire_meeting_notices(ctx: Any = None) -> int:
    """Public notices whose posting period ended leave the estates' notice pages."""
    from meetings.notice_service import expire_notices

    async with db().transaction():
        return await expire_notices()


async def count_closed_votes(ctx: Any = None) -> int:
    """Owners' assembly votes whose period ended are counted and closed."""
    from meetings.meeting_service import now
    from meetings.vote_service import close_due

    async with db().transaction():
        return await close_due(now())


async def render_minutes(ctx: Any, *, tenant_id: int, meeting_id: int, job_key: str,
                         requested_by: int | None = None, lang: str = "zh-CN") -> dict:
    """Render the final minutes through the documents pipeline and open them for signing."""
    from core import i18n, outbox
    from documents.jobs import set_stage
    from meetings.minutes_documents import produce_minutes

    token = i18n.set_language(lang)
    try:
        await set_stage(job_key, "rendering")
        version = await produce_minutes(tenant_id, meeting_id, job_key=job_key,
                                        requested_by=requested_by, lang=lang)
        await set_stage(job_key, "registered")
    except Exception:
        await set_stage(job_key, "failed")
        raise
    finally:
        i18n.reset_language(token)
    outbox.kick()
    return {"document_id": version["document"], "version": version["version"],
            "sha256": version["sha256"]}


async def render_notice(ctx: Any, *, tenant_id: int, notice_id: int, job_key: str,
                        lang: str = "zh-CN") -> dict:
    """Render a public notice's PDF through the documents pipeline."""
    from core import i18n
    from documents.jobs import set_stage
    from meetings.notice_documents import produce_notice

    token = i18n.set_language(lang)
    try:
        version = await produce_notice(tenant_id, notice_id, lang=lang)
        await set_stage(job_key, "registered")
    except Exception:
        await set_stage(job_key, "failed")
        raise
    finally:
        i18n.reset_language(token)
    return {"document_id": version["document"], "sha256": version["sha256"]}


async def remind_signatories(ctx: Any = None) -> int:
    """Daily: tell each signatory whose turn it is on minutes still awaiting signatures."""
    from meetings.signatures import send_reminders

    async with db().transaction():
        return await send_reminders()


FUNCTIONS: list = [expire_meeting_notices, count_closed_votes, render_minutes, render_notice,
                   remind_signatories]
CRON_JOBS: list = [CronJob(expire_meeting_notices, cron="*/15 * * * *"),
                   CronJob(count_closed_votes, cron="*/5 * * * *"),
                   CronJob(remind_signatories, cron="0 1 * * *", timeout=600)]  # 09:00 China
