"""Queue jobs of the cases package: supervision of overdue cases and closing unrated ones."""
from __future__ import annotations

from saq import CronJob

from cases.supervision import close_unrated_cases, supervise_overdue_cases

FUNCTIONS = [supervise_overdue_cases, close_unrated_cases]
CRON_JOBS = [
    CronJob(supervise_overdue_cases, cron="*/5 * * * *", timeout=600),
    CronJob(close_unrated_cases, cron="20 16 * * *", timeout=600),  # 00:20 in China (UTC+8)
]
