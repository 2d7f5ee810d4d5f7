"""Case integrity: allowed values, one event per (case, seq), append-only events, list indexes."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T07:34:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_record and case_event constraints, indexes and immutability"

SQL = """
ALTER TABLE case_record ADD CONSTRAINT case_record_status CHECK (status IN
  ('submitted', 'accepted', 'assigned', 'acknowledged', 'in_progress', 'resolved', 'closed',
   'returned', 'rejected', 'duplicate', 'withdrawn'));
ALTER TABLE case_record ADD CONSTRAINT case_record_priority CHECK
  (priority IN ('emergency', 'urgent', 'normal'));
ALTER TABLE case_record ADD CONSTRAINT case_record_rating CHECK (rating IS NULL OR rating BETWEEN 1 AND 5);
ALTER TABLE case_record ADD CONSTRAINT case_record_counters CHECK
  (transfers >= 0 AND returns >= 0 AND reopens >= 0 AND pause_count >= 0 AND version >= 1);
ALTER TABLE case_record ADD CONSTRAINT case_record_resolved CHECK
  ((resolved_at IS NOT NULL) = (status IN ('resolved', 'closed')));
CREATE INDEX IF NOT EXISTS case_record_tenant_id ON case_record (tenant, id DESC);
CREATE INDEX IF NOT EXISTS case_record_estate_id ON case_record (tenant, estate, id DESC);
CREATE INDEX IF NOT EXISTS case_record_org_id ON case_record (tenant, responsible_org, id DESC);
CREATE INDEX IF NOT EXISTS case_record_assignee_id ON case_record (assignee_user, id DESC)
  WHERE assignee_user IS NOT NULL;
CREATE INDEX IF NOT EXISTS case_record_reporter_id ON case_record (reporter_user, id DESC)
  WHERE reporter_user IS NOT NULL;

CREATE UNIQUE INDEX IF NOT EXISTS case_event_case_seq ON case_event ("case", seq);
ALTER TABLE case_event ADD CONSTRAINT case_event_visibility CHECK (visibility IN ('public', 'internal'));
CREATE OR REPLACE FUNCTION case_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'case_event rows are immutable';
END $$;
CREATE TRIGGER case_event_append_only BEFORE UPDATE OR DELETE ON case_event
  FOR EACH ROW EXECUTE FUNCTION case_event_append_only();

CREATE UNIQUE INDEX IF NOT EXISTS routing_rule_key
  ON routing_rule (tenant, category, COALESCE(estate, 0));
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
