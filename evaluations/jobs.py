"""Queue jobs of the evaluations package (gongzhi.worker registers them)."""
from __future__ import annotations

from saq import CronJob

from core import outbox
from core.db import db
from evaluations import campaign_service
from evaluations.results_service import compute_campaign_results


async def close_due_campaigns(ctx=None) -> int:
    """Close the open campaigns whose submission deadline has passed, locking what was
    submitted. Runs every 5 minutes; idempotent."""
    async with db().transaction():
        return await campaign_service.close_due_campaigns()


async def evaluation_reminders(ctx=None) -> int:
    """Remind evaluator organisations with drafts in an open campaign; at most once a day each
    (the reminder log decides), so running it again the same day sends nothing."""
    async with db().transaction():
        sent = await campaign_service.send_reminders()
    if sent:
        outbox.kick()  # no request commits for us: ask for the publisher ourselves
    return sent


FUNCTIONS: list = [close_due_campaigns, evaluation_reminders, compute_campaign_results]
# Reminders at 09:00 China time (01:00 UTC).
CRON_JOBS: list = [CronJob(close_due_campaigns, cron="*/5 * * * *", timeout=300),
                   CronJob(evaluation_reminders, cron="0 1 * * *", timeout=600)]
