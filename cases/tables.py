"""Cases: the per-tenant working calendar, routing rules, cases and their immutable events.

Calendar `kind` is "holiday" or "workday" (checked in the database too); one row per (tenant,
date). Case statuses, actions and counters follow cases.lifecycle; the raw-SQL migrations add
the checks, the keyset indexes and the trigger that makes case_event append-only.
"""
from piccolo.columns import (
    JSONB,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

# Other packages' tables are referenced by name through Piccolo's app registry, never imported.
Tenant = LazyTableReference(table_class_name="Tenant", app_name="tenancy")
Estate = LazyTableReference(table_class_name="Estate", app_name="tenancy")
Building = LazyTableReference(table_class_name="Building", app_name="tenancy")
Unit = LazyTableReference(table_class_name="Unit", app_name="tenancy")
Person = LazyTableReference(table_class_name="Person", app_name="tenancy")
User = LazyTableReference(table_class_name="User", app_name="tenancy")
Organization = LazyTableReference(table_class_name="Organization", app_name="tenancy")


class CalendarDay(Table, tablename="calendar_day"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    date = Date()
    kind = Varchar(length=10)  # cases.calendar.KINDS
    name = Varchar(length=100, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class RoutingRule(Table, tablename="routing_rule"):
    """Which kind of organisation is responsible for a category (in one estate, or everywhere)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    category = Varchar(length=30)
    estate = ForeignKey(Estate, on_delete=OnDelete.cascade, null=True, default=None)
    target_kind = Varchar(length=30)


class Case(Table, tablename="case_record"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, null=False)
    building = ForeignKey(Building, on_delete=OnDelete.set_null, null=True, default=None)
    unit = ForeignKey(Unit, on_delete=OnDelete.set_null, null=True, default=None)
    location = Varchar(length=200, default="")
    latitude = Real(null=True, default=None)
    longitude = Real(null=True, default=None)
    category = Varchar(length=30)
    priority = Varchar(length=20)
    description = Text()
    channel = Varchar(length=20)
    reporter_user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    reporter_name = Varchar(length=100, default="")
    reporter_phone = Varchar(length=20, null=True, default=None)
    # staff intake naming a known resident (name and phone copied from them at intake)
    reporter_person = ForeignKey(Person, on_delete=OnDelete.set_null, null=True, default=None)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    responsible_org = ForeignKey(Organization, on_delete=OnDelete.restrict, null=False)
    assignee_user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    status = Varchar(length=20, default="submitted")
    paused = Boolean(default=False)
    pauses = JSONB(default=[])  # [{"begin": iso, "end": iso | null, "reason": str}]
    extension_until = Timestamptz(null=True, default=None)  # requested, not yet approved
    escalated = Boolean(default=False)
    duplicate_of = Integer(null=True, default=None)
    sla_targets = JSONB(default={})  # cases.sla.SlaTargets.to_dict() at intake
    sla_source = Varchar(length=20, default="tenant")  # contract | tenant
    routed_at = Timestamptz(default=TimestamptzNow())  # the responsible org got it (return window)
    ack_due_at = Timestamptz()
    resolve_due_at = Timestamptz()
    acknowledged_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    resolution = Text(default="")
    transfers = Integer(default=0)
    returns = Integer(default=0)
    reopens = Integer(default=0)
    pause_count = Integer(default=0)
    rating = Integer(null=True, default=None)
    rating_comment = Text(default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CaseEvent(Table, tablename="case_event"):
    """One change or comment; never updated or deleted (a trigger refuses both)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, null=False)
    seq = Integer()
    at = Timestamptz(default=TimestamptzNow())
    actor_user = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    actor_org = ForeignKey(Organization, on_delete=OnDelete.restrict, null=True, default=None)
    action = Varchar(length=30)
    from_status = Varchar(length=20, null=True, default=None)
    to_status = Varchar(length=20)
    reason = Text(default="")
    data = JSONB(default={})
    visibility = Varchar(length=10, default="public")  # public | internal


class CaseAttachment(Table, tablename="case_attachment"):
    """A photo of a case (cleaned of metadata, with a thumbnail), optionally tied to the event
    it came with. `visibility` internal: organisations only, never the reporter."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, null=False)
    event = ForeignKey(CaseEvent, on_delete=OnDelete.restrict, null=True, default=None)
    kind = Varchar(length=10, default="photo")
    storage_key = Varchar(length=300)
    thumb_key = Varchar(length=300)
    content_type = Varchar(length=50)
    size = Integer()
    sha256 = Varchar(length=64)
    width = Integer()
    height = Integer()
    uploaded_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    visibility = Varchar(length=10, default="public")  # public | internal


class CaseFollower(Table, tablename="case_follower"):
    """A user who follows a case they did not report (the reporter of a merged duplicate)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    case = ForeignKey(Case, on_delete=OnDelete.cascade, index=True, null=False)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False)
    via_case = Integer(null=True, default=None)  # the duplicate that made them follow
    created_at = Timestamptz(default=TimestamptzNow())


class CasePolicy(Table, tablename="case_policy"):
    """A tenant's own SLA targets and auto-close period (cases.policy); one row per tenant at
    most, none while the tenant uses the defaults. An estate's active contract still wins."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, unique=True, null=False)
    sla_targets = JSONB(default={})  # cases.sla.SlaTargets.to_dict()
    auto_close_days = Integer(default=7)
    version = Integer(default=1)
    updated_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES = [CalendarDay, RoutingRule, Case, CaseEvent, CaseAttachment, CaseFollower, CasePolicy]
