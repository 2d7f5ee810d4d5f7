"""Audit log integrity: unique (tenant, seq) and a trigger refusing UPDATE, DELETE, TRUNCATE."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T06:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit chain constraints"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS audit_entry_tenant_seq ON audit_entry (tenant_id, seq);
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_entry is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_entry_no_update ON audit_entry;
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE OR DELETE ON audit_entry
  FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry;
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
