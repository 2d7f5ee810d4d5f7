"""One campaign per period: two opened campaigns of the same tenant, period kind and start would
assess the same (contract, period) twice."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one opened evaluation campaign per tenant and period"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS evaluation_campaign_one_per_period
    ON evaluation_campaign (tenant, period_kind, period_start) WHERE status <> 'draft';
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluations", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
