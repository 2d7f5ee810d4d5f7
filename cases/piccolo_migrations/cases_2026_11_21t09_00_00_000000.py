"""Indexes for the case list's per-reason branches (cases.search.page_sql): the responsible
organisation's cases by status, and open cases by deadline per organisation and per estate (the
queue and the committees' views). Their predicate is spelled like cases.search.OPEN_SQL."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_record indexes for the scoped list"

OPEN = "status = ANY('{submitted,accepted,assigned,acknowledged,in_progress,returned}'::text[])"
SQL = f"""
CREATE INDEX IF NOT EXISTS case_record_org_status_id
  ON case_record (tenant, responsible_org, status, id DESC);
CREATE INDEX IF NOT EXISTS case_record_org_open_due
  ON case_record (tenant, responsible_org, resolve_due_at, id) WHERE {OPEN};
CREATE INDEX IF NOT EXISTS case_record_estate_open_due
  ON case_record (tenant, estate, resolve_due_at, id) WHERE {OPEN};
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
