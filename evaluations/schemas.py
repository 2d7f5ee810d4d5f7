"""Request and response types of the evaluations API (msgspec; hand-written, see DESIGN §6)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct, field

Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]
Key = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,49}$", description="a-z, 0-9, _")]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Text = Annotated[str, Meta(max_length=2000)]
Weight = Annotated[float, Meta(ge=0, le=100)]
Score = Annotated[float, Meta(ge=0, le=100, description="0–100")]
Stars = Annotated[int, Meta(ge=1, le=5)]

PeriodKind = Literal["quarter", "half_year", "year"]
SurveyRule = Literal["reweight", "hold"]
# The components of an assessment's total; the first four are organisations that submit.
SubmittingKind = Literal["owners_committee", "residents_committee", "street_office",
                         "bureau_inspection"]
ComponentKind = Literal["owners_survey", "owners_committee", "residents_committee",
                        "street_office", "bureau_inspection", "objective_metrics"]
CampaignStatus = Literal["draft", "open", "closed", "published", "final"]


# --- schemes -------------------------------------------------------------------------------------
class CriterionLeaf(Struct, forbid_unknown_fields=True):
    key: Key
    name_zh: Name
    name_en: Name
    weight: Weight
    description: Text = ""


class Criterion(Struct, forbid_unknown_fields=True):
    """A criterion head; with `children` its score is their weighted mean, else it is scored."""

    key: Key
    name_zh: Name
    name_en: Name
    weight: Weight
    description: Text = ""
    children: Annotated[list[CriterionLeaf], Meta(max_length=30)] = []


class GradeBand(Struct, forbid_unknown_fields=True):
    grade: Key
    min_score: Score


class SchemeVersionIn(Struct, forbid_unknown_fields=True):
    criteria: Annotated[list[Criterion], Meta(min_length=1, max_length=30)]
    evaluator_weights: dict[ComponentKind, Weight]
    grade_bands: Annotated[list[GradeBand], Meta(min_length=1, max_length=10)]
    objection_window_days: Annotated[int, Meta(ge=0, le=60)] = 5
    publication_days: Annotated[int, Meta(ge=0, le=60)] = 3
    min_survey_response_rate: Annotated[float, Meta(ge=0, le=1)] = 0.3
    survey_rule: SurveyRule = "reweight"


class SchemeIn(Struct, forbid_unknown_fields=True):
    name: Name
    version: SchemeVersionIn


class SchemeVersionOut(Struct):
    id: int
    scheme_id: int
    number: int
    criteria: list[Criterion]
    evaluator_weights: dict[str, float]
    grade_bands: list[GradeBand]
    objection_window_days: int
    publication_days: int
    min_survey_response_rate: float
    survey_rule: str
    created_at: datetime
    in_use: bool


class SchemeOut(Struct):
    id: int
    name: str
    created_at: datetime
    latest: SchemeVersionOut


# --- campaigns -----------------------------------------------------------------------------------
class CampaignIn(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    period_kind: PeriodKind
    period_start: date
    submission_deadline: datetime
    scheme_version_id: Id | None = None  # default: the latest version of the default scheme


class CampaignPatch(Struct, forbid_unknown_fields=True):
    """A draft's name, or the deadline of a draft or open campaign (only into the future)."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    submission_deadline: datetime | None = None


class CampaignOut(Struct):
    id: int
    name: str
    period_kind: str
    period_start: date
    period_end: date
    scheme_version_id: int
    submission_deadline: datetime
    status: str
    opened_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    assessments: int
    version: int


class Progress(Struct):
    """Submissions per state for one assessment (the evaluator organisations expected: the
    estate's owners' and residents' committees and its street office)."""

    expected: int
    draft: int
    submitted: int
    survey_responses: int
    households: int


class AssessmentOut(Struct):
    id: int
    campaign_id: int
    contract_id: int
    estate_id: int
    estate_name: str
    property_company_id: int
    property_company_name: str
    status: str
    progress: Progress | None = None


# --- submissions ---------------------------------------------------------------------------------
class Evidence(Struct, forbid_unknown_fields=True):
    photos: Annotated[list[Id], Meta(max_length=9)] = []
    cases: Annotated[list[Id], Meta(max_length=20)] = []


class ScoreIn(Struct, forbid_unknown_fields=True):
    criterion_key: Key
    score: Score
    comment: Text = ""
    evidence: Evidence = field(default_factory=Evidence)


class SubmissionCreate(Struct, forbid_unknown_fields=True):
    organization_id: Id | None = None  # which of your evaluator organisations (if several)


class SubmissionPatch(Struct, forbid_unknown_fields=True):
    scores: Annotated[list[ScoreIn], Meta(max_length=200)]


class ScoreOut(Struct):
    criterion_key: str
    score: float
    comment: str
    evidence: Evidence


class SubmissionOut(Struct):
    id: int
    assessment_id: int
    campaign_id: int
    estate_id: int
    property_company_id: int
    organization_id: int
    evaluator_kind: str
    status: str
    score: float | None
    version: int
    submitted_at: datetime | None
    updated_at: datetime
    submission_deadline: datetime
    editable: bool
    criteria: list[Criterion] = []  # the scheme version's tree: score its leaves
    scores: list[ScoreOut] = []
    missing: list[str] = []  # leaf keys without a score yet


class PhotoOut(Struct):
    id: int
    submission_id: int
    content_type: str
    width: int
    height: int
    size: int
    uploaded_at: datetime
    url: str
    thumbnail_url: str


# --- conflicts -----------------------------------------------------------------------------------
class ConflictIn(Struct, forbid_unknown_fields=True):
    organization_id: Id
    conflicted_organization_id: Id
    reason: Annotated[str, Meta(min_length=1, max_length=1000)]


class ConflictOut(Struct):
    id: int
    organization_id: int
    conflicted_organization_id: int
    reason: str
    created_at: datetime


# --- survey --------------------------------------------------------------------------------------
class SurveyIn(Struct, forbid_unknown_fields=True):
    unit_id: Id
    overall: Stars
    answers: dict[Key, Stars] = {}
    comment: Text = ""


class SurveyOut(Struct):
    id: int
    assessment_id: int
    unit_id: int
    overall: int
    answers: dict[str, int]
    comment: str
    submitted_at: datetime


class OpenSurvey(Struct):
    """An assessment the resident may answer for, and their units that have not answered yet."""

    assessment_id: int
    campaign_name: str
    estate_id: int
    estate_name: str
    property_company_name: str
    deadline: datetime
    units: list[dict[str, int | str]]
    answered_units: list[int]


class SurveySummaryOut(Struct):
    assessment_id: int
    responses: int
    households: int
    rate: float
    mean_score: float | None
    sufficient: bool
    min_rate: float
    rule: str

