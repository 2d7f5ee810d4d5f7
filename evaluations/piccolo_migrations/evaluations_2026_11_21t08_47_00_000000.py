"""Evaluation integrity the ORM cannot express: allowed statuses and kinds, one row per natural
key (scheme name, version number, assessment per contract, submission per evaluator, score per
criterion, survey answer per household, reminder per day), score ranges, and scheme versions
that never change once written."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db import execute_script

ID = "2026-11-21T08:47:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "evaluation constraints, unique keys and immutable scheme versions"

SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS evaluation_scheme_name ON evaluation_scheme (tenant, name);
CREATE UNIQUE INDEX IF NOT EXISTS evaluation_scheme_version_number
    ON evaluation_scheme_version (scheme, number);
ALTER TABLE evaluation_scheme_version
    ADD CONSTRAINT evaluation_scheme_version_rule CHECK (survey_rule IN ('reweight', 'hold')),
    ADD CONSTRAINT evaluation_scheme_version_rate
        CHECK (min_survey_response_rate >= 0 AND min_survey_response_rate <= 1),
    ADD CONSTRAINT evaluation_scheme_version_days
        CHECK (objection_window_days >= 0 AND publication_days >= 0 AND number >= 1);
CREATE OR REPLACE FUNCTION evaluation_scheme_version_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'evaluation scheme versions are immutable; create a new version';
END $$;
CREATE TRIGGER evaluation_scheme_version_immutable
    BEFORE UPDATE ON evaluation_scheme_version
    FOR EACH ROW EXECUTE FUNCTION evaluation_scheme_version_immutable();

ALTER TABLE evaluation_campaign
    ADD CONSTRAINT evaluation_campaign_period_kind
        CHECK (period_kind IN ('quarter', 'half_year', 'year')),
    ADD CONSTRAINT evaluation_campaign_status
        CHECK (status IN ('draft', 'open', 'closed', 'published', 'final')),
    ADD CONSTRAINT evaluation_campaign_period CHECK (period_end >= period_start);
CREATE INDEX IF NOT EXISTS evaluation_campaign_tenant_status
    ON evaluation_campaign (tenant, status, submission_deadline);

CREATE UNIQUE INDEX IF NOT EXISTS evaluation_assessment_contract
    ON evaluation_assessment (campaign, contract);
ALTER TABLE evaluation_assessment
    ADD CONSTRAINT evaluation_assessment_status
        CHECK (status IN ('open', 'scored', 'published', 'objection', 'final')),
    ADD CONSTRAINT evaluation_assessment_total
        CHECK (total_score IS NULL OR (total_score >= 0 AND total_score <= 100));

CREATE UNIQUE INDEX IF NOT EXISTS evaluation_submission_evaluator
    ON evaluation_submission (assessment, organization);
ALTER TABLE evaluation_submission
    ADD CONSTRAINT evaluation_submission_status
        CHECK (status IN ('draft', 'submitted', 'locked')),
    ADD CONSTRAINT evaluation_submission_kind CHECK (evaluator_kind IN
        ('owners_committee', 'residents_committee', 'street_office', 'bureau_inspection')),
    ADD CONSTRAINT evaluation_submission_submitted
        CHECK (status = 'draft' OR submitted_at IS NOT NULL OR status = 'locked');

CREATE UNIQUE INDEX IF NOT EXISTS evaluation_submission_score_key
    ON evaluation_submission_score (submission, criterion_key);
ALTER TABLE evaluation_submission_score
    ADD CONSTRAINT evaluation_submission_score_range CHECK (score >= 0 AND score <= 100);

CREATE UNIQUE INDEX IF NOT EXISTS evaluation_conflict_pair
    ON evaluation_conflict (organization, conflicted_organization);

CREATE UNIQUE INDEX IF NOT EXISTS evaluation_survey_response_household
    ON evaluation_survey_response (assessment, unit);
ALTER TABLE evaluation_survey_response
    ADD CONSTRAINT evaluation_survey_response_overall CHECK (overall BETWEEN 1 AND 5);

CREATE UNIQUE INDEX IF NOT EXISTS evaluation_reminder_day
    ON evaluation_reminder (campaign, organization, sent_on);
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluations", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
