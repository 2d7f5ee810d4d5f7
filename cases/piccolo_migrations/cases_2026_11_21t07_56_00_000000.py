"""Case photos and followers: allowed values, one follow per (case, user)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T07:56:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_attachment checks and case_follower uniqueness"

SQL = """
ALTER TABLE case_attachment ADD CONSTRAINT case_attachment_visibility
  CHECK (visibility IN ('public', 'internal'));
ALTER TABLE case_attachment ADD CONSTRAINT case_attachment_kind CHECK (kind IN ('photo'));
CREATE UNIQUE INDEX IF NOT EXISTS case_follower_case_user ON case_follower ("case", "user");
CREATE INDEX IF NOT EXISTS case_follower_user ON case_follower ("user");
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
