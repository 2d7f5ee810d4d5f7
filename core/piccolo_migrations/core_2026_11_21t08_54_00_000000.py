"""Idempotency records: one per (caller, key), and the purge's index."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency record keys"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS idempotency_record_key ON idempotency_record (caller, key_hash);
CREATE INDEX IF NOT EXISTS idempotency_record_expires ON idempotency_record (expires_at);
ALTER TABLE idempotency_record DROP CONSTRAINT IF EXISTS idempotency_record_state_check;
ALTER TABLE idempotency_record ADD CONSTRAINT idempotency_record_state_check
  CHECK (state IN ('pending', 'done'));
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
