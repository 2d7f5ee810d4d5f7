"""Queue jobs of the tenancy package."""
from __future__ import annotations

from datetime import timedelta

from saq import CronJob

from core.db import db
from tenancy import auth
from tenancy import repository as repo


async def purge_tokens(ctx) -> int:
    """Delete tokens that expired or were revoked more than a week ago."""
    async with db().transaction():
        return await repo.purge_tokens(auth.now() - timedelta(days=7))


FUNCTIONS = [purge_tokens]
CRON_JOBS = [CronJob(purge_tokens, cron="17 * * * *")]
