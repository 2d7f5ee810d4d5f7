"""The responsible organisation's open cases newest first (the overdue filter and the open
list by creation), beside the by-deadline index of the previous migration."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T09:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_record index of open cases by organisation, newest first"

OPEN = "status = ANY('{submitted,accepted,assigned,acknowledged,in_progress,returned}'::text[])"
SQL = f"""
CREATE INDEX IF NOT EXISTS case_record_org_open_id
  ON case_record (tenant, responsible_org, id DESC) WHERE {OPEN};
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
