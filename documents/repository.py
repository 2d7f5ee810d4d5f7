"""Document registry queries. Principal-facing queries are scoped to the caller's tenant and to
the documents their seats may read:

- the housing bureau (tenant-wide seats) reads every document of its tenant;
- an organisation reads the documents it owns and those that name it in `organizations`
  (the organisations the document concerns: the evaluated company, the estate's committees…);
- a street office, residents' committee or owners' committee also reads the documents about an
  estate it covers (a property company does not: a company that took over an estate must not
  read its predecessor's reports unless named).

`system_*` functions serve jobs and other packages (rendering, signing, public verification):
they take the tenant explicitly or look a file up by its hash, never a principal.
"""
from __future__ import annotations

import json
from typing import Any

from core.db import fetch, require_transaction
from tenancy.principal import Principal

MAX_PAGE = 200
_DOC_COLUMNS = ("id, tenant, kind, subject_type, subject_id, period, title, number,"
                " owner_organization, estate, organizations, current_version, created_at,"
                " updated_at")
_VERSION_COLUMNS = ("id, tenant, document, version, storage_key, sha256, size, page_count, state,"
                    " signers, next_signer, source_json, template, job_key, verify_code,"
                    " created_by, created_at, updated_at")


def _prefixed(columns: str, alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("signers", "source_json", "data"):
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


def reader_scope(p: Principal, alias: str = "d") -> tuple[str, list[Any]]:
    """SQL condition (with `$2`, `$3` bound to the returned args after the tenant `$1`) for the
    documents `p` may read."""
    if p.tenant_wide:
        return "(TRUE OR $2::int[] = $3::int[])", [[], []]  # same placeholders, types named
    orgs = sorted(p.organization_ids)
    estates = sorted(set().union(*(s.estates for s in p.seats if s.kind != "property_company")))
    return (f"({alias}.owner_organization = ANY($2::int[]) OR {alias}.organizations && $2::int[]"
            f" OR {alias}.estate = ANY($3::int[]))"), [orgs, estates]


class Documents:
    """Documents (and their versions) `p` may read."""

    def __init__(self, p: Principal) -> None:
        self.p = p

    async def get(self, document_id: int) -> dict | None:
        cond, args = reader_scope(self.p)
        rows = await fetch(f"SELECT {_DOC_COLUMNS} FROM document d WHERE d.tenant = $1"
                           f" AND {cond} AND d.id = $4", self.p.tenant_id, *args, document_id)
        return rows[0] if rows else None

    async def list(self, *, organization_id: int | None, kind: str | None, limit: int,
                   offset: int) -> list[dict]:
        """Newest first; `organization_id` narrows to documents that organisation owns or
        concerns (within what the caller may read)."""
        cond, args = reader_scope(self.p)
        return await fetch(
            f"SELECT {_DOC_COLUMNS} FROM document d WHERE d.tenant = $1 AND {cond}"
            " AND ($4::int IS NULL OR d.owner_organization = $4 OR $4 = ANY(d.organizations))"
            " AND ($5::text IS NULL OR d.kind = $5)"
            " ORDER BY d.updated_at DESC, d.id DESC LIMIT $6 OFFSET $7",
            self.p.tenant_id, *args, organization_id, kind, min(limit, MAX_PAGE), offset)

    async def versions(self, document_id: int) -> list[dict]:
        rows = await fetch(f"SELECT {_VERSION_COLUMNS} FROM document_version"
                           " WHERE tenant = $1 AND document = $2 ORDER BY version DESC",
                           self.p.tenant_id, document_id)
        return [_decoded(r) for r in rows]

    async def latest_versions(self, document_ids: list[int]) -> dict[int, dict]:
        rows = await fetch(
            f"SELECT {_prefixed(_VERSION_COLUMNS, 'v')} FROM document_version v"
            " JOIN document d ON d.id = v.document AND v.version = d.current_version"
            " WHERE v.tenant = $1 AND v.document = ANY($2::bigint[])",
            self.p.tenant_id, document_ids)
        return {r["document"]: _decoded(r) for r in rows}

    async def files(self, version_id: int) -> list[dict]:
        return await fetch("SELECT revision, kind, sha256, size, signer_index, created_at"
                           " FROM document_file WHERE tenant = $1 AND version = $2"
                           " ORDER BY revision", self.p.tenant_id, version_id)

    async def events(self, document_id: int) -> list[dict]:
        rows = await fetch("SELECT action, version, actor_user, data, created_at"
                           " FROM document_event WHERE tenant = $1 AND document = $2"
                           " ORDER BY id", self.p.tenant_id, document_id)
        return [_decoded(r) for r in rows]


# --- system level: rendering jobs, signing, verification -----------------------------------------
async def system_document_by_subject(tenant_id: int, kind: str, subject_type: str,
                                     subject_id: int, period: str, *,
                                     lock: bool = False) -> dict | None:
    rows = await fetch(
        f"SELECT {_DOC_COLUMNS} FROM document WHERE tenant = $1 AND kind = $2"
        " AND subject_type = $3 AND subject_id = $4 AND period = $5"
        + (" FOR UPDATE" if lock else ""), tenant_id, kind, subject_type, subject_id, period)
    return rows[0] if rows else None


async def system_document(tenant_id: int, document_id: int, *, lock: bool = False) -> dict | None:
    rows = await fetch(f"SELECT {_DOC_COLUMNS} FROM document WHERE tenant = $1 AND id = $2"
                       + (" FOR UPDATE" if lock else ""), tenant_id, document_id)
    return rows[0] if rows else None


async def system_insert_document(**values: Any) -> dict:
    """Insert a document, or return the existing one of the same subject (a concurrent render
    of the same subject may have created it first)."""
    require_transaction()
    rows = await fetch(
        "INSERT INTO document (tenant, kind, subject_type, subject_id, period, title, number,"
        " owner_organization, estate, organizations, current_version, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::int[], 0, now(), now())"
        " ON CONFLICT (tenant, kind, subject_type, subject_id, period) DO NOTHING"
        f" RETURNING {_DOC_COLUMNS}",
        values["tenant"], values["kind"], values["subject_type"], values["subject_id"],
        values["period"], values["title"], values["number"], values["owner_organization"],
        values["estate"], sorted(set(values["organizations"])))
    if rows:
        return rows[0]
    found = await system_document_by_subject(values["tenant"], values["kind"],
                                             values["subject_type"], values["subject_id"],
                                             values["period"], lock=True)
    assert found is not None
    return found


async def system_update_document(document_id: int, **values: Any) -> None:
    require_transaction()
    sets = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(values))
    await fetch(f"UPDATE document SET {sets}, updated_at = now() WHERE id = $1",
                document_id, *values.values())


async def system_version_by_job(tenant_id: int, job_key: str) -> dict | None:
    rows = await fetch(f"SELECT {_VERSION_COLUMNS} FROM document_version"
                       " WHERE tenant = $1 AND job_key = $2", tenant_id, job_key)
    return _decoded(rows[0]) if rows else None


async def system_version(tenant_id: int, document_id: int, version: int, *,
                         lock: bool = False) -> dict | None:
    rows = await fetch(f"SELECT {_VERSION_COLUMNS} FROM document_version"
                       " WHERE tenant = $1 AND document = $2 AND version = $3"
                       + (" FOR UPDATE" if lock else ""), tenant_id, document_id, version)
    return _decoded(rows[0]) if rows else None


async def system_version_by_id(version_id: int, *, lock: bool = False) -> dict | None:
    rows = await fetch(f"SELECT {_VERSION_COLUMNS} FROM document_version WHERE id = $1"
                       + (" FOR UPDATE" if lock else ""), version_id)
    return _decoded(rows[0]) if rows else None


async def system_version_by_code(code: str) -> dict | None:
    rows = await fetch(f"SELECT {_VERSION_COLUMNS} FROM document_version WHERE verify_code = $1",
                       code)
    return _decoded(rows[0]) if rows else None


async def system_insert_version(**values: Any) -> dict:
    require_transaction()
    rows = await fetch(
        "INSERT INTO document_version (tenant, document, version, storage_key, sha256, size,"
        " page_count, state, signers, next_signer, source_json, template, job_key, verify_code,"
        " created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb,"
        " 0, $10::jsonb, $11, $12, $13, $14, now(), now())"
        f" RETURNING {_VERSION_COLUMNS}",
        values["tenant"], values["document"], values["version"], values["storage_key"],
        values["sha256"], values["size"], values["page_count"], values["state"],
        json.dumps(values["signers"], ensure_ascii=False),
        json.dumps(values["source_json"], ensure_ascii=False, default=str), values["template"],
        values["job_key"], values["verify_code"], values["created_by"])
    return _decoded(rows[0])


async def system_update_version(version_id: int, **values: Any) -> dict:
    require_transaction()
    sets = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(values))
    rows = await fetch(f"UPDATE document_version SET {sets}, updated_at = now() WHERE id = $1"
                       f" RETURNING {_VERSION_COLUMNS}", version_id, *values.values())
    return _decoded(rows[0])


async def system_supersede_unsigned(document_id: int, below_version: int) -> list[int]:
    """Mark the document's earlier versions that are not (fully) signed as superseded."""
    require_transaction()
    rows = await fetch(
        "UPDATE document_version SET state = 'superseded', updated_at = now()"
        " WHERE document = $1 AND version < $2 AND state IN ('draft', 'awaiting_signatures')"
        " RETURNING version", document_id, below_version)
    return [r["version"] for r in rows]


async def system_insert_file(**values: Any) -> None:
    require_transaction()
    await fetch("INSERT INTO document_file (tenant, version, revision, storage_key, sha256, size,"
                " signer_index, kind, created_by, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())",
                values["tenant"], values["version"], values["revision"], values["storage_key"],
                values["sha256"], values["size"], values["signer_index"], values["kind"],
                values["created_by"])


async def system_last_revision(version_id: int) -> int:
    rows = await fetch("SELECT coalesce(max(revision), -1) AS r FROM document_file"
                       " WHERE version = $1", version_id)
    return rows[0]["r"]


async def system_insert_event(tenant_id: int, document_id: int, version: int | None,
                              action: str, actor_user_id: int | None, data: dict) -> None:
    require_transaction()
    await fetch("INSERT INTO document_event (tenant, document, version, action, actor_user, data,"
                " created_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, now())",
                tenant_id, document_id, version, action, actor_user_id,
                json.dumps(data, ensure_ascii=False, default=str))


async def system_files_by_sha256(sha256: str) -> list[dict]:
    """Every registered file with this hash, with its version, document and the document's
    current version's newest hash (across tenants: verification is public)."""
    rows = await fetch(
        "SELECT f.tenant, f.revision, f.kind AS file_kind, f.created_at, f.version AS version_id,"
        " v.version, v.state, v.sha256 AS version_sha256, d.id AS document_id, d.number, d.title,"
        " d.kind, d.current_version, cv.sha256 AS latest_sha256"
        " FROM document_file f JOIN document_version v ON v.id = f.version"
        " JOIN document d ON d.id = v.document"
        " LEFT JOIN document_version cv ON cv.document = d.id AND cv.version = d.current_version"
        " WHERE f.sha256 = $1 ORDER BY f.created_at DESC", sha256.lower())
    return rows
