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


FUNCTIONS: list = [expire_meeting_notices]
CRON_JOBS: list = [CronJob(expire_meeting_notices, cron="*/15 * * * *")]
