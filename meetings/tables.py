"""Tables of the meetings package: the tenant's meeting rules, meetings with their invitations,
agenda, attendance, resolutions, votes and action items, the minutes with their tracked
amendments, public notices (公示) and per-organisation calendar feeds.

Other packages' tables are referenced by name through Piccolo's app registry, never imported.
Allowed values and one-per constraints live in the raw-SQL migration.
"""
from piccolo.columns import (
    JSONB,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
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
Organization = LazyTableReference(table_class_name="Organization", app_name="tenancy")
User = LazyTableReference(table_class_name="User", app_name="tenancy")
Person = LazyTableReference(table_class_name="Person", app_name="tenancy")
Case = LazyTableReference(table_class_name="Case", app_name="cases")
ServiceContract = LazyTableReference(table_class_name="ServiceContract", app_name="contracts")


class MeetingSettings(Table, tablename="meeting_settings"):
    """One row per tenant (created with the defaults on first read). Thresholds are exact
    fractions written "p/q"; `*_strict` means "more than" rather than "at least"."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, unique=True, null=False)
    joint_notice_days = Integer(default=3)
    committee_notice_days = Integer(default=7)
    assembly_notice_days = Integer(default=15)
    notice_post_days = Integer(default=3)  # 公示 period of owners' committee decisions
    committee_signers = Varchar(length=20, default="attending")  # attending | majority_of_all
    participation = Varchar(length=20, default="2/3")
    participation_strict = Boolean(default=False)
    ordinary = Varchar(length=20, default="1/2")
    ordinary_strict = Boolean(default=True)
    special = Varchar(length=20, default="3/4")
    special_strict = Boolean(default=False)
    committee_decision = Varchar(length=20, default="1/2")  # of ALL members, strictly more
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


class Meeting(Table, tablename="meeting"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=12)  # joint | committee | assembly
    title = Varchar(length=200)
    convener = ForeignKey(Organization, on_delete=OnDelete.restrict, index=True, null=False)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    location = Varchar(length=200, default="")
    online_url = Varchar(length=500, default="")
    status = Varchar(length=12, default="scheduled")  # scheduled|in_progress|ended|cancelled
    notice_days_required = Integer(default=0)
    notice_short = Boolean(default=False)  # scheduled with less notice than required
    short_notice_reason = Text(null=True, default=None)
    uid = Varchar(length=64, unique=True)  # iCalendar UID
    sequence = Integer(default=0)  # iCalendar SEQUENCE: bumped on every change
    version = Integer(default=1)
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)


class MeetingInvitee(Table, tablename="meeting_invitee"):
    """An invited organisation, or an invited person with an account (user), or a named guest."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, index=True, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.restrict, null=True, default=None)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    guest_name = Varchar(length=100, null=True, default=None)


class AgendaItem(Table, tablename="meeting_agenda_item"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, index=True, null=False)
    position = Integer(default=1)
    title = Varchar(length=200)
    description = Text(default="")
    case = ForeignKey(Case, on_delete=OnDelete.restrict, null=True, default=None)
    contract = ForeignKey(ServiceContract, on_delete=OnDelete.restrict, null=True, default=None)
    notes = Text(default="")  # discussion notes, taken during the meeting


class Attendance(Table, tablename="meeting_attendance"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, index=True, null=False)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.restrict, null=True, default=None)
    committee_member = Boolean(default=False)  # counts for the owners' committee quorum
    method = Varchar(length=12)  # self | secretary
    recorded_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    signed_in_at = Timestamptz(default=TimestamptzNow())


class Resolution(Table, tablename="meeting_resolution"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, index=True, null=False)
    agenda_item = ForeignKey(AgendaItem, on_delete=OnDelete.set_null, null=True, default=None)
    title = Varchar(length=200)
    text = Text(default="")
    matter = Varchar(length=10, default="ordinary")  # ordinary | special (owners' assembly)
    status = Varchar(length=10, default="draft")  # draft | open | closed
    opened_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None)  # owners' assembly voting period
    closed_at = Timestamptz(null=True, default=None)
    passed = Boolean(null=True, default=None)
    result = JSONB(null=True, default=None)  # the tally with every threshold and its fractions
    version = Integer(default=1)


class Vote(Table, tablename="meeting_vote"):
    """One vote per voter and resolution. `voter_key` names the voter: "user:<id>" (owners'
    committee member), "org:<id>" (an organisation at a joint meeting), or an owner of the
    owners' assembly as meetings.voting builds them ("owners:<person ids>", "developer")."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    resolution = ForeignKey(Resolution, on_delete=OnDelete.cascade, index=True, null=False)
    voter_key = Varchar(length=200)
    choice = Varchar(length=10)  # for | against | abstain
    channel = Varchar(length=10)  # online | paper
    cast_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    person = ForeignKey(Person, on_delete=OnDelete.set_null, null=True, default=None)
    ballot_key = Varchar(length=300, null=True, default=None)
    ballot_sha256 = Varchar(length=64, null=True, default=None)
    ballot_content_type = Varchar(length=100, null=True, default=None)
    ballot_size = BigInt(null=True, default=None)
    recorded_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    cast_at = Timestamptz(default=TimestamptzNow())


class ActionItem(Table, tablename="meeting_action_item"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, index=True, null=False)
    title = Varchar(length=200)
    owner_organization = ForeignKey(Organization, on_delete=OnDelete.restrict, null=True,
                                    default=None)
    owner_user = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    due_on = Date(null=True, default=None)
    status = Varchar(length=10, default="open")  # open | done
    case = ForeignKey(Case, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Minutes(Table, tablename="meeting_minutes"):
    """The minutes of a meeting: `content` is the structured draft (see
    meetings.minutes_service.draft_content); status draft → review → final."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, unique=True, null=False)
    status = Varchar(length=10, default="draft")
    content = JSONB()
    version = Integer(default=1)
    document = Integer(null=True, default=None)  # the documents pipeline's document, once rendered
    finalized_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class MinutesAmendment(Table, tablename="meeting_minutes_amendment"):
    """A change to the minutes, proposed by an attendee in review or made by the secretary:
    which section, the text before and after, and what became of it."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    minutes = ForeignKey(Minutes, on_delete=OnDelete.cascade, index=True, null=False)
    section = Varchar(length=60)
    before = Text(default="")
    after = Text(default="")
    note = Text(default="")
    status = Varchar(length=10, default="proposed")  # proposed | accepted | rejected | applied
    author = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    decided_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class PublicNotice(Table, tablename="meeting_notice"):
    """公示: the masked copy of a meeting's minutes, posted on the estate's notice page."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, unique=True, null=False)
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, index=True, null=False)
    title = Varchar(length=200)
    content = JSONB()
    posted_at = Timestamptz(default=TimestamptzNow())
    posted_until = Timestamptz()
    status = Varchar(length=10, default="posted")  # posted | expired
    posted_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    # The notice's PDF, rendered and registered by the documents pipeline (kind "notice")
    document = Integer(null=True, default=None)
    pdf_key = Varchar(length=300, null=True, default=None)
    pdf_sha256 = Varchar(length=64, null=True, default=None)
    pdf_size = BigInt(null=True, default=None)


class CalendarFeed(Table, tablename="meeting_calendar_feed"):
    """An organisation's meeting feed: calendar clients cannot send bearer tokens, so the feed
    is read with an unguessable token in its URL; only the token's SHA-256 is stored."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.cascade, index=True, null=False)
    token_hash = Varchar(length=64, unique=True)
    label = Varchar(length=100, default="")
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


TABLES = [MeetingSettings, Meeting, MeetingInvitee, AgendaItem, Attendance, Resolution, Vote,
          ActionItem, Minutes, MinutesAmendment, PublicNotice, CalendarFeed]
