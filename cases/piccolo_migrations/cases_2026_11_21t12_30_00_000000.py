"""The responsible organisation's open cases newest first, now carrying what the overdue filter
reads (paused, the two deadlines, the acknowledgement) so that the filter is evaluated in the
index: finding a page of overdue cases no longer visits the heap row of every open case that
is not overdue (at 1M cases, ~500 heap visits for a page of 50)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_record open-by-organisation index includes the overdue columns"

OPEN = "status = ANY('{submitted,accepted,assigned,acknowledged,in_progress,returned}'::text[])"
SQL = f"""
CREATE INDEX IF NOT EXISTS case_record_org_open_id_due
  ON case_record (tenant, responsible_org, id DESC)
  INCLUDE (paused, resolve_due_at, ack_due_at, acknowledged_at) WHERE {OPEN};
DROP INDEX IF EXISTS case_record_org_open_id;
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
