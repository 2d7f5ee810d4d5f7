"""Queries on signing credentials. Every statement names its tenant except the certificate
lookups verification makes (a public check of any uploaded file: fingerprints in, kinds and
revocation times out, nothing else)."""
from __future__ import annotations

import json
from typing import Any

from core.db import fetch, require_transaction

COLUMNS = ("id, tenant, kind, \"user\", organization, source, subject, serial, fingerprint,"
           " certificate, chain, encrypted_key, not_before, not_after, created_by, created_at,"
           " pin_changed_at, revoked_at, revoked_by, revocation_reason")


def _row(r: dict) -> dict:
    r["certificate"] = bytes(r["certificate"])
    r["encrypted_key"] = bytes(r["encrypted_key"])
    if isinstance(r.get("chain"), str):
        r["chain"] = json.loads(r["chain"])
    return r


async def active_for_user(tenant_id: int, user_id: int, *, lock: bool = False) -> dict | None:
    rows = await fetch(f"SELECT {COLUMNS} FROM signing_credential WHERE tenant = $1"
                       f" AND kind = 'person' AND \"user\" = $2 AND revoked_at IS NULL"
                       f"{' FOR UPDATE' if lock else ''}", tenant_id, user_id)
    return _row(rows[0]) if rows else None


async def active_seal(tenant_id: int, organization_id: int, *, lock: bool = False) -> dict | None:
    rows = await fetch(f"SELECT {COLUMNS} FROM signing_credential WHERE tenant = $1"
                       f" AND kind = 'seal' AND organization = $2 AND revoked_at IS NULL"
                       f"{' FOR UPDATE' if lock else ''}", tenant_id, organization_id)
    return _row(rows[0]) if rows else None


async def by_id(tenant_id: int, credential_id: int, *, lock: bool = False) -> dict | None:
    rows = await fetch(f"SELECT {COLUMNS} FROM signing_credential WHERE tenant = $1 AND id = $2"
                       f"{' FOR UPDATE' if lock else ''}", tenant_id, credential_id)
    return _row(rows[0]) if rows else None


async def history(tenant_id: int, *, user_id: int | None = None,
                  organization_id: int | None = None) -> list[dict]:
    """Every credential (revoked ones too) of a user or an organisation, newest first."""
    column, value = ("\"user\"", user_id) if user_id is not None else ("organization",
                                                                       organization_id)
    rows = await fetch(f"SELECT {COLUMNS} FROM signing_credential WHERE tenant = $1"
                       f" AND {column} = $2 ORDER BY id DESC", tenant_id, value)
    return [_row(r) for r in rows]


async def insert(values: dict[str, Any]) -> dict:
    require_transaction()
    names = list(values)
    cols = ", ".join(f'"{n}"' for n in names)
    params = ", ".join(f"${i + 1}" + ("::jsonb" if n == "chain" else "")
                       for i, n in enumerate(names))
    args = [json.dumps(values[n]) if n == "chain" else values[n] for n in names]
    rows = await fetch(f"INSERT INTO signing_credential ({cols}) VALUES ({params})"
                       f" RETURNING {COLUMNS}", *args)
    return _row(rows[0])


async def update(tenant_id: int, credential_id: int, **values: Any) -> dict:
    require_transaction()
    names = list(values)
    sets = ", ".join(f'"{n}" = ${i + 3}' for i, n in enumerate(names))
    rows = await fetch(f"UPDATE signing_credential SET {sets} WHERE tenant = $1 AND id = $2"
                       f" RETURNING {COLUMNS}", tenant_id, credential_id,
                       *(values[n] for n in names))
    return _row(rows[0])


async def by_fingerprints(fingerprints: list[str]) -> list[dict]:
    """Public verification: the kind and revocation time of the platform's credentials with
    these certificate fingerprints."""
    if not fingerprints:
        return []
    return await fetch("SELECT fingerprint, kind, revoked_at FROM signing_credential"
                       " WHERE fingerprint = ANY($1::varchar[])", list(fingerprints))


async def revoked_platform_serials() -> list[dict]:
    """Public revocation list: serials (hex) and times of revoked platform-issued certificates."""
    return await fetch("SELECT serial, revoked_at FROM signing_credential WHERE source = 'platform'"
                       " AND revoked_at IS NOT NULL ORDER BY revoked_at")


async def organization(tenant_id: int, organization_id: int) -> dict | None:
    rows = await fetch("SELECT id, name, kind, credit_code FROM organization"
                       " WHERE tenant = $1 AND id = $2", tenant_id, organization_id)
    return rows[0] if rows else None


async def tenant_name(tenant_id: int) -> str:
    rows = await fetch("SELECT name FROM tenant WHERE id = $1", tenant_id)
    return rows[0]["name"] if rows else ""
