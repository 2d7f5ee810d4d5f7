"""Queue jobs of the infrastructure layer: the outbox publisher, webhook delivery, purges.

The crons are safety nets: requests ask for a publisher run right after they commit, and failed
deliveries schedule their own retry; the crons find whatever those requests missed (Redis down
at the time, a worker killed) within a minute.
"""
from __future__ import annotations

from saq import CronJob

from core.idempotency import purge_expired as purge_idempotency_keys
from core.outbox import publish_outbox, purge_published
from core.webhook_delivery import deliver_webhooks, purge_deliveries

FUNCTIONS = [publish_outbox, deliver_webhooks, purge_published, purge_deliveries,
             purge_idempotency_keys]
CRON_JOBS = [
    CronJob(publish_outbox, cron="* * * * *", timeout=120),
    CronJob(deliver_webhooks, cron="* * * * *", timeout=600),
    CronJob(purge_published, cron="41 3 * * *", timeout=600),
    CronJob(purge_deliveries, cron="43 3 * * *", timeout=600),
    CronJob(purge_idempotency_keys, cron="47 3 * * *", timeout=600),
]
