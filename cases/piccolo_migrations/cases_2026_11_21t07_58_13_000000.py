"""Case list: creation-date and deadline indexes; trigram indexes for Chinese substring search
where the server has pg_trgm (the embedded pgserver does not: search then runs unindexed)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T07:58:13:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_record search and sort indexes"

SQL = """
CREATE INDEX IF NOT EXISTS case_record_tenant_created ON case_record (tenant, created_at);
CREATE INDEX IF NOT EXISTS case_record_tenant_resolve_due ON case_record (tenant, resolve_due_at, id);
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX IF NOT EXISTS case_record_description_trgm
      ON case_record USING gin (description gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS case_record_location_trgm
      ON case_record USING gin (location gin_trgm_ops);
  ELSE
    RAISE NOTICE 'pg_trgm is not available: case text search runs without trigram indexes';
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'no privilege to create pg_trgm: case text search runs without trigram indexes';
END $$;
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
