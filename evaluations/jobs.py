"""Queue jobs of the evaluations package (gongzhi.worker registers them)."""
from __future__ import annotations

FUNCTIONS: list = []
CRON_JOBS: list = []
