"""Working calendar integrity: one row per tenant and date; kind is holiday or workday."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T07:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "calendar_day constraints"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS calendar_day_tenant_date ON calendar_day (tenant, date);
ALTER TABLE calendar_day ADD CONSTRAINT calendar_day_kind CHECK (kind IN ('holiday', 'workday'));
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
