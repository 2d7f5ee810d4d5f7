"""All tenancy queries. Every base query is scoped to the caller's tenant and coverage."""
from __future__ import annotations

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
async def load_principal(token_hash: str, now: datetime) -> Principal | None:
    rows = await fetch(
        "SELECT t.id AS token_id, t.kind, u.id AS user_id, u.tenant, u.username, u.display_name,"
        " u.language, u.person, tn.name AS tenant_name"
        " FROM auth_token t JOIN app_user u ON u.id = t.user JOIN tenant tn ON tn.id = u.tenant"
        " WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.is_active",
        token_hash, now)
    if not rows:
        return None
    r = rows[0]
    return Principal(user_id=r["user_id"], tenant_id=r["tenant"], tenant_name=r["tenant_name"],
                     username=r["username"], display_name=r["display_name"],
                     language=r["language"], person_id=r["person"], token_id=r["token_id"],
                     token_kind=r["kind"], seats=await load_seats(r["user_id"], r["tenant"]))


async def load_seats(user_id: int, tenant_id: int) -> tuple[Seat, ...]:
    members = await fetch(
        "SELECT m.id, m.organization, m.role, o.name, o.kind FROM membership m"
        " JOIN organization o ON o.id = m.organization"
        " WHERE m.user = $1 AND m.tenant = $2 ORDER BY o.kind, o.name", user_id, tenant_id)
    org_ids = [m["organization"] for m in members]
    places = await _expanded_coverage(tenant_id, org_ids) if org_ids else {}
    return tuple(
        Seat(membership_id=m["id"], organization_id=m["organization"], organization_name=m["name"],
             kind=m["kind"], role=m["role"],
             streets=frozenset(places.get(m["organization"], {}).get("streets", ())),
             communities=frozenset(places.get(m["organization"], {}).get("communities", ())),
             estates=frozenset(places.get(m["organization"], {}).get("estates", ())))
        for m in members)


async def _expanded_coverage(tenant_id: int, org_ids: list[int]) -> dict[int, dict[str, set[int]]]:
    """Each organisation's covered places expanded downwards (street -> communities -> estates)
    and upwards to the enclosing community and street."""
    rows = await fetch(
        """
        WITH cov AS (
          SELECT organization, street, community, estate FROM organization_coverage
          WHERE tenant = $1 AND organization = ANY($2::int[]))
        SELECT cov.organization, e.id AS estate, c.id AS community, c.street AS street
          FROM cov JOIN estate e ON e.tenant = $1 JOIN community c ON c.id = e.community
          WHERE e.id = cov.estate OR e.community = cov.community OR c.street = cov.street
        UNION
        SELECT cov.organization, NULL, c.id, c.street
          FROM cov JOIN community c ON c.tenant = $1
          WHERE c.id = cov.community OR c.street = cov.street
        UNION
        SELECT cov.organization, NULL, NULL, cov.street FROM cov WHERE cov.street IS NOT NULL
        """, tenant_id, org_ids)
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


# --- operator (system) writes: CLI and demo seeding, no caller to scope by ------------------------
async def insert(table: type[Table], **values: Any) -> dict:
    require_transaction()
    rows = await table.insert(table(**values)).returning(*table.all_columns())
    return rows[0]


async def tenant_by_code(code: str) -> dict | None:
    return await Tenant.select().where(Tenant.code == code).first()


async def organization_in_tenant(tenant_id: int, org_id: int) -> dict | None:
    return await Organization.select().where(Organization.id == org_id,
                                             Organization.tenant == tenant_id).first()


# --- ledger import (tenancy.ledger_import): set-based reads and writes for one estate ----------
# The caller has already been checked as a manager of the estate; every statement is still
# limited to its tenant and estate.
_LEDGER_LOCK_CLASS = 7302  # advisory-lock namespace: one ledger import per estate at a time


async def ledger_lock(estate_id: int) -> None:
    require_transaction()
    await fetch("SELECT pg_advisory_xact_lock($1, $2)", _LEDGER_LOCK_CLASS, int(estate_id))


async def ledger_buildings(tenant_id: int, estate_id: int) -> dict[str, int]:
    rows = await fetch("SELECT id, name FROM building WHERE tenant = $1 AND estate = $2",
                       tenant_id, estate_id)
    return {r["name"]: r["id"] for r in rows}


async def ledger_units(tenant_id: int, estate_id: int) -> dict[tuple[int, str], dict]:
    """(building id, unit number) -> the unit, with `owned` telling whether it has owners."""
    rows = await fetch(
        "SELECT u.id, u.building, u.number, u.floor, u.exclusive_area, u.developer_unsold,"
        " EXISTS (SELECT 1 FROM ownership o WHERE o.unit = u.id) AS owned"
        " FROM unit u WHERE u.tenant = $1 AND u.estate = $2", tenant_id, estate_id)
    return {(r["building"], r["number"]): r for r in rows}


async def ledger_ownerships(tenant_id: int, estate_id: int) -> set[tuple[int, int]]:
    rows = await fetch("SELECT person, unit FROM ownership WHERE tenant = $1 AND estate = $2",
                       tenant_id, estate_id)
    return {(r["person"], r["unit"]) for r in rows}


async def ledger_people(tenant_id: int, estate_id: int, keys: list[tuple[str, str | None]],
                        visible_estates: list[int] | None = None) -> dict[tuple[str, str | None], int]:
    """Existing persons for (name, phone) keys: by name and phone among owners in
    `visible_estates` (None: the whole tenant); a name without a phone only matches a
    phoneless owner in this estate (names are not unique)."""
    with_phone = [k for k in keys if k[1] is not None]
    rows = await fetch(
        "SELECT DISTINCT ON (p.name, p.phone) p.id, p.name, p.phone FROM person p"
        " JOIN unnest($2::text[], $3::text[]) AS k(name, phone)"
        " ON p.name = k.name AND p.phone = k.phone"
        " WHERE p.tenant = $1 AND ($4::int[] IS NULL OR p.id IN"
        " (SELECT person FROM ownership WHERE tenant = $1 AND estate = ANY($4::int[])))"
        " ORDER BY p.name, p.phone, p.id",
        tenant_id, [k[0] for k in with_phone], [k[1] for k in with_phone], visible_estates)
    rows += await fetch(
        "SELECT DISTINCT ON (p.name) p.id, p.name, p.phone FROM person p"
        " WHERE p.tenant = $1 AND p.phone IS NULL AND p.name = ANY($3::text[]) AND p.id IN"
        " (SELECT person FROM ownership WHERE tenant = $1 AND estate = $2) ORDER BY p.name, p.id",
        tenant_id, estate_id, [k[0] for k in keys if k[1] is None])
    return {(r["name"], r["phone"]): r["id"] for r in rows}


async def ledger_insert_buildings(tenant_id: int, estate_id: int, names: list[str]) -> dict[str, int]:
    require_transaction()
    if not names:
        return {}
    rows = await fetch("INSERT INTO building (tenant, estate, name, floors)"
                       " SELECT $1, $2, n, NULL FROM unnest($3::text[]) AS n RETURNING id, name",
                       tenant_id, estate_id, names)
    return {r["name"]: r["id"] for r in rows}


async def ledger_insert_units(tenant_id: int, estate_id: int, units: list[tuple]) -> dict[tuple[int, str], int]:
    """`units`: (building id, number, floor, exclusive area, developer unsold) tuples."""
    require_transaction()
    if not units:
        return {}
    building, number, floor, area, unsold = (list(c) for c in zip(*units))
    rows = await fetch(
        "INSERT INTO unit (tenant, estate, building, number, floor, exclusive_area, developer_unsold)"
        " SELECT $1, $2, v.building, v.number, v.floor, v.area, v.unsold FROM unnest("
        "$3::int[], $4::text[], $5::int[], $6::numeric[], $7::bool[])"
        " AS v(building, number, floor, area, unsold) RETURNING id, building, number",
        tenant_id, estate_id, building, number, floor, area, unsold)
    return {(r["building"], r["number"]): r["id"] for r in rows}


async def ledger_update_units(tenant_id: int, units: list[tuple]) -> None:
    """`units`: (unit id, floor, exclusive area, developer unsold) tuples."""
    require_transaction()
    if not units:
        return
    ids, floor, area, unsold = (list(c) for c in zip(*units))
    await fetch(
        "UPDATE unit AS u SET floor = v.floor, exclusive_area = v.area, developer_unsold = v.unsold"
        " FROM unnest($2::int[], $3::int[], $4::numeric[], $5::bool[]) AS v(id, floor, area, unsold)"
        " WHERE u.id = v.id AND u.tenant = $1", tenant_id, ids, floor, area, unsold)


async def ledger_insert_people(tenant_id: int,
                               keys: list[tuple[str, str | None]]) -> dict[tuple[str, str | None], int]:
    require_transaction()
    if not keys:
        return {}
    rows = await fetch(
        "INSERT INTO person (tenant, name, phone, created_at)"
        " SELECT $1, v.name, v.phone, now() FROM unnest($2::text[], $3::text[]) AS v(name, phone)"
        " RETURNING id, name, phone", tenant_id, [k[0] for k in keys], [k[1] for k in keys])
    return {(r["name"], r["phone"]): r["id"] for r in rows}


async def ledger_insert_ownerships(tenant_id: int, estate_id: int,
                                   pairs: list[tuple[int, int]]) -> int:
    """`pairs`: (person id, unit id); pairs that already exist are skipped. Returns the count added."""
    require_transaction()
    if not pairs:
        return 0
    rows = await fetch(
        "INSERT INTO ownership (tenant, person, unit, estate)"
        " SELECT $1, v.person, v.unit, $2 FROM unnest($3::int[], $4::int[]) AS v(person, unit)"
        " ON CONFLICT (person, unit) DO NOTHING RETURNING id",
        tenant_id, estate_id, [p[0] for p in pairs], [p[1] for p in pairs])
    return len(rows)


# --- demo seeding (gongzhi.demo): id reservation and bulk inserts for a whole district --------
# Operator writes with no caller to scope by; the rows carry their tenant explicitly.
_DEMO_ARRAY_TYPES = {"Serial": "int", "Integer": "int", "ForeignKey": "int", "Varchar": "text",
                     "Numeric": "numeric", "Boolean": "bool", "Timestamptz": "timestamptz"}


async def demo_reserve_ids(table: type[Table], count: int) -> list[int]:
    """`count` fresh ids from the table's sequence, so rows can refer to each other before insert."""
    require_transaction()
    if count <= 0:
        return []
    rows = await fetch("SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id"
                       " FROM generate_series(1, $2)", table._meta.tablename, count)
    return [r["id"] for r in rows]


async def demo_bulk_insert(table: type[Table], rows: list[dict[str, Any]]) -> int:
    """All `rows` (same keys each, ids included) in one INSERT ... SELECT FROM unnest(arrays)."""
    require_transaction()
    if not rows:
        return 0
    names = list(rows[0])
    types = [_DEMO_ARRAY_TYPES[type(table._meta.get_column_by_name(n)).__name__] for n in names]
    columns = ", ".join(f'"{n}"' for n in names)
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, 1))
    await fetch(f'INSERT INTO "{table._meta.tablename}" ({columns}) SELECT * FROM unnest({arrays})',
                *([row[n] for row in rows] for n in names))
    return len(rows)


async def demo_tenant_counts(tenant_id: int) -> dict[str, int]:
    rows = await fetch(
        "SELECT (SELECT count(*) FROM estate WHERE tenant = $1) AS estates,"
        " (SELECT count(*) FROM unit WHERE tenant = $1) AS units,"
        " (SELECT count(*) FROM person WHERE tenant = $1) AS persons,"
        " (SELECT count(*) FROM app_user WHERE tenant = $1) AS users", tenant_id)
    return dict(rows[0])
