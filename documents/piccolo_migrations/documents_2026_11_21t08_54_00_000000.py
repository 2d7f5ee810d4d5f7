"""Signing credentials' integrity the ORM cannot express: at most one unrevoked credential per
user and per organisation, a person's credential names a user and a seal an organisation, and
the allowed kinds and sources."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "signing credential constraints"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS signing_credential_one_active_person
    ON signing_credential ("user") WHERE kind = 'person' AND revoked_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS signing_credential_one_active_seal
    ON signing_credential (organization) WHERE kind = 'seal' AND revoked_at IS NULL;
ALTER TABLE signing_credential
    ADD CONSTRAINT signing_credential_kind CHECK (kind IN ('person', 'seal')),
    ADD CONSTRAINT signing_credential_source CHECK (source IN ('platform', 'pkcs12')),
    ADD CONSTRAINT signing_credential_owner CHECK (
        (kind = 'person' AND "user" IS NOT NULL AND organization IS NULL)
        OR (kind = 'seal' AND organization IS NOT NULL AND "user" IS NULL));
ALTER TABLE pki_platform_key
    ADD CONSTRAINT pki_platform_key_name CHECK (name IN ('ca', 'tsa'));
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
