"""Request and response types of the results API (scores, roll-ups, objections)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

Reason = Annotated[str, Meta(min_length=1, max_length=4000)]
Note = Annotated[str, Meta(max_length=4000)]
CaseId = Annotated[int, Meta(ge=1, le=2_147_483_647)]
Decision = Literal["uphold", "adjust"]
ObjectionStatus = Literal["open", "upheld", "adjusted"]
AssessmentStatus = Literal["open", "scored", "published", "objection", "final"]


class ResultOut(Struct):
    assessment_id: int
    campaign_id: int
    contract_id: int
    estate_id: int
    estate_name: str
    street_id: int
    street_name: str
    property_company_id: int
    property_company_name: str
    status: str
    total_score: float | None
    grade: str | None
    rank: int | None
    held: bool
    components: dict[str, Any] | None
    previous_score: float | None
    previous_grade: str | None
    trend: float | None  # total − previous total (same estate and company)
    scored_at: datetime | None
    published_at: datetime | None
    objection_deadline: datetime | None
    finalized_at: datetime | None
    objections: int
    open_objections: int


class CompanyResultOut(Struct):
    campaign_id: int
    property_company_id: int
    property_company_name: str
    score: float | None
    grade: str | None
    rank: int | None
    estates: int
    held: int
    households: int
    previous_score: float | None
    trend: float | None


class ComputeOut(Struct):
    campaign_id: int
    queued: bool
    assessments: int = 0
    scored: int = 0
    held: int = 0
    companies: int = 0


class CampaignResultsOut(Struct):
    campaign_id: int
    status: str
    assessments: int


class ObjectionIn(Struct, forbid_unknown_fields=True):
    reasons: Reason
    evidence_case_ids: Annotated[list[CaseId], Meta(max_length=50)] = []
    evidence_note: Note = ""


class ResolveIn(Struct, forbid_unknown_fields=True):
    decision: Decision
    reason: Reason
    adjusted_score: Annotated[float, Meta(ge=0, le=100)] | None = None


class ObjectionOut(Struct):
    id: int
    assessment_id: int
    raised_by_organization_id: int
    reasons: str
    evidence_case_ids: list[int]
    evidence_note: str
    status: str
    original_score: float | None
    adjusted_score: float | None
    resolution_reason: str
    resolved_at: datetime | None
    created_at: datetime
    version: int
    estate_name: str | None = None
    property_company_name: str | None = None
