"""All tenancy queries. Every base query is scoped to the caller's tenant and coverage."""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.table import Table

from core.db import fetch, require_transaction
from tenancy.principal import Principal, Seat
from tenancy.tables import (
    AuthToken,
    Building,
    Community,
    ContactView,
    Estate,
    Membership,
    Organization,
    OrganizationCoverage,
    Ownership,
    Person,
    Street,
    Tenant,
    Unit,
    User,
)

MAX_PAGE = 500


def _in(column, ids) -> Any:
    """`column IN ids`, false for an empty set (Piccolo refuses empty IN lists)."""
    return column.is_in(sorted(ids)) if ids else WhereRaw("FALSE")


# --- principal -----------------------------------------------------------------------------
# Each organisation's covered places expanded downwards (street -> communities -> estates) and
# upwards to the enclosing community and street, from a CTE `cov` of coverage rows; `{tenant}`
# is the tenant's SQL expression. One join per kind of coverage (an OR across them would pair
# every coverage row with every estate of the tenant: 14 ms per request with 2,000 estates).
_EXPANDED = """
    place AS (
      SELECT cov.organization, cov.estate FROM cov WHERE cov.estate IS NOT NULL
      UNION ALL
      SELECT cov.organization, e.id FROM cov
        JOIN estate e ON e.community = cov.community AND e.tenant = {tenant}
      UNION ALL
      SELECT cov.organization, e.id FROM cov
        JOIN community c ON c.street = cov.street AND c.tenant = {tenant}
        JOIN estate e ON e.community = c.id),
    expanded AS (
      SELECT place.organization, e.id AS estate, c.id AS community, c.street AS street
        FROM place JOIN estate e ON e.id = place.estate JOIN community c ON c.id = e.community
      UNION
      SELECT cov.organization, NULL, c.id, c.street
        FROM cov JOIN community c ON c.id = cov.community
      UNION
      SELECT cov.organization, NULL, c.id, c.street
        FROM cov JOIN community c ON c.street = cov.street AND c.tenant = {tenant}
      UNION
      SELECT cov.organization, NULL, NULL, cov.street FROM cov WHERE cov.street IS NOT NULL)
"""
# The token, its user, their memberships and every membership's places in one round trip
# (this runs before every authenticated request).
_PRINCIPAL = """
    WITH t AS (
      SELECT t.id AS token_id, t.kind, u.id AS user_id, u.tenant, u.username, u.display_name,
             u.language, u.person, tn.name AS tenant_name
        FROM auth_token t JOIN app_user u ON u.id = t.user JOIN tenant tn ON tn.id = u.tenant
       WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.is_active),
    m AS (
      SELECT m.id, m.organization, m.role, o.name, o.kind FROM t
        JOIN membership m ON m.user = t.user_id AND m.tenant = t.tenant
        JOIN organization o ON o.id = m.organization),
    cov AS (
      SELECT organization, street, community, estate FROM organization_coverage
       WHERE tenant = (SELECT tenant FROM t) AND organization IN (SELECT organization FROM m)),
""" + _EXPANDED.format(tenant="(SELECT tenant FROM t)") + """
    SELECT t.*,
      (SELECT json_agg(json_build_array(m.id, m.organization, m.role, m.name, m.kind)
                       ORDER BY m.kind, m.name) FROM m) AS members,
      (SELECT json_agg(json_build_array(x.organization, x.estate, x.community, x.street))
         FROM expanded x) AS places
    FROM t
"""


async def load_principal(token_hash: str, now: datetime) -> Principal | None:
    rows = await fetch(_PRINCIPAL, token_hash, now)
    if not rows:
        return None
    r = rows[0]
    members = [dict(zip(("id", "organization", "role", "name", "kind"), m))
               for m in json.loads(r["members"] or "[]")]
    places = _places(dict(zip(("organization", "estate", "community", "street"), x))
                     for x in json.loads(r["places"] or "[]"))
    return Principal(user_id=r["user_id"], tenant_id=r["tenant"], tenant_name=r["tenant_name"],
                     username=r["username"], display_name=r["display_name"],
                     language=r["language"], person_id=r["person"], token_id=r["token_id"],
                     token_kind=r["kind"], seats=_seats(members, places))


async def load_seats(user_id: int, tenant_id: int) -> tuple[Seat, ...]:
    members = await fetch(
        "SELECT m.id, m.organization, m.role, o.name, o.kind FROM membership m"
        " JOIN organization o ON o.id = m.organization"
        " WHERE m.user = $1 AND m.tenant = $2 ORDER BY o.kind, o.name", user_id, tenant_id)
    org_ids = [m["organization"] for m in members]
    return _seats(members, await _expanded_coverage(tenant_id, org_ids) if org_ids else {})


def _seats(members: list[dict], places: dict[int, dict[str, set[int]]]) -> tuple[Seat, ...]:
    return tuple(
        Seat(membership_id=m["id"], organization_id=m["organization"], organization_name=m["name"],
             kind=m["kind"], role=m["role"],
             streets=frozenset(places.get(m["organization"], {}).get("streets", ())),
             communities=frozenset(places.get(m["organization"], {}).get("communities", ())),
             estates=frozenset(places.get(m["organization"], {}).get("estates", ())))
        for m in members)


async def _expanded_coverage(tenant_id: int, org_ids: list[int]) -> dict[int, dict[str, set[int]]]:
    rows = await fetch(
        "WITH cov AS (SELECT organization, street, community, estate FROM organization_coverage"
        " WHERE tenant = $1 AND organization = ANY($2::int[])),"
        + _EXPANDED.format(tenant="$1") + " SELECT * FROM expanded", tenant_id, org_ids)
    return _places(rows)


def _places(rows) -> dict[int, dict[str, set[int]]]:
    out: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        o = out[r["organization"]]
        for kind, col in (("estates", "estate"), ("communities", "community"), ("streets", "street")):
            if r[col] is not None:
                o[kind].add(r[col])
    return out


# --- tokens and users ----------------------------------------------------------------------
async def user_by_username(username: str) -> dict | None:
    return await User.select().where(User.username == username).first()


async def user_by_id(tenant_id: int, user_id: int) -> dict | None:
    return await User.select().where(User.id == user_id, User.tenant == tenant_id).first()


async def create_token(**values: Any) -> int:
    require_transaction()
    rows = await AuthToken.insert(AuthToken(**values)).returning(AuthToken.id)
    return rows[0]["id"]


async def revoke_tokens(user_id: int, now: datetime, *, except_token: int | None = None,
                        only_token: int | None = None) -> None:
    require_transaction()
    q = AuthToken.update({AuthToken.revoked_at: now}).where(
        AuthToken.user == user_id, AuthToken.revoked_at.is_null())
    if except_token is not None:
        q = q.where(AuthToken.id != except_token)
    if only_token is not None:
        q = q.where(AuthToken.id == only_token)
    await q


async def purge_tokens(before: datetime) -> int:
    rows = await fetch("DELETE FROM auth_token WHERE expires_at < $1 OR revoked_at < $1 RETURNING id",
                       before)
    return len(rows)


async def set_password_hash(user_id: int, password_hash: str, now: datetime) -> None:
    require_transaction()
    await User.update({User.password_hash: password_hash, User.password_changed_at: now}).where(
        User.id == user_id)


# --- generic scoped access ------------------------------------------------------------------
class Scoped:
    """Base statement already limited to what `principal` may read in `table`."""

    table: type[Table]

    def __init__(self, principal: Principal) -> None:
        self.p = principal

    def scope(self) -> Any:
        raise NotImplementedError

    def _where(self) -> list[Any]:
        return [self.table.tenant == self.p.tenant_id, self.scope()]  # type: ignore[attr-defined]

    async def get(self, id: int) -> dict | None:
        return await self.table.select().where(self.table.id == id, *self._where()).first()

    async def list(self, *where: Any, limit: int = 100, offset: int = 0, order=None) -> list[dict]:
        q = self.table.select().where(*self._where(), *where)
        q = q.order_by(order or self.table.id).limit(min(limit, MAX_PAGE)).offset(offset)
        return await q

    async def create(self, **values: Any) -> dict:
        require_transaction()
        rows = await self.table.insert(self.table(tenant=self.p.tenant_id, **values)).returning(
            *self.table.all_columns())
        return rows[0]

    async def update(self, id: int, values: dict[str, Any]) -> dict | None:
        require_transaction()
        if values:
            await self.table.update(values).where(self.table.id == id, *self._where())
        return await self.get(id)


class Streets(Scoped):
    table = Street

    def scope(self):
        return WhereRaw("TRUE") if self.p.tenant_wide else _in(Street.id, self.p.streets)


class Communities(Scoped):
    table = Community

    def scope(self):
        return WhereRaw("TRUE") if self.p.tenant_wide else _in(Community.id, self.p.communities)


class Estates(Scoped):
    table = Estate

    def scope(self):
        return WhereRaw("TRUE") if self.p.tenant_wide else _in(Estate.id, self.p.estates)

    async def get_with_street(self, id: int) -> dict | None:
        return await Estate.select(*Estate.all_columns(), Estate.community.street.as_alias("street")
                                   ).where(Estate.id == id, *self._where()).first()

    async def list_with_street(self, *where: Any, limit: int = 100, offset: int = 0) -> list[dict]:
        return await Estate.select(*Estate.all_columns(), Estate.community.street.as_alias("street")
                                   ).where(*self._where(), *where).order_by(Estate.id).limit(
            min(limit, MAX_PAGE)).offset(offset)


class _InEstates(Scoped):
    def scope(self):
        if self.p.tenant_wide:
            return WhereRaw("TRUE")
        return _in(self.table.estate, self.p.estates)  # type: ignore[attr-defined]


class Buildings(_InEstates):
    table = Building


class Units(_InEstates):
    table = Unit


class Ownerships(_InEstates):
    table = Ownership

    async def with_people(self, unit_id: int) -> list[dict]:
        return await Ownership.select(
            Ownership.id, Ownership.unit, Ownership.person, Ownership.person.name.as_alias("name"),
            Ownership.person.phone.as_alias("phone")).where(
            Ownership.unit == unit_id, *self._where()).order_by(Ownership.id)

    async def delete(self, id: int) -> None:
        require_transaction()
        await Ownership.delete().where(Ownership.id == id, *self._where())


class People(Scoped):
    table = Person

    def scope(self):
        if self.p.tenant_wide:
            return WhereRaw("TRUE")
        if not self.p.estates:
            return Person.id == (self.p.person_id or 0)
        ids = ",".join(str(int(e)) for e in sorted(self.p.estates))
        own = WhereRaw(f"person.id IN (SELECT person FROM ownership WHERE estate IN ({ids}))")
        return own | (Person.id == (self.p.person_id or 0))

    async def estates_of(self, person_id: int) -> list[int]:
        rows = await Ownership.select(Ownership.estate).where(
            Ownership.person == person_id, Ownership.tenant == self.p.tenant_id).distinct()
        return [r["estate"] for r in rows]

    async def log_contact_view(self, person_id: int, purpose: str) -> None:
        require_transaction()
        await ContactView.insert(ContactView(tenant=self.p.tenant_id, viewer=self.p.user_id,
                                             person=person_id, purpose=purpose))


class Organizations(Scoped):
    table = Organization

    def scope(self):
        if self.p.tenant_wide:
            return WhereRaw("TRUE")
        def ids(values) -> str:
            return ",".join(str(int(v)) for v in sorted(values)) or "NULL"
        related = WhereRaw(
            "organization.id IN (SELECT organization FROM organization_coverage WHERE "
            f"estate IN ({ids(self.p.estates)}) OR community IN ({ids(self.p.communities)}) "
            f"OR street IN ({ids(self.p.streets)}))")
        return (related | _in(Organization.id, self.p.organization_ids)
                | (Organization.kind == "housing_bureau"))

    async def coverage(self, org_ids: list[int]) -> dict[int, list[dict]]:
        if not org_ids:
            return {}
        rows = await OrganizationCoverage.select().where(
            OrganizationCoverage.organization.is_in(org_ids),
            OrganizationCoverage.tenant == self.p.tenant_id).order_by(OrganizationCoverage.id)
        out: dict[int, list[dict]] = defaultdict(list)
        for r in rows:
            out[r["organization"]].append(r)
        return out

    async def replace_coverage(self, org_id: int, items: list[dict[str, int | None]]) -> None:
        require_transaction()
        await OrganizationCoverage.delete().where(OrganizationCoverage.organization == org_id,
                                                  OrganizationCoverage.tenant == self.p.tenant_id)
        for item in items:
            await OrganizationCoverage.insert(OrganizationCoverage(
                tenant=self.p.tenant_id, organization=org_id, street=item.get("street"),
                community=item.get("community"), estate=item.get("estate")))


class Users(Scoped):
    table = User

    def scope(self):
        if self.p.is_tenant_admin:
            return WhereRaw("TRUE")
        admin_orgs = [s.organization_id for s in self.p.seats_where(roles=("admin",))]
        mine = User.id == self.p.user_id
        if not admin_orgs:
            return mine
        orgs = ",".join(str(o) for o in admin_orgs)
        return mine | WhereRaw(
            f'app_user.id IN (SELECT "user" FROM membership WHERE organization IN ({orgs}))')


class Memberships(Scoped):
    """Memberships of the caller's own organisations (all of them for the bureau)."""

    table = Membership

    def scope(self):
        return WhereRaw("TRUE") if self.p.tenant_wide else _in(Membership.organization,
                                                                self.p.organization_ids)

    async def remove(self, id: int) -> None:
        require_transaction()
        await Membership.delete().where(Membership.id == id, *self._where())

    async def of_organization(self, org_id: int) -> list[dict]:
        return await Membership.select(
            Membership.id, Membership.user, Membership.role,
            Membership.user.display_name.as_alias("display_name")).where(
            Membership.organization == org_id, Membership.tenant == self.p.tenant_id).order_by(
            Membership.id)


async def tenant(tenant_id: int) -> dict | None:
    return await Tenant.select().where(Tenant.id == tenant_id).first()


async def update_tenant(tenant_id: int, values: dict) -> dict:
    require_transaction()
    if values:
        await Tenant.update(values).where(Tenant.id == tenant_id)
    return await tenant(tenant_id)  # type: ignore[return-value]


# --- for other packages (cases): explicit tenant, no caller scope; callers check access ------
async def estate_place(tenant_id: int, estate_id: int) -> dict | None:
    """The estate with its community and street."""
    rows = await fetch("SELECT e.id, e.community, c.street FROM estate e"
                       " JOIN community c ON c.id = e.community WHERE e.tenant = $1 AND e.id = $2",
                       tenant_id, estate_id)
    return rows[0] if rows else None


async def place_in_estate(tenant_id: int, estate_id: int, building_id: int | None,
                          unit_id: int | None) -> bool:
    """Whether the building and unit (either may be None) lie in the estate (and each other)."""
    rows = await fetch(
        "SELECT ($3::int IS NULL OR EXISTS (SELECT 1 FROM building WHERE tenant = $1 AND id = $3"
        "  AND estate = $2))"
        " AND ($4::int IS NULL OR EXISTS (SELECT 1 FROM unit WHERE tenant = $1 AND id = $4"
        "  AND estate = $2 AND ($3::int IS NULL OR building = $3))) AS ok",
        tenant_id, estate_id, building_id, unit_id)
    return bool(rows[0]["ok"])


async def organizations_covering_estate(tenant_id: int, estate_id: int,
                                        kinds: list[str]) -> list[int]:
    """Organisations of `kinds` covering the estate directly or through its community or street."""
    rows = await fetch(
        "SELECT DISTINCT o.id FROM organization o"
        " JOIN organization_coverage oc ON oc.organization = o.id"
        " JOIN estate e ON e.id = $2 AND e.tenant = $1 JOIN community c ON c.id = e.community"
        " WHERE o.tenant = $1 AND o.kind = ANY($3::text[])"
        "  AND (oc.estate = e.id OR oc.community = c.id OR oc.street = c.street) ORDER BY o.id",
        tenant_id, estate_id, list(kinds))
    return [r["id"] for r in rows]


async def owned_estates(tenant_id: int, person_id: int) -> list[int]:
    rows = await fetch("SELECT DISTINCT estate FROM ownership WHERE tenant = $1 AND person = $2"
                       " ORDER BY estate", tenant_id, person_id)
    return [r["estate"] for r in rows]


async def organization_members(tenant_id: int, org_id: int,
                               roles: tuple[str, ...] | None = None) -> list[int]:
    rows = await fetch("SELECT DISTINCT m.user FROM membership m JOIN app_user u ON u.id = m.user"
                       " WHERE m.tenant = $1 AND m.organization = $2 AND u.is_active"
                       " AND ($3::text[] IS NULL OR m.role = ANY($3::text[])) ORDER BY 1",
                       tenant_id, org_id, list(roles) if roles else None)
    return [r["user"] for r in rows]


async def user_contact(tenant_id: int, user_id: int) -> dict | None:
    """An account's own name and phone, or its linked resident's when it has one."""
    rows = await fetch("SELECT COALESCE(p.name, u.display_name) AS name,"
                       " COALESCE(p.phone, u.phone) AS phone FROM app_user u"
                       " LEFT JOIN person p ON p.id = u.person WHERE u.tenant = $1 AND u.id = $2",
                       tenant_id, user_id)
    return rows[0] if rows else None


async def owned_units(tenant_id: int, person_id: int, estate_id: int | None) -> list[dict]:
    rows = await fetch("SELECT o.unit, o.estate, u.number, b.name AS building, u.developer_unsold"
                       " FROM ownership o"
                       " JOIN unit u ON u.id = o.unit JOIN building b ON b.id = u.building"
                       " WHERE o.tenant = $1 AND o.person = $2 AND ($3::int IS NULL OR o.estate = $3)"
                       " ORDER BY o.estate, b.name, u.number", tenant_id, person_id, estate_id)
    return rows


async def household_counts(tenant_id: int, estate_ids: list[int]) -> dict[int, int]:
    rows = await fetch("SELECT estate, count(*) AS n FROM unit WHERE tenant = $1"
                       " AND estate = ANY($2::int[]) AND NOT developer_unsold GROUP BY estate",
                       tenant_id, list(estate_ids))
    return {r["estate"]: r["n"] for r in rows}
