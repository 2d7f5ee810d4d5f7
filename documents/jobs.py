"""Queue jobs of the documents package (gongzhi.worker registers them)."""
from __future__ import annotations

FUNCTIONS: list = []
CRON_JOBS: list = []
