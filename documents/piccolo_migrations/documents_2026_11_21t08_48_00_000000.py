"""Registry integrity the ORM cannot express: allowed kinds and states, one Document per
(tenant, kind, subject, period), unique document numbers per tenant, one version number per
document, one version per render job (a retried job finds the version its first run made),
one file per (version, revision), and append-only events."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:48:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "document registry constraints"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS document_subject
    ON document (tenant, kind, subject_type, subject_id, period);
CREATE UNIQUE INDEX IF NOT EXISTS document_number ON document (tenant, number);
CREATE INDEX IF NOT EXISTS document_organizations ON document USING gin (organizations);
CREATE INDEX IF NOT EXISTS document_estate ON document (tenant, estate);
ALTER TABLE document
    ADD CONSTRAINT document_kind
        CHECK (kind IN ('annual_report', 'company_report', 'minutes', 'notice', 'other')),
    ADD CONSTRAINT document_version_nonnegative CHECK (current_version >= 0);
CREATE UNIQUE INDEX IF NOT EXISTS document_version_number ON document_version (document, version);
CREATE UNIQUE INDEX IF NOT EXISTS document_version_job_key
    ON document_version (tenant, job_key) WHERE job_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS document_version_sha ON document_version (sha256);
ALTER TABLE document_version
    ADD CONSTRAINT document_version_state CHECK (state IN
        ('draft', 'awaiting_signatures', 'signed', 'sealed', 'superseded')),
    ADD CONSTRAINT document_version_positive CHECK (version >= 1),
    ADD CONSTRAINT document_version_next_signer CHECK (next_signer >= 0);
CREATE UNIQUE INDEX IF NOT EXISTS document_file_revision ON document_file (version, revision);
ALTER TABLE document_file
    ADD CONSTRAINT document_file_kind CHECK (kind IN ('render', 'signature', 'seal', 'timestamp'));
ALTER TABLE document_export
    ADD CONSTRAINT document_export_state CHECK (state IN ('queued', 'running', 'ready', 'failed'));

CREATE OR REPLACE FUNCTION document_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'document_event is append-only';
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS document_event_append_only ON document_event;
CREATE TRIGGER document_event_append_only BEFORE UPDATE OR DELETE ON document_event
    FOR EACH ROW EXECUTE FUNCTION document_event_append_only();
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
