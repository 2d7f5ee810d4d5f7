"""Outbox and webhooks: partial indexes for the publisher's and the deliverer's claims,
the delivery log's order, and the allowed delivery states."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T07:23:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbox and webhook indexes"

SQL = """
CREATE INDEX IF NOT EXISTS outbox_event_unpublished ON outbox_event (id)
  WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_event_published_at ON outbox_event (published_at)
  WHERE published_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS webhook_delivery_due ON webhook_delivery (next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_delivery_log ON webhook_delivery (subscription, id DESC);
CREATE INDEX IF NOT EXISTS webhook_delivery_event ON webhook_delivery (event);
ALTER TABLE webhook_delivery DROP CONSTRAINT IF EXISTS webhook_delivery_status_check;
ALTER TABLE webhook_delivery ADD CONSTRAINT webhook_delivery_status_check
  CHECK (status IN ('pending', 'delivered', 'failed'));
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
