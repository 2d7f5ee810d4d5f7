"""Natural keys and integrity rules the ORM cannot declare."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T06:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenancy constraints"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS street_tenant_name ON street (tenant, name);
CREATE UNIQUE INDEX IF NOT EXISTS community_street_name ON community (street, name);
CREATE UNIQUE INDEX IF NOT EXISTS estate_community_name ON estate (community, name);
CREATE UNIQUE INDEX IF NOT EXISTS building_estate_name ON building (estate, name);
CREATE UNIQUE INDEX IF NOT EXISTS unit_building_number ON unit (building, number);
CREATE UNIQUE INDEX IF NOT EXISTS ownership_person_unit ON ownership (person, unit);
CREATE UNIQUE INDEX IF NOT EXISTS membership_user_org ON membership ("user", organization);
CREATE UNIQUE INDEX IF NOT EXISTS organization_tenant_kind_name ON organization (tenant, kind, name);
CREATE INDEX IF NOT EXISTS person_tenant_phone ON person (tenant, phone);
ALTER TABLE unit ADD CONSTRAINT unit_area_positive CHECK (exclusive_area > 0);
ALTER TABLE organization_coverage ADD CONSTRAINT coverage_one_place CHECK (
  (street IS NOT NULL)::int + (community IS NOT NULL)::int + (estate IS NOT NULL)::int = 1);
CREATE UNIQUE INDEX IF NOT EXISTS coverage_unique ON organization_coverage (
  organization, COALESCE(street, 0), COALESCE(community, 0), COALESCE(estate, 0));
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenancy", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
