"""Contract integrity the ORM cannot express: one active contract per estate, end after start,
the allowed kinds, statuses and service levels, a counterparty of some sort, and one row per
document of a contract."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T07:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "service_contract constraints"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS service_contract_one_active_per_estate
    ON service_contract (estate) WHERE status = 'active';
ALTER TABLE service_contract
    ADD CONSTRAINT service_contract_term CHECK (ends_on > starts_on),
    ADD CONSTRAINT service_contract_kind CHECK (kind IN ('service', 'preliminary')),
    ADD CONSTRAINT service_contract_status
        CHECK (status IN ('draft', 'active', 'expiring', 'expired', 'terminated')),
    ADD CONSTRAINT service_contract_level
        CHECK (service_level IN ('level_1', 'level_2', 'level_3')),
    ADD CONSTRAINT service_contract_fee CHECK (fee_per_m2_month >= 0),
    ADD CONSTRAINT service_contract_counterparty
        CHECK (counterparty IS NOT NULL OR coalesce(counterparty_name, '') <> '');
CREATE UNIQUE INDEX IF NOT EXISTS contract_document_contract_sha
    ON contract_document (contract, sha256);
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contracts", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
