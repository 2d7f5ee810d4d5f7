"""SAQ worker: every domain's jobs, run outside the web event loop."""
from __future__ import annotations

import asyncio
import logging

from saq import Worker

from cases import jobs as case_jobs
from contracts import jobs as contract_jobs
from core import jobs as core_jobs
from core.db import close_pool, start_pool
from core.queue import queue
from core.settings import get_settings
from documents import jobs as document_jobs
from evaluations import jobs as evaluation_jobs
from meetings import jobs as meeting_jobs
from tenancy import jobs as tenancy_jobs

log = logging.getLogger("gongzhi.worker")

FUNCTIONS = [*core_jobs.FUNCTIONS, *tenancy_jobs.FUNCTIONS, *contract_jobs.FUNCTIONS,
             *case_jobs.FUNCTIONS, *evaluation_jobs.FUNCTIONS, *document_jobs.FUNCTIONS,
             *meeting_jobs.FUNCTIONS]
CRON_JOBS = [*core_jobs.CRON_JOBS, *tenancy_jobs.CRON_JOBS, *contract_jobs.CRON_JOBS,
             *case_jobs.CRON_JOBS, *evaluation_jobs.CRON_JOBS, *document_jobs.CRON_JOBS,
             *meeting_jobs.CRON_JOBS]


async def _startup(ctx) -> None:
    await start_pool()


async def _shutdown(ctx) -> None:
    await close_pool()


def build_worker(*, manage_pool: bool = True, burst: bool = False) -> Worker:
    """A worker for every domain's jobs; `burst` drains the queue and stops (tests, one-offs)."""
    return Worker(queue(), functions=FUNCTIONS, cron_jobs=[] if burst else CRON_JOBS,
                  concurrency=get_settings().worker_concurrency,
                  startup=_startup if manage_pool else None,
                  shutdown=_shutdown if manage_pool else None,
                  burst=burst, dequeue_timeout=1.0 if burst else 0.0)


def run_worker() -> None:
    worker = build_worker()
    log.info("worker started on queue %s", worker.queue.name)
    asyncio.run(worker.start())
