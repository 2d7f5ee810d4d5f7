"""Audit log: one hash chain per tenant, written inside the transaction of the change.

Each entry's hash covers its content and the previous entry's hash, so altering or
deleting any entry breaks every link after it; `verify` reports the first broken link.
Writers serialise per tenant with a transaction-scoped advisory lock.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from core.db import fetch, require_transaction

GENESIS = "0" * 64
_LOCK_CLASS = 7301  # advisory-lock namespace for audit chains


def _canonical(entry: dict[str, Any]) -> bytes:
    fields = {
        "tenant_id": entry["tenant_id"],
        "seq": entry["seq"],
        "occurred_at": entry["occurred_at"].astimezone(timezone.utc).isoformat(),
        "actor_user_id": entry["actor_user_id"],
        "actor_org_id": entry["actor_org_id"],
        "action": entry["action"],
        "subject_type": entry["subject_type"],
        "subject_id": entry["subject_id"],
        "data": entry["data"],
        "prev_hash": entry["prev_hash"],
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode()


def compute_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


async def record(tenant_id: int, action: str, *, subject_type: str, subject_id: Any = None,
                 actor_user_id: int | None = None, actor_org_id: int | None = None,
                 data: dict[str, Any] | None = None) -> int:
    """Append an entry to the tenant's chain; returns its sequence number."""
    require_transaction()
    await fetch("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, int(tenant_id))
    last = await fetch("SELECT seq, hash FROM audit_entry WHERE tenant_id = $1 "
                       "ORDER BY seq DESC LIMIT 1", int(tenant_id))
    entry = {
        "tenant_id": int(tenant_id),
        "seq": (last[0]["seq"] + 1) if last else 1,
        "occurred_at": datetime.now(timezone.utc),
        "actor_user_id": actor_user_id,
        "actor_org_id": actor_org_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": None if subject_id is None else str(subject_id),
        "data": json.loads(json.dumps(data or {}, default=str)),
        "prev_hash": last[0]["hash"] if last else GENESIS,
    }
    entry["hash"] = compute_hash(entry)
    await fetch(
        "INSERT INTO audit_entry (tenant_id, seq, occurred_at, actor_user_id, actor_org_id, action,"
        " subject_type, subject_id, data, prev_hash, hash)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::jsonb,$10,$11)",
        entry["tenant_id"], entry["seq"], entry["occurred_at"], actor_user_id, actor_org_id,
        action, subject_type, entry["subject_id"], json.dumps(entry["data"], ensure_ascii=False),
        entry["prev_hash"], entry["hash"])
    return entry["seq"]


@dataclass
class ChainReport:
    tenant_id: int
    entries: int
    ok: bool
    broken_at_seq: int | None = None
    reason: str | None = None


async def verify(tenant_id: int, batch: int = 5000) -> ChainReport:
    """Walk the tenant's chain in order; stop at the first entry that does not link."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    while True:
        rows = await fetch(
            "SELECT tenant_id, seq, occurred_at, actor_user_id, actor_org_id, action, subject_type,"
            " subject_id, data, prev_hash, hash FROM audit_entry"
            " WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
            int(tenant_id), expected_seq, batch)
        if not rows:
            return ChainReport(tenant_id, count, True)
        for row in rows:
            row["data"] = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
            if row["seq"] != expected_seq:
                return ChainReport(tenant_id, count, False, expected_seq, "missing entry")
            if row["prev_hash"] != prev_hash:
                return ChainReport(tenant_id, count, False, row["seq"], "previous hash does not match")
            if compute_hash(row) != row["hash"]:
                return ChainReport(tenant_id, count, False, row["seq"], "content does not match its hash")
            prev_hash, expected_seq, count = row["hash"], expected_seq + 1, count + 1


async def tenants_with_entries() -> list[int]:
    return [r["tenant_id"] for r in await fetch("SELECT DISTINCT tenant_id FROM audit_entry ORDER BY 1")]
