"""Co-building agreement integrity: a partner of some sort, end after start, known statuses."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T07:42:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "co_building_agreement constraints"

SQL = """
ALTER TABLE co_building_agreement
    ADD CONSTRAINT co_building_agreement_term CHECK (ends_on IS NULL OR ends_on > starts_on),
    ADD CONSTRAINT co_building_agreement_status CHECK (status IN ('active', 'ended')),
    ADD CONSTRAINT co_building_agreement_partner
        CHECK (partner_organization IS NOT NULL OR coalesce(partner_name, '') <> '');
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contracts", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
