"""Results integrity: objection and roll-up statuses, at most one open objection per assessment,
one roll-up per (campaign, company), and the lookups the results table uses."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:51:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "evaluation results: objection rules and company roll-up keys"

SQL = """
ALTER TABLE evaluation_objection
    ADD CONSTRAINT evaluation_objection_status CHECK (status IN ('open', 'upheld', 'adjusted')),
    ADD CONSTRAINT evaluation_objection_adjusted CHECK (
        (status = 'adjusted') = (adjusted_score IS NOT NULL)),
    ADD CONSTRAINT evaluation_objection_score CHECK (
        adjusted_score IS NULL OR (adjusted_score >= 0 AND adjusted_score <= 100)),
    ADD CONSTRAINT evaluation_objection_resolved CHECK (
        (status = 'open') = (resolved_at IS NULL));
CREATE UNIQUE INDEX IF NOT EXISTS evaluation_objection_one_open
    ON evaluation_objection (assessment) WHERE status = 'open';
CREATE UNIQUE INDEX IF NOT EXISTS evaluation_company_result_key
    ON evaluation_company_result (campaign, company);
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluations", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
