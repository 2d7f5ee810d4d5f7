"""Open311 API keys: one per integration, owned by an organisation whose coverage bounds
where the integration files and what it reads (only the key's SHA-256 is stored); and their
administration through our own API (RFC 9457 errors there)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import msgspec

from cases.open311_format import Open311Error
from core import audit
from core.db import fetch, require_transaction
from core.i18n import gettext as _
from core.problems import Forbidden, NotFound
from tenancy.principal import Principal

KEY_PREFIX = "o311_"


# --- API keys --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiKey:
    id: int
    tenant_id: int
    organization_id: int
    organization_kind: str
    created_by: int


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def authenticate(api_key: str | None) -> ApiKey:
    if not api_key:
        raise Open311Error(401, _("api_key is required."))
    rows = await fetch(
        "SELECT k.id, k.tenant, k.organization, k.created_by, o.kind FROM open311_api_key k"
        " JOIN organization o ON o.id = k.organization AND o.tenant = k.tenant"
        " JOIN tenant t ON t.id = k.tenant"
        " WHERE k.key_hash = $1 AND k.revoked_at IS NULL", key_hash(api_key))
    if not rows:
        raise Open311Error(403, _("api_key is not valid or has been revoked."))
    r = rows[0]
    return ApiKey(r["id"], r["tenant"], r["organization"], r["kind"], r["created_by"])


def _covered_estates_sql(n: int) -> str:
    """Estates (of tenant $n) the organisation $n+1 covers; a housing bureau covers them all."""
    return (f"(SELECT e.id FROM estate e JOIN community cm ON cm.id = e.community"
            f" WHERE e.tenant = ${n} AND (EXISTS (SELECT 1 FROM organization o WHERE o.id = ${n + 1}"
            f" AND o.tenant = ${n} AND o.kind = 'housing_bureau') OR EXISTS (SELECT 1 FROM"
            f" organization_coverage oc WHERE oc.organization = ${n + 1} AND (oc.estate = e.id"
            f" OR oc.community = cm.id OR oc.street = cm.street))))")


async def key_covers(key: ApiKey, estate_id: int) -> bool:
    rows = await fetch(f"SELECT 1 WHERE $3 IN {_covered_estates_sql(1)}",
                       key.tenant_id, key.organization_id, estate_id)
    return bool(rows)


# --- key administration (RFC 9457 errors: this is our own API) -----------------------------------
class KeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "Open311"


class KeyOut(msgspec.Struct):
    id: int
    organization_id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    key: str | None = None  # only in the answer to POST: it is never shown again


def _key_out(r: dict, key: str | None = None) -> KeyOut:
    return KeyOut(id=r["id"], organization_id=r["organization"], name=r["name"],
                  created_at=r["created_at"], revoked_at=r["revoked_at"], key=key)


async def _admin_org(p: Principal, organization_id: int) -> dict:
    rows = await fetch("SELECT id, kind FROM organization WHERE tenant = $1 AND id = $2",
                       p.tenant_id, organization_id)
    if not rows or not (p.is_tenant_admin or organization_id in p.organization_ids):
        raise NotFound(_("The requested item does not exist or you may not see it."))
    seat = p.seat_in(organization_id)
    if not (p.is_tenant_admin or (seat is not None and seat.role == "admin")):
        raise Forbidden(_("Only the organisation's administrators (or the housing bureau's) "
                          "may manage its Open311 keys."))
    return rows[0]


async def create_key(p: Principal, organization_id: int, name: str) -> KeyOut:
    require_transaction()
    await _admin_org(p, organization_id)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    rows = await fetch(
        "INSERT INTO open311_api_key (tenant, organization, key_hash, name, created_by)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING *",
        p.tenant_id, organization_id, key_hash(key), name.strip() or "Open311", p.user_id)
    await audit.record(p.tenant_id, "open311_key.created", subject_type="open311_api_key",
                       subject_id=rows[0]["id"], actor_user_id=p.user_id,
                       actor_org_id=organization_id, data={"name": rows[0]["name"]})
    return _key_out(rows[0], key)


async def list_keys(p: Principal, organization_id: int) -> list[KeyOut]:
    await _admin_org(p, organization_id)
    rows = await fetch("SELECT * FROM open311_api_key WHERE tenant = $1 AND organization = $2"
                       " ORDER BY id", p.tenant_id, organization_id)
    return [_key_out(r) for r in rows]


async def revoke_key(p: Principal, key_id: int) -> None:
    require_transaction()
    rows = await fetch("SELECT * FROM open311_api_key WHERE tenant = $1 AND id = $2 FOR UPDATE",
                       p.tenant_id, key_id)
    if not rows:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    await _admin_org(p, rows[0]["organization"])
    if rows[0]["revoked_at"] is None:
        await fetch("UPDATE open311_api_key SET revoked_at = now() WHERE id = $1", key_id)
        await audit.record(p.tenant_id, "open311_key.revoked", subject_type="open311_api_key",
                           subject_id=key_id, actor_user_id=p.user_id,
                           actor_org_id=rows[0]["organization"])


async def insert_key(tenant_id: int, organization_id: int, created_by: int, name: str) -> tuple[int, str]:
    """A key without the permission check (test worlds, the demo); returns (id, key)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    rows = await fetch(
        "INSERT INTO open311_api_key (tenant, organization, key_hash, name, created_by)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
        tenant_id, organization_id, key_hash(key), name, created_by)
    return rows[0]["id"], key
