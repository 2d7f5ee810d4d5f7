"""Tables of the results half of evaluations: objections to published results and the per-company
roll-up of a campaign. The assessment's own result columns live in evaluations.tables.

Constraints the ORM cannot express (statuses, one roll-up per company and campaign, at most one
open objection per assessment) are in the raw-SQL migration beside the generated one.
"""
from piccolo.columns import JSONB, ForeignKey, Integer, Numeric, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from evaluations.tables import Assessment, Campaign

Tenant = LazyTableReference(table_class_name="Tenant", app_name="tenancy")
User = LazyTableReference(table_class_name="User", app_name="tenancy")
Organization = LazyTableReference(table_class_name="Organization", app_name="tenancy")


class Objection(Table, tablename="evaluation_objection"):
    """The evaluated company's objection (异议) to a published result, within the window.

    `status`: open → upheld (the result stands) | adjusted (the bureau set `adjusted_score`).
    `evidence`: {"cases": [case ids of the estate], "note": str}. `original_score` is the
    total when the objection was raised. `version` is the ETag counter."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    assessment = ForeignKey(Assessment, on_delete=OnDelete.restrict, index=True, null=False)
    raised_by_org = ForeignKey(Organization, on_delete=OnDelete.restrict, null=False)
    raised_by_user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    reasons = Text()
    evidence = JSONB(default='{"cases": [], "note": ""}')
    status = Varchar(length=10, default="open")
    original_score = Numeric(digits=(6, 2), null=True, default=None)
    adjusted_score = Numeric(digits=(6, 2), null=True, default=None)
    resolution_reason = Text(default="")
    resolved_by_user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    resolved_by_org = ForeignKey(Organization, on_delete=OnDelete.restrict, null=True,
                                 default=None)
    resolved_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class CompanyResult(Table, tablename="evaluation_company_result"):
    """A property company's roll-up over its assessments in one campaign (evaluations.scoring
    `rollup`): households-weighted score, grade, rank among the tenant's companies. Rewritten
    whenever the campaign's results change; unique (campaign, company)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    campaign = ForeignKey(Campaign, on_delete=OnDelete.restrict, index=True, null=False)
    company = ForeignKey(Organization, on_delete=OnDelete.restrict, null=False)
    score = Numeric(digits=(6, 2), null=True, default=None)
    grade = Varchar(length=20, null=True, default=None)
    rank = Integer(null=True, default=None)
    estates = Integer(default=0)
    held = Integer(default=0)
    households = Integer(default=0)
    computed_at = Timestamptz(default=TimestamptzNow())


RESULT_TABLES = [Objection, CompanyResult]
