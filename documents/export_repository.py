"""Queries of the bureau's campaign exports (document_export) and of the reports they gather.

The `*_any` reads and the state changes are system-level, for the export jobs: they find an
export by id alone. Reads for a person name the tenant and the caller's organisations; the
caller (documents.exports) decides who may see what.
"""
from __future__ import annotations

from datetime import datetime

from core.db import fetch


async def get(tenant_id: int, export_id: int, *, lock: bool = False) -> dict | None:
    rows = await fetch("SELECT * FROM document_export WHERE tenant = $1 AND id = $2"
                       + (" FOR UPDATE" if lock else ""), tenant_id, export_id)
    return rows[0] if rows else None


async def get_any(export_id: int, *, lock: bool = False) -> dict | None:
    rows = await fetch("SELECT * FROM document_export WHERE id = $1"
                       + (" FOR UPDATE" if lock else ""), export_id)
    return rows[0] if rows else None


async def insert(tenant_id: int, campaign_id: int, requested_by: int, organization_id: int,
                 total: int, file_name: str) -> dict:
    [row] = await fetch(
        "INSERT INTO document_export (tenant, kind, subject_type, subject_id, requested_by,"
        " organization, state, done, total, file_name, created_at) VALUES ($1, 'campaign_zip',"
        " 'evaluation_campaign', $2, $3, $4, 'queued', 0, $5, $6, now()) RETURNING *",
        tenant_id, campaign_id, requested_by, organization_id, total, file_name)
    return row


async def list_for(tenant_id: int, organization_ids: list[int],
                   campaign_id: int | None = None, limit: int = 50) -> list[dict]:
    return await fetch(
        "SELECT * FROM document_export WHERE tenant = $1 AND organization = ANY($2::int[])"
        " AND ($3::bigint IS NULL OR subject_id = $3) ORDER BY id DESC LIMIT $4",
        tenant_id, sorted(organization_ids), campaign_id, limit)


async def campaign_reports(tenant_id: int, period: str, contract_ids: list[int]) -> list[dict]:
    """The current version of each contract's annual report for `period`, with its number."""
    return await fetch(
        "SELECT d.subject_id AS contract, d.id AS document, d.number, v.version, v.state,"
        " v.sha256, v.storage_key, v.size FROM document d JOIN document_version v"
        " ON v.document = d.id AND v.version = d.current_version"
        " WHERE d.tenant = $1 AND d.kind = 'annual_report' AND d.subject_type = 'service_contract'"
        " AND d.period = $2 AND d.subject_id = ANY($3::bigint[])",
        tenant_id, period, contract_ids)


async def campaign_report_progress(tenant_id: int, campaign_id: int, period: str) -> dict:
    """{done, total}: how many of the campaign's assessments have an annual report for
    `period` registered (any state), of how many (one row, whatever the campaign's size)."""
    [row] = await fetch(
        "SELECT count(*) AS total, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM document d"
        "  JOIN document_version v ON v.document = d.id AND v.version = d.current_version"
        "  WHERE d.tenant = a.tenant AND d.kind = 'annual_report'"
        "  AND d.subject_type = 'service_contract' AND d.period = $3"
        "  AND d.subject_id = a.contract)) AS done"
        " FROM evaluation_assessment a WHERE a.tenant = $1 AND a.campaign = $2",
        tenant_id, campaign_id, period)
    return row


async def set_running(export_id: int) -> None:
    await fetch("UPDATE document_export SET state = 'running' WHERE id = $1", export_id)


async def set_progress(export_id: int, done: int, total: int) -> None:
    await fetch("UPDATE document_export SET done = $2, total = $3 WHERE id = $1"
                " AND state = 'running'", export_id, done, total)


async def set_ready(export_id: int, storage_key: str, sha256: str, size: int, done: int) -> None:
    await fetch("UPDATE document_export SET state = 'ready', storage_key = $2, sha256 = $3,"
                " size = $4, done = $5, finished_at = now() WHERE id = $1",
                export_id, storage_key, sha256, size, done)


async def set_failed(export_id: int, error: str) -> None:
    await fetch("UPDATE document_export SET state = 'failed', error = left($2, 300),"
                " finished_at = now() WHERE id = $1 AND state IN ('queued', 'running')",
                export_id, error)


async def fail_stalled(seconds: int) -> list[dict]:
    """Fail the queued or running exports with no report registered for `seconds` (nor since
    they were requested); returns their (id, tenant)."""
    return await fetch(
        "UPDATE document_export x SET state = 'failed', finished_at = now(),"
        " error = 'no progress for ' || $1::int / 60 || ' minutes; the worker gave up'"
        " WHERE x.state IN ('queued', 'running') AND greatest(x.created_at,"
        " (SELECT max(v.created_at) FROM document_version v WHERE v.tenant = x.tenant"
        "  AND v.job_key LIKE 'export:' || x.id || ':%'))"
        " < now() - make_interval(secs => $1) RETURNING x.id, x.tenant", seconds)


async def expire_ready_before(cutoff: datetime) -> list[dict]:
    """Mark the exports that became ready before `cutoff` expired and forget their files;
    returns (id, tenant, storage_key, sha256) of each, the key as it was."""
    return await fetch(
        "UPDATE document_export x SET state = 'expired', storage_key = NULL"
        " FROM (SELECT id, storage_key FROM document_export WHERE state = 'ready'"
        "       AND finished_at < $1 FOR UPDATE) old"
        " WHERE x.id = old.id RETURNING x.id, x.tenant, old.storage_key, x.sha256", cutoff)


async def key_in_use(storage_key: str) -> bool:
    """Whether an export still offers this file (ZIPs are stored by content, so two exports of
    an unchanged campaign share one)."""
    rows = await fetch("SELECT 1 FROM document_export WHERE storage_key = $1 LIMIT 1",
                       storage_key)
    return bool(rows)


async def lock_file(storage_key: str) -> None:
    """Serialise, until this transaction ends, whoever stores or deletes this ZIP."""
    await fetch("SELECT pg_advisory_xact_lock(hashtextextended('document_export:' || $1, 0))",
                storage_key)
