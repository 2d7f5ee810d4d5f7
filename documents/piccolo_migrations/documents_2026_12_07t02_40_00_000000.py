"""Campaign exports may expire: a ready ZIP past DOCUMENTS_EXPORT_RETENTION_DAYS becomes
'expired' (its file deleted); an index finds the ready ones by when they finished."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-12-07T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "document exports expire"

SQL = """
ALTER TABLE document_export DROP CONSTRAINT IF EXISTS document_export_state;
ALTER TABLE document_export ADD CONSTRAINT document_export_state
    CHECK (state IN ('queued', 'running', 'ready', 'failed', 'expired'));
CREATE INDEX IF NOT EXISTS document_export_ready_finished
    ON document_export (finished_at) WHERE state = 'ready';
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
