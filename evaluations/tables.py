"""Evaluations: schemes and their versions, campaigns, one assessment per (contract, period),
evaluator submissions with per-criterion scores and evidence, declared conflicts of interest and
the owners' satisfaction survey.

Other packages' tables are referenced by name through Piccolo's app registry, never imported.
Constraints the ORM cannot express (allowed statuses and kinds, unique pairs, immutable scheme
versions, score ranges) live in the raw-SQL migration beside the generated one.

Every row carries `tenant`. Scores are on a 0–100 scale everywhere except the survey (1–5).
"""
from decimal import Decimal

from piccolo.columns import (
    JSONB,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

Tenant = LazyTableReference(table_class_name="Tenant", app_name="tenancy")
Estate = LazyTableReference(table_class_name="Estate", app_name="tenancy")
Unit = LazyTableReference(table_class_name="Unit", app_name="tenancy")
Person = LazyTableReference(table_class_name="Person", app_name="tenancy")
User = LazyTableReference(table_class_name="User", app_name="tenancy")
Organization = LazyTableReference(table_class_name="Organization", app_name="tenancy")
ServiceContract = LazyTableReference(table_class_name="ServiceContract", app_name="contracts")


class EvaluationScheme(Table, tablename="evaluation_scheme"):
    """A tenant's named evaluation scheme; its content lives in `SchemeVersion` rows.

    Each tenant gets a default scheme (DESIGN §4 defaults) on first use
    (`evaluations.scheme_service.ensure_default_scheme`). Unique (tenant, name).
    """

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    name = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class SchemeVersion(Table, tablename="evaluation_scheme_version"):
    """One immutable version of a scheme (the database refuses UPDATE and DELETE).

    B may rely on:
    - `criteria`: list of {key, name_zh, name_en, weight, description, children} (children has
      the same shape, [] for a leaf). Sibling weights sum to 100. Evaluators score LEAVES 0–100;
      a node's score is the weighted mean of its children (`scheme_service.weighted_score`).
      Keys are unique across the whole tree.
    - `evaluator_weights`: {kind: weight} over EVALUATOR_KINDS (owners_survey, owners_committee,
      residents_committee, street_office, bureau_inspection, objective_metrics), summing to 100.
    - `grade_bands`: [{grade, min_score}] ordered by min_score descending, the last min_score 0;
      grades are 'excellent' | 'good' | 'pass' | 'fail' by default (any code is allowed).
    - `objection_window_days` (working days), `publication_days` (minimum days posted),
      `min_survey_response_rate` (fraction 0–1), `survey_rule` 'reweight' | 'hold'.
    Unique (scheme, number).
    """

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    scheme = ForeignKey(EvaluationScheme, on_delete=OnDelete.restrict, index=True, null=False)
    number = Integer(default=1)
    criteria = JSONB(default="[]")
    evaluator_weights = JSONB(default="{}")
    grade_bands = JSONB(default="[]")
    objection_window_days = Integer(default=5)
    publication_days = Integer(default=3)
    min_survey_response_rate = Numeric(digits=(5, 4), default=Decimal("0.3"))
    survey_rule = Varchar(length=10, default="reweight")
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Campaign(Table, tablename="evaluation_campaign"):
    """A period's evaluation opened by the housing bureau.

    `status`: draft → open (assessments created, submissions accepted until
    `submission_deadline`) → closed (submissions locked; B scores) → published → final.
    `scheme_version` never changes once the campaign is open. `version` is the ETag counter.
    """

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    name = Varchar(length=200)
    period_kind = Varchar(length=10)  # quarter | half_year | year
    period_start = Date()
    period_end = Date()  # inclusive
    scheme_version = ForeignKey(SchemeVersion, on_delete=OnDelete.restrict, null=False)
    submission_deadline = Timestamptz()
    status = Varchar(length=10, default="draft")
    opened_by_org = ForeignKey(Organization, on_delete=OnDelete.restrict, null=True, default=None)
    opened_by_user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    opened_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class Assessment(Table, tablename="evaluation_assessment"):
    """One (campaign, contract): the property company's evaluation for one estate and period.

    Created by opening the campaign (status 'open'), one per contract active during the period.
    `estate` and `property_company` are copied from the contract. The result columns are
    B's to fill: `components` (JSON, per evaluator kind), `total_score` (0–100), `grade`,
    `rank`, `scored_at`, `published_at`, `objection_deadline`, `finalized_at`; status then goes
    scored → published → objection → final. Unique (campaign, contract).
    """

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    campaign = ForeignKey(Campaign, on_delete=OnDelete.restrict, index=True, null=False)
    contract = ForeignKey(ServiceContract, on_delete=OnDelete.restrict, index=True, null=False)
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, index=True, null=False)
    property_company = ForeignKey(Organization, on_delete=OnDelete.restrict, index=True,
                                  null=False)
    status = Varchar(length=10, default="open")
    components = JSONB(null=True, default=None)
    total_score = Numeric(digits=(6, 2), null=True, default=None)
    grade = Varchar(length=20, null=True, default=None)
    rank = Integer(null=True, default=None)
    scored_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    objection_deadline = Timestamptz(null=True, default=None)
    finalized_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class Submission(Table, tablename="evaluation_submission"):
    """One evaluator organisation's scoring of one assessment.

    `evaluator_kind`: owners_committee | residents_committee | street_office | bureau_inspection.
    `status`: draft → submitted (still editable until the deadline) → locked (after the
    deadline; only 'submitted' and 'locked' rows count for scoring). `score` is the weighted
    0–100 score over the scheme version's criteria tree, kept current on every save.
    `version` is the ETag counter. Unique (assessment, organization).
    """

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    assessment = ForeignKey(Assessment, on_delete=OnDelete.restrict, index=True, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.restrict, index=True, null=False)
    evaluator_kind = Varchar(length=20)
    status = Varchar(length=10, default="draft")
    score = Numeric(digits=(6, 2), null=True, default=None)
    version = Integer(default=1)
    submitted_at = Timestamptz(null=True, default=None)
    updated_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SubmissionScore(Table, tablename="evaluation_submission_score"):
    """A leaf criterion's score (0–100) in a submission, with an optional comment and evidence
    {"photos": [EvidencePhoto ids], "cases": [case ids of the estate]}. Unique (submission,
    criterion_key)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    submission = ForeignKey(Submission, on_delete=OnDelete.cascade, index=True, null=False)
    criterion_key = Varchar(length=50)
    score = Numeric(digits=(5, 2))
    comment = Text(default="")
    evidence = JSONB(default='{"photos": [], "cases": []}')


class EvidencePhoto(Table, tablename="evaluation_evidence_photo"):
    """A photo uploaded as evidence for a submission (EXIF stripped, with a thumbnail)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    submission = ForeignKey(Submission, on_delete=OnDelete.cascade, index=True, null=False)
    storage_key = Varchar(length=300)
    thumbnail_key = Varchar(length=300)
    content_type = Varchar(length=50)
    width = Integer()
    height = Integer()
    size = Integer()
    uploaded_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class ConflictDeclaration(Table, tablename="evaluation_conflict"):
    """The tenant declares that `organization` has a conflict of interest with
    `conflicted_organization` (usually a property company): no member of `organization` may
    submit or see drafts of assessments of `conflicted_organization`. Unique (organization,
    conflicted_organization)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.cascade, index=True, null=False)
    conflicted_organization = ForeignKey(Organization, on_delete=OnDelete.cascade, index=True,
                                         null=False)
    reason = Text(default="")
    declared_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SurveyResponse(Table, tablename="evaluation_survey_response"):
    """One household's (unit's) satisfaction answer for an assessment: `overall` 1–5, optional
    `answers` {top-level criterion key: 1–5}, a comment. `person`/`user` is the owner or
    occupant who answered. Unique (assessment, unit). Read it through
    `evaluations.survey_service.survey_summary`."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    assessment = ForeignKey(Assessment, on_delete=OnDelete.restrict, index=True, null=False)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict, null=False)
    person = ForeignKey(Person, on_delete=OnDelete.restrict, null=True, default=None)
    user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    overall = Integer()
    answers = JSONB(default="{}")
    comment = Text(default="")
    submitted_at = Timestamptz(default=TimestamptzNow())


class EvaluationReminder(Table, tablename="evaluation_reminder"):
    """A reminder sent to an evaluator organisation for a campaign on a day (China time);
    unique (campaign, organization, sent_on) makes the reminder job idempotent."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    campaign = ForeignKey(Campaign, on_delete=OnDelete.cascade, index=True, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.cascade, null=False)
    sent_on = Date()
    pending = Integer(default=0)  # assessments still without a submitted score
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [EvaluationScheme, SchemeVersion, Campaign, Assessment, Submission, SubmissionScore,
          EvidencePhoto, ConflictDeclaration, SurveyResponse, EvaluationReminder]
