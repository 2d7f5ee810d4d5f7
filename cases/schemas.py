"""Request and response types of the cases API (msgspec Structs)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from cases.sla import SlaTargets

DayKind = Literal["holiday", "workday"]


class CalendarDayIn(Struct, forbid_unknown_fields=True):
    kind: Annotated[DayKind, Meta(description="holiday: a day off; workday: a working day "
                                              "(e.g. a make-up workday on a weekend)")]
    name: Annotated[str, Meta(min_length=1, max_length=100, examples=["防汛值班"])]


class CalendarDayOut(Struct):
    date: date
    kind: DayKind
    name: str
    source: Annotated[Literal["national", "tenant"],
                      Meta(description="national: shipped statutory data; tenant: your own entry, "
                                       "which wins over the national one")]
    workday: bool


class CalendarYearOut(Struct):
    year: int
    covered: Annotated[bool, Meta(description="Whether national holiday data exists for the year; "
                                              "without it only weekends and your entries count")]
    business_hours: Annotated[str, Meta(examples=["09:00-17:00"])]
    days: list[CalendarDayOut]


# --- cases -------------------------------------------------------------------------------------
Category = Literal["repair", "complaint", "safety_hazard", "sanitation", "greening", "order",
                   "parking", "neighbour_dispute", "fees", "suggestion", "inquiry", "other"]
PriorityName = Literal["emergency", "urgent", "normal"]
SortName = Literal["-created_at", "created_at", "resolve_due_at", "priority"]
Channel = Literal["app", "phone", "walk_in", "grid", "hotline_12345"]
Visibility = Literal["public", "internal"]
StatusName = Literal["submitted", "accepted", "assigned", "acknowledged", "in_progress", "resolved",
                     "closed", "returned", "rejected", "duplicate", "withdrawn"]
Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]
Phone = Annotated[str, Meta(min_length=7, max_length=20, pattern=r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")]


class CaseIn(Struct, forbid_unknown_fields=True):
    estate_id: Id
    category: Category
    description: Annotated[str, Meta(min_length=1, max_length=4000)]
    priority: PriorityName = "normal"
    building_id: Id | None = None
    unit_id: Id | None = None
    location: Annotated[str, Meta(max_length=200)] = ""
    latitude: Annotated[float, Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Meta(ge=-180, le=180)] | None = None
    channel: Annotated[Channel, Meta(description="app: the caller reports for themselves; other "
                                                 "channels are staff intake for someone else")] = "app"
    reporter_name: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    reporter_phone: Phone | None = None
    reporter_person_id: Annotated[Id, Meta(description=(
        "Staff intake: a resident owning a unit in the estate; their name and phone are copied "
        "to the case (instead of reporter_name and reporter_phone)"))] | None = None


class ActionIn(Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None
    assignee_user_id: Id | None = None
    target_organization_id: Id | None = None
    new_due_at: datetime | None = None
    rating: Annotated[int, Meta(ge=1, le=5)] | None = None
    comment: Annotated[str, Meta(min_length=1, max_length=4000)] | None = None
    duplicate_of_case_id: Id | None = None


class CommentIn(Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(min_length=1, max_length=4000)]
    visibility: Visibility = "public"


class Reporter(Struct):
    name: str
    phone: str | None
    masked: bool


class CaseOut(Struct):
    id: int
    estate_id: int
    building_id: int | None
    unit_id: int | None
    location: str
    category: str
    priority: str
    description: str
    channel: str
    status: str
    paused: bool
    escalated: bool
    extension_requested_until: datetime | None
    responsible_organization_id: int
    assignee_user_id: int | None
    reporter: Reporter
    ack_due_at: datetime
    resolve_due_at: datetime
    overdue: bool
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str
    transfers: int
    returns: int
    reopens: int
    pauses: int
    rating: int | None
    rating_comment: str
    duplicate_of_case_id: int | None
    sla_source: str
    version: int
    created_at: datetime
    updated_at: datetime
    allowed_actions: Annotated[list[str], Meta(description="What the caller may do next")]
    similar_open_cases: Annotated[list[SimilarCaseOut] | UnsetType, Meta(
        description="On creation only: open cases that may be the same problem")] = UNSET


class CasePage(Struct):
    items: list[CaseOut]
    next_cursor: Annotated[str | None, Meta(description="Pass as `cursor` (with the same `sort`) "
                                                        "for the next page")]


class CaseCounts(Struct):
    total: int
    overdue: Annotated[int, Meta(description="Open, not paused, past a deadline")]
    by_status: Annotated[dict[str, int], Meta(description="Every status, 0 when none")]


class CaseEventOut(Struct):
    seq: int
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    actor_user_id: int | None
    actor_organization_id: int | None
    reason: str
    data: dict
    visibility: str


TargetKind = Literal["property_company", "residents_committee", "owners_committee", "street_office"]


class RoutingRuleIn(Struct, forbid_unknown_fields=True):
    category: Category
    estate_id: Annotated[Id | None, Meta(description="Only this estate; none: the whole tenant")] = None
    target_kind: Annotated[TargetKind | None, Meta(
        description="The kind of organisation responsible; none removes the rule")] = None


class RoutingRuleOut(Struct):
    category: str
    estate_id: int | None
    target_kind: str
    source: Annotated[Literal["tenant", "default"],
                      Meta(description="default: built in, applies when the tenant has no rule")]


# --- photos and duplicates ----------------------------------------------------------------------
class AttachmentOut(Struct):
    id: int
    case_id: int
    event_seq: Annotated[int | None, Meta(description="The case event the photo came with")]
    kind: Literal["photo"]
    content_type: str
    size: int
    sha256: Annotated[str, Meta(description="Of the stored (metadata-free) image")]
    width: int
    height: int
    uploaded_by_user_id: int
    uploaded_at: datetime
    visibility: Visibility
    url: str
    thumbnail_url: str


class SimilarCaseOut(Struct):
    """An open case that may be the same problem (no reporter data)."""

    id: int
    estate_id: int
    building_id: int | None
    category: str
    status: str
    location: str
    description: str
    created_at: datetime
    distance_m: Annotated[float | None, Meta(description="From the given coordinates, if both "
                                                         "cases have them")]


# --- the tenant's case policy -------------------------------------------------------------------
class CasePolicyIn(Struct, forbid_unknown_fields=True):
    sla_targets: Annotated[SlaTargets, Meta(description=(
        "Acknowledge/resolve allowances per priority (natural_hours or working_days) and the "
        "return window; an estate's active contract that sets targets still wins"))]
    auto_close_days: Annotated[int, Meta(ge=1, le=90, description=(
        "Days a resolved case waits for the reporter's rating before it closes as not rated"))] = 7


class CasePolicyOut(Struct):
    sla_targets: SlaTargets
    auto_close_days: int
    source: Annotated[Literal["default", "tenant"], Meta(description=(
        "default: no policy stored, the built-in defaults apply"))]
    version: Annotated[int, Meta(description="0 while the defaults apply; the ETag is \"v<version>\"")]
    updated_at: datetime | None = None
