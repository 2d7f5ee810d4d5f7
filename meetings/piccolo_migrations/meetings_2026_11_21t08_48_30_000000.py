"""Meetings integrity: allowed values, one attendance per person and meeting, one vote per
voter and resolution, and the indexes the calendar and notice pages read by."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:48:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "meetings constraints"

SQL = """
ALTER TABLE meeting ADD CONSTRAINT meeting_kind CHECK (kind IN ('joint', 'committee', 'assembly'));
ALTER TABLE meeting ADD CONSTRAINT meeting_status
  CHECK (status IN ('scheduled', 'in_progress', 'ended', 'cancelled'));
ALTER TABLE meeting ADD CONSTRAINT meeting_ends_after_start CHECK (ends_at > starts_at);
ALTER TABLE meeting ADD CONSTRAINT meeting_short_notice_reason
  CHECK (NOT notice_short OR length(coalesce(short_notice_reason, '')) > 0);
CREATE INDEX IF NOT EXISTS meeting_tenant_starts ON meeting (tenant, starts_at);
ALTER TABLE meeting_invitee ADD CONSTRAINT meeting_invitee_one_kind
  CHECK (num_nonnulls(organization, "user", guest_name) = 1);
CREATE UNIQUE INDEX IF NOT EXISTS meeting_invitee_org ON meeting_invitee (meeting, organization)
  WHERE organization IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS meeting_invitee_user ON meeting_invitee (meeting, "user")
  WHERE "user" IS NOT NULL;
CREATE INDEX IF NOT EXISTS meeting_invitee_organization ON meeting_invitee (organization);
CREATE UNIQUE INDEX IF NOT EXISTS meeting_attendance_once ON meeting_attendance (meeting, "user");
ALTER TABLE meeting_attendance ADD CONSTRAINT meeting_attendance_method
  CHECK (method IN ('self', 'secretary'));
ALTER TABLE meeting_resolution ADD CONSTRAINT meeting_resolution_matter
  CHECK (matter IN ('ordinary', 'special'));
ALTER TABLE meeting_resolution ADD CONSTRAINT meeting_resolution_status
  CHECK (status IN ('draft', 'open', 'closed'));
CREATE UNIQUE INDEX IF NOT EXISTS meeting_vote_once ON meeting_vote (resolution, voter_key);
ALTER TABLE meeting_vote ADD CONSTRAINT meeting_vote_choice
  CHECK (choice IN ('for', 'against', 'abstain'));
ALTER TABLE meeting_vote ADD CONSTRAINT meeting_vote_channel CHECK (channel IN ('online', 'paper'));
ALTER TABLE meeting_vote ADD CONSTRAINT meeting_vote_paper_has_scan
  CHECK (channel = 'online' OR ballot_key IS NOT NULL);
ALTER TABLE meeting_action_item ADD CONSTRAINT meeting_action_item_status
  CHECK (status IN ('open', 'done'));
ALTER TABLE meeting_minutes ADD CONSTRAINT meeting_minutes_status
  CHECK (status IN ('draft', 'review', 'final'));
ALTER TABLE meeting_minutes_amendment ADD CONSTRAINT meeting_minutes_amendment_status
  CHECK (status IN ('proposed', 'accepted', 'rejected', 'applied'));
ALTER TABLE meeting_notice ADD CONSTRAINT meeting_notice_status CHECK (status IN ('posted', 'expired'));
CREATE INDEX IF NOT EXISTS meeting_notice_estate ON meeting_notice (tenant, estate, posted_at);
ALTER TABLE meeting_settings ADD CONSTRAINT meeting_settings_signers
  CHECK (committee_signers IN ('attending', 'majority_of_all'));
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
