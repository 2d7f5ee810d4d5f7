"""Tenancy: the jurisdiction, its places, the people and organisations in it, and accounts.

Every tenant-owned row carries `tenant` (the tenant id) so every query can be scoped and
tenants can later be sharded by it.
"""
from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Tenant(Table, tablename="tenant"):
    code = Varchar(length=50, unique=True)
    name = Varchar(length=200)
    created_at = Timestamptz(default=TimestamptzNow())


class Street(Table, tablename="street"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    name = Varchar(length=100)
    code = Varchar(length=50, null=True, default=None)


class Community(Table, tablename="community"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    street = ForeignKey(Street, on_delete=OnDelete.restrict, index=True, null=False)
    name = Varchar(length=100)
    code = Varchar(length=50, null=True, default=None)


class Estate(Table, tablename="estate"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, index=True, null=False)
    name = Varchar(length=100)
    address = Varchar(length=200, default="")
    developer = Varchar(length=200, default="")


class Building(Table, tablename="building"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, index=True, null=False)
    name = Varchar(length=50)
    floors = Integer(null=True, default=None)


class Unit(Table, tablename="unit"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, index=True, null=False)
    building = ForeignKey(Building, on_delete=OnDelete.restrict, index=True, null=False)
    number = Varchar(length=50)
    floor = Integer(null=True, default=None)
    # Exclusive (专有) floor area in m² from the property register; it weights owners' votes.
    exclusive_area = Numeric(digits=(10, 2))
    # The developer's unsold units together count as one owner (SPC interpretation art. 9).
    developer_unsold = Boolean(default=False)


class Person(Table, tablename="person"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    name = Varchar(length=100)
    phone = Varchar(length=20, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Ownership(Table, tablename="ownership"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    person = ForeignKey(Person, on_delete=OnDelete.restrict, index=True, null=False)
    unit = ForeignKey(Unit, on_delete=OnDelete.cascade, index=True, null=False)
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, index=True, null=False)


class Organization(Table, tablename="organization"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=30)  # tenancy.schemas.OrgKind
    name = Varchar(length=200)
    # 统一社会信用代码 (unified social credit code), when the body has one.
    credit_code = Varchar(length=18, null=True, default=None)
    phone = Varchar(length=20, null=True, default=None)


class OrganizationCoverage(Table, tablename="organization_coverage"):
    """A place an organisation covers: exactly one of street, community or estate."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.cascade, index=True, null=False)
    street = ForeignKey(Street, on_delete=OnDelete.cascade, null=True, default=None)
    community = ForeignKey(Community, on_delete=OnDelete.cascade, null=True, default=None)
    estate = ForeignKey(Estate, on_delete=OnDelete.cascade, null=True, default=None)


class User(Table, tablename="app_user"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    username = Varchar(length=64, unique=True)
    password_hash = Varchar(length=200)
    display_name = Varchar(length=100)
    phone = Varchar(length=20, null=True, default=None)
    person = ForeignKey(Person, on_delete=OnDelete.set_null, null=True, default=None)
    language = Varchar(length=8, default="zh-CN")
    is_active = Boolean(default=True)
    password_changed_at = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="membership"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.cascade, index=True, null=False)
    role = Varchar(length=30)  # tenancy.schemas.ROLES_BY_KIND
    created_at = Timestamptz(default=TimestamptzNow())


class AuthToken(Table, tablename="auth_token"):
    """A login: a web session (cookie) or an API bearer token. Only its hash is stored."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, index=True, null=False)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True, null=False)
    token_hash = Varchar(length=64, unique=True)
    kind = Varchar(length=10)  # web | api
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    user_agent = Varchar(length=200, default="")


class ContactView(Table, tablename="contact_view"):
    """Every time someone sees a person's unmasked name or phone (PIPL accountability)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    viewer = ForeignKey(User, on_delete=OnDelete.restrict, index=True, null=False)
    person = ForeignKey(Person, on_delete=OnDelete.restrict, index=True, null=False)
    purpose = Varchar(length=100)
    viewed_at = Timestamptz(default=TimestamptzNow())


TABLES = [Tenant, Street, Community, Estate, Building, Unit, Person, Ownership, Organization,
          OrganizationCoverage, User, Membership, AuthToken, ContactView]
