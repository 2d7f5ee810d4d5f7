"""The annual assessment report's input (年度物业服务评价报告): every section as data, gathered
read-only for one (contract, period) or one company's roll-up, then attached to the PDF as JSON.

Sections whose source does not exist yet stay `None` and print "not yet assessed" (尚未评价);
nothing is ever made up. Where each section comes from (documents.report_repository, all
queries filtered by the tenant):
- parties, contract, estate: tenancy and contracts tables;
- assessment (total, grade, rank, components per evaluator kind), criterion scores per evaluator
  organisation, survey: evaluations' tables (filled by evaluations.results_service);
- objections: evaluations' objection table (None when that table does not exist);
- case statistics and notable cases: the cases of the estate created in the period (China
  time), aggregated in SQL. Notable cases carry no reporter data and digits are masked.
"""
from __future__ import annotations

from datetime import date, datetime

import msgspec

CATEGORIES = ("repair", "complaint", "safety_hazard", "sanitation", "greening", "order",
              "parking", "neighbour_dispute", "fees", "suggestion", "inquiry", "other")
EVALUATOR_KINDS = ("owners_survey", "owners_committee", "residents_committee", "street_office",
                   "bureau_inspection", "objective_metrics")


class Party(msgspec.Struct):
    organization_id: int
    name: str
    kind: str


class ContractInfo(msgspec.Struct):
    id: int
    number: str
    kind: str
    starts_on: date
    ends_on: date
    status: str
    service_level: str


class EstateInfo(msgspec.Struct):
    id: int
    name: str
    address: str
    community: str
    street: str
    households: int  # units without the developer's unsold ones


class ComponentScore(msgspec.Struct):
    """One evaluator kind's part of the total (the evaluations scheme's weights)."""

    kind: str
    weight: float
    effective_weight: float
    score: float | None
    state: str  # ok | missing | insufficient


class CriterionRow(msgspec.Struct):
    """A leaf criterion's score by each evaluating organisation that submitted."""

    key: str
    name: str
    weight: float
    scores: dict[str, float | None]  # organisation name -> 0–100


class SubmissionInfo(msgspec.Struct):
    organization: str
    evaluator_kind: str
    status: str
    score: float | None


class AssessmentResult(msgspec.Struct):
    campaign_id: int
    campaign: str
    assessment_id: int
    status: str
    total_score: float | None
    grade: str | None
    rank: int | None
    held: bool
    components: list[ComponentScore]
    submissions: list[SubmissionInfo]
    criteria: list[CriterionRow]


class SurveySummary(msgspec.Struct):
    households: int
    responses: int
    response_rate: float | None  # percent
    average: float | None  # 1–5
    distribution: dict[str, int]  # "1".."5" -> households


class CaseStats(msgspec.Struct):
    total: int
    by_month: list[int]  # 12 entries for a calendar year, else one per month of the period
    month_labels: list[str]
    by_category: dict[str, int]
    by_priority: dict[str, int]
    resolved: int
    closed: int
    ack_on_time_rate: float | None  # percent of acknowledged cases acknowledged in time
    resolve_on_time_rate: float | None  # percent of resolved cases resolved in time
    resolution_rate: float | None  # percent resolved or closed
    rated: int
    average_rating: float | None
    rating_distribution: dict[str, int]  # "1".."5"
    reopened: int
    escalated: int
    transfers: int
    overdue_open: int


class NotableCase(msgspec.Struct):
    id: int
    created_on: date
    category: str
    priority: str
    status: str
    summary: str  # first characters, digits masked
    flags: list[str]  # escalated | reopened | overdue | low_rating


class ObjectionItem(msgspec.Struct):
    raised_on: date
    organization: str
    reasons: str
    status: str  # open | upheld | adjusted
    original_score: float | None
    adjusted_score: float | None
    resolution: str


class AnnualReportData(msgspec.Struct):
    """One (contract, period) report. `assessment`, `survey`, `objections` None: not assessed
    (or not available) yet — printed as such."""

    tenant_id: int
    period: str  # "2026", or "2026-Q1", "2026-H1"
    period_start: date
    period_end: date
    contract: ContractInfo
    estate: EstateInfo
    company: Party
    owners_committee: Party | None
    residents_committee: Party | None
    street_office: Party | None
    bureau: Party | None
    cases: CaseStats
    notable_cases: list[NotableCase]
    assessment: AssessmentResult | None = None
    survey: SurveySummary | None = None
    objections: list[ObjectionItem] | None = None
    generated_at: datetime | None = None


class EstateRow(msgspec.Struct):
    estate: str
    contract_number: str
    households: int
    total_score: float | None
    grade: str | None
    cases: int
    resolve_on_time_rate: float | None
    average_rating: float | None


class CompanyReportData(msgspec.Struct):
    """A property company's roll-up for a period over every estate it served under contract."""

    tenant_id: int
    period: str
    period_start: date
    period_end: date
    company: Party
    bureau: Party | None
    estates: list[EstateRow]
    cases: CaseStats
    score: float | None = None  # evaluations' households-weighted roll-up, when computed
    grade: str | None = None
    rank: int | None = None
    generated_at: datetime | None = None


def to_source(data: AnnualReportData | CompanyReportData) -> dict:
    """The JSON attached to the PDF (and kept in the registry)."""
    return msgspec.to_builtins(data)
