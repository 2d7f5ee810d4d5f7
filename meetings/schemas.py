"""Request and response types of the meetings API (msgspec Structs)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]
Kind = Literal["joint", "committee", "assembly"]
Status = Literal["scheduled", "in_progress", "ended", "cancelled"]
Choice = Literal["for", "against", "abstain"]
Matter = Literal["ordinary", "special"]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
LongText = Annotated[str, Meta(max_length=20_000)]
FractionText = Annotated[str, Meta(min_length=1, max_length=20,
                                   description="an exact fraction, e.g. \"2/3\"",
                                   examples=["2/3"])]
Days = Annotated[int, Meta(ge=0, le=365)]


class AgendaItemIn(Struct, forbid_unknown_fields=True):
    title: Title
    description: LongText = ""
    case_id: Id | None = None
    contract_id: Id | None = None


class GuestIn(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]


class MeetingIn(Struct, forbid_unknown_fields=True):
    kind: Kind
    estate_id: Id
    convener_organization_id: Id
    title: Title
    starts_at: datetime
    ends_at: datetime
    location: Annotated[str, Meta(max_length=200)] = ""
    online_url: Annotated[str, Meta(max_length=500, description="https:// link of an online meeting")] = ""
    invited_organization_ids: Annotated[list[Id], Meta(max_length=50)] = []
    invited_user_ids: Annotated[list[Id], Meta(max_length=200)] = []
    guests: Annotated[list[GuestIn], Meta(max_length=50)] = []
    agenda: Annotated[list[AgendaItemIn], Meta(max_length=50)] = []
    short_notice_reason: Annotated[str, Meta(min_length=1, max_length=2000, description=(
        "Required when the meeting is scheduled with less notice than the tenant's rule"))] | None = None


class MeetingPatch(Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    starts_at: datetime | UnsetType = UNSET
    ends_at: datetime | UnsetType = UNSET
    location: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    online_url: Annotated[str, Meta(max_length=500, description="https:// link of an online meeting")] | UnsetType = UNSET
    short_notice_reason: Annotated[str, Meta(min_length=1, max_length=2000)] | UnsetType = UNSET


class AgendaNotesIn(Struct, forbid_unknown_fields=True):
    notes: LongText


class InviteeOut(Struct):
    organization_id: int | None
    organization_name: str | None
    user_id: int | None
    name: str | None


class AgendaItemOut(Struct):
    id: int
    position: int
    title: str
    description: str
    case_id: int | None
    contract_id: int | None
    notes: str


class MeetingOut(Struct):
    id: int
    kind: Kind
    estate_id: int
    title: str
    convener_organization_id: int
    starts_at: datetime
    ends_at: datetime
    location: str
    online_url: str
    status: Status
    notice_days_required: int
    notice_short: bool
    short_notice_reason: str | None
    version: int
    invitees: list[InviteeOut] = []
    agenda: list[AgendaItemOut] = []
    can_manage: bool = False


class AttendanceIn(Struct, forbid_unknown_fields=True):
    user_id: Annotated[Id, Meta(description="Recorded by the secretary; empty: sign yourself in")] | None = None
    proxy_for_user_id: Annotated[Id, Meta(description="Refused: members attend in person")] | None = None


class AttendeeOut(Struct):
    user_id: int
    name: str
    organization_id: int | None
    committee_member: bool
    method: str
    signed_in_at: datetime


class QuorumOut(Struct):
    applies: bool
    members: int
    present: int
    reached: bool
    fraction: str  # present/members, exact


class AttendanceOut(Struct):
    attendees: list[AttendeeOut]
    quorum: QuorumOut


class ResolutionIn(Struct, forbid_unknown_fields=True):
    title: Title
    text: LongText = ""
    matter: Matter = "ordinary"
    agenda_item_id: Id | None = None


class OpenVotingIn(Struct, forbid_unknown_fields=True):
    closes_at: Annotated[datetime, Meta(description="Owners' assembly: end of the voting period")] | None = None


class VoteIn(Struct, forbid_unknown_fields=True):
    choice: Choice


class ResolutionOut(Struct):
    id: int
    meeting_id: int
    agenda_item_id: int | None
    title: str
    text: str
    matter: Matter
    status: str
    opened_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    passed: bool | None
    result: dict[str, Any] | None
    votes_cast: int = 0
    my_vote: str | None = None


class VoteOut(Struct):
    id: int
    resolution_id: int
    voter_key: str
    choice: Choice
    channel: str
    cast_at: datetime
    has_ballot: bool


class ActionItemIn(Struct, forbid_unknown_fields=True):
    title: Title
    owner_organization_id: Id | None = None
    owner_user_id: Id | None = None
    due_on: date | None = None


class ActionItemPatch(Struct, forbid_unknown_fields=True):
    status: Literal["open", "done"] | UnsetType = UNSET
    due_on: date | None | UnsetType = UNSET


class OpenCaseIn(Struct, forbid_unknown_fields=True):
    category: Literal["repair", "complaint", "safety_hazard", "sanitation", "greening", "order",
                      "parking", "neighbour_dispute", "fees", "suggestion", "inquiry", "other"]
    priority: Literal["emergency", "urgent", "normal"] = "normal"
    description: Annotated[str, Meta(max_length=3000)] = ""


class ActionItemOut(Struct):
    id: int
    meeting_id: int
    title: str
    owner_organization_id: int | None
    owner_user_id: int | None
    due_on: date | None
    status: str
    case_id: int | None


class MinutesOut(Struct):
    meeting_id: int
    status: str
    content: dict[str, Any]
    version: int
    document_id: int | None
    finalized_at: datetime | None


class MinutesSectionIn(Struct, forbid_unknown_fields=True):
    section: Annotated[str, Meta(min_length=1, max_length=60, pattern=r"^[a-z_0-9:]+$",
                                 description="summary, or agenda:<agenda item id>")]
    text: LongText
    note: Annotated[str, Meta(max_length=2000)] = ""


class AmendmentDecisionIn(Struct, forbid_unknown_fields=True):
    accept: bool


class AmendmentOut(Struct):
    id: int
    section: str
    before: str
    after: str
    note: str
    status: str
    author_user_id: int | None
    decided_by_user_id: int | None
    created_at: datetime
    decided_at: datetime | None


class NoticeOut(Struct):
    id: int
    meeting_id: int
    estate_id: int
    title: str
    content: dict[str, Any]
    posted_at: datetime
    posted_until: datetime
    status: str


class FeedIn(Struct, forbid_unknown_fields=True):
    label: Annotated[str, Meta(max_length=100)] = ""


class FeedOut(Struct):
    id: int
    organization_id: int
    label: str
    created_at: datetime
    revoked_at: datetime | None
    url: str | None = None  # shown once, at creation


class SettingsOut(Struct):
    joint_notice_days: int
    committee_notice_days: int
    assembly_notice_days: int
    notice_post_days: int
    committee_signers: Literal["attending", "majority_of_all"]
    participation: str
    participation_strict: bool
    ordinary: str
    ordinary_strict: bool
    special: str
    special_strict: bool
    committee_decision: str
    version: int


class SettingsPatch(Struct, forbid_unknown_fields=True):
    joint_notice_days: Days | UnsetType = UNSET
    committee_notice_days: Days | UnsetType = UNSET
    assembly_notice_days: Days | UnsetType = UNSET
    notice_post_days: Annotated[int, Meta(ge=1, le=365)] | UnsetType = UNSET
    committee_signers: Literal["attending", "majority_of_all"] | UnsetType = UNSET
    participation: FractionText | UnsetType = UNSET
    participation_strict: bool | UnsetType = UNSET
    ordinary: FractionText | UnsetType = UNSET
    ordinary_strict: bool | UnsetType = UNSET
    special: FractionText | UnsetType = UNSET
    special_strict: bool | UnsetType = UNSET
    committee_decision: FractionText | UnsetType = UNSET


class RenderQueuedOut(Struct):
    job: str


class SignerStatusOut(Struct):
    index: int
    kind: Literal["person", "seal"]
    name: str
    role: str
    organization: str
    signed: bool
    turn: bool


class SignatureStatusOut(Struct):
    document_id: int
    version: int
    state: str
    sha256: str
    signers: list[SignerStatusOut]
    my_turn: bool


class InboxItemOut(SignatureStatusOut):
    meeting_id: int = 0
    title: str = ""
    kind: str = ""
    starts_at: datetime | None = None


class SignIn(Struct, forbid_unknown_fields=True):
    pin: Annotated[str, Meta(min_length=4, max_length=64)]
