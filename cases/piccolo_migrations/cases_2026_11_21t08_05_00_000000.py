"""Possible duplicates are looked up by estate, category and creation time."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_record index for similar open cases"

SQL = """
CREATE INDEX IF NOT EXISTS case_record_similar
  ON case_record (tenant, estate, category, created_at DESC);
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
