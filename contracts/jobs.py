"""Queue jobs of the contracts package: the daily status sweep."""
from __future__ import annotations

from datetime import date

from saq import CronJob

from contracts import service
from core import outbox
from core.db import db


async def contract_status_sweep(ctx=None, *, day: date | None = None) -> dict[str, int]:
    """Move contracts to expiring / expired as their end approaches and passes, announcing the
    non-renewal notice period once. Safe to run any number of times a day."""
    async with db().transaction():
        moved = await service.advance_statuses(day or service.today())
    if moved["expiring"]:
        outbox.kick()  # no request commits for us: ask for the publisher ourselves
    return moved


# 00:05 in China (UTC+8), after the day has turned.
FUNCTIONS = [contract_status_sweep]
CRON_JOBS = [CronJob(contract_status_sweep, cron="5 16 * * *", timeout=600)]
