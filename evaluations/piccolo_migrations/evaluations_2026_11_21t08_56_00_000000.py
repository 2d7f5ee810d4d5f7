"""One assessment per (campaign, contract). The first constraints migration named this index
like Piccolo's own index on `contract`, so IF NOT EXISTS skipped it; this one has its own name."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:56:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique (campaign, contract) of evaluation assessments"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS evaluation_assessment_campaign_contract
    ON evaluation_assessment (campaign, contract);
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluations", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
