"""Read-only queries behind the annual assessment report (documents.report_data).

Documents sits below cases and evaluations in the package layers, so it reads their tables
with plain SQL here rather than importing them; every statement names its tenant. These are
system-level reads for the rendering job: the caller (documents.reports) has already checked
who asked for the report. Evaluation results are read only once published (status published,
objection or final); before that the report prints "not yet assessed".
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from core.db import fetch

CHINA = timezone(timedelta(hours=8))
PUBLISHED = ("published", "objection", "final")
COUNTED_SUBMISSIONS = ("submitted", "locked")
DONE = ("resolved", "closed")
NOT_OPEN = ("resolved", "closed", "rejected", "duplicate", "withdrawn")


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in China time, as aware datetimes."""
    return (datetime.combine(start, time(), CHINA),
            datetime.combine(end + timedelta(days=1), time(), CHINA))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def contract_context(tenant_id: int, contract_id: int) -> dict | None:
    rows = await fetch(
        "SELECT c.id, c.number, c.kind, c.starts_on, c.ends_on, c.status, c.service_level,"
        " c.property_company, c.estate, e.name AS estate_name, e.address, e.community,"
        " cm.name AS community_name, cm.street, s.name AS street_name, o.name AS company_name,"
        " (SELECT count(*) FROM unit u WHERE u.tenant = $1 AND u.estate = e.id"
        "  AND NOT u.developer_unsold) AS households"
        " FROM service_contract c JOIN estate e ON e.id = c.estate"
        " JOIN community cm ON cm.id = e.community JOIN street s ON s.id = cm.street"
        " JOIN organization o ON o.id = c.property_company"
        " WHERE c.tenant = $1 AND c.id = $2", tenant_id, contract_id)
    return rows[0] if rows else None


async def parties(tenant_id: int, estate_id: int, community_id: int,
                  street_id: int) -> dict[str, dict]:
    """The estate's owners' committee, residents' committee, street office and the tenant's
    housing bureau (the first of each by id), as {kind: {id, name, kind}}."""
    rows = await fetch(
        "SELECT DISTINCT ON (o.kind) o.id, o.name, o.kind FROM organization o"
        " LEFT JOIN organization_coverage oc ON oc.organization = o.id"
        " WHERE o.tenant = $1 AND ((o.kind = 'owners_committee' AND oc.estate = $2)"
        " OR (o.kind = 'residents_committee' AND oc.community = $3)"
        " OR (o.kind = 'street_office' AND oc.street = $4) OR o.kind = 'housing_bureau')"
        " ORDER BY o.kind, o.id", tenant_id, estate_id, community_id, street_id)
    return {r["kind"]: r for r in rows}


async def signing_user(tenant_id: int, organization_id: int, roles: tuple[str, ...]) -> dict | None:
    """The active member of the organisation with the first of `roles` who will sign for it."""
    rows = await fetch(
        "SELECT u.id, u.display_name, u.person, m.role FROM membership m"
        " JOIN app_user u ON u.id = m.user WHERE m.tenant = $1 AND m.organization = $2"
        " AND m.role = ANY($3::text[]) AND u.is_active"
        " ORDER BY array_position($3::text[], m.role::text), m.id LIMIT 1",
        tenant_id, organization_id, list(roles))
    return rows[0] if rows else None


async def case_aggregates(tenant_id: int, estate_ids: list[int], start: date,
                          end: date) -> dict[str, Any]:
    """Totals, rates' numerators and denominators, and per month/category/priority/rating
    counts of the cases created in the period in the estates (one statement)."""
    lo, hi = period_bounds(start, end)
    rows = await fetch(
        "SELECT grouping(month) AS g_month, grouping(category) AS g_category,"
        " grouping(priority) AS g_priority, grouping(rating) AS g_rating,"
        " month, category, priority, rating, count(*) AS n,"
        " count(*) FILTER (WHERE status = ANY($5::text[])) AS done,"
        " count(*) FILTER (WHERE status = 'closed') AS closed,"
        " count(acknowledged_at) AS acked,"
        " count(*) FILTER (WHERE acknowledged_at <= ack_due_at) AS acked_on_time,"
        " count(resolved_at) AS resolved,"
        " count(*) FILTER (WHERE resolved_at <= resolve_due_at) AS resolved_on_time,"
        " count(rating) AS rated, avg(rating)::float AS avg_rating,"
        " count(*) FILTER (WHERE reopens > 0) AS reopened,"
        " count(*) FILTER (WHERE escalated) AS escalated,"
        " coalesce(sum(transfers), 0)::int AS transfers,"
        " count(*) FILTER (WHERE NOT status = ANY($6::text[]) AND resolve_due_at < now())"
        "  AS overdue_open"
        " FROM (SELECT *, to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month"
        "       FROM case_record WHERE tenant = $1 AND estate = ANY($2::int[])"
        "       AND created_at >= $3 AND created_at < $4) c"
        " GROUP BY GROUPING SETS ((), (month), (category), (priority), (rating))",
        tenant_id, estate_ids, lo, hi, list(DONE), list(NOT_OPEN))
    return {"rows": rows}


async def case_totals_by_estate(tenant_id: int, estate_ids: list[int], start: date,
                                end: date) -> dict[int, dict]:
    lo, hi = period_bounds(start, end)
    rows = await fetch(
        "SELECT estate, count(*) AS n, count(resolved_at) AS resolved,"
        " count(*) FILTER (WHERE resolved_at <= resolve_due_at) AS resolved_on_time,"
        " avg(rating)::float AS avg_rating FROM case_record"
        " WHERE tenant = $1 AND estate = ANY($2::int[]) AND created_at >= $3 AND created_at < $4"
        " GROUP BY estate", tenant_id, estate_ids, lo, hi)
    return {r["estate"]: r for r in rows}


async def notable_cases(tenant_id: int, estate_ids: list[int], start: date, end: date,
                        limit: int = 8) -> list[dict]:
    """Escalated, reopened, overdue or poorly rated cases first, newest first."""
    lo, hi = period_bounds(start, end)
    return await fetch(
        "SELECT id, created_at, category, priority, status, left(description, 60) AS summary,"
        " escalated, reopens > 0 AS reopened, rating,"
        " (NOT status = ANY($5::text[]) AND resolve_due_at < now())"
        "  OR (resolved_at IS NOT NULL AND resolved_at > resolve_due_at) AS late"
        " FROM case_record WHERE tenant = $1 AND estate = ANY($2::int[])"
        " AND created_at >= $3 AND created_at < $4"
        " AND (escalated OR reopens > 0 OR rating <= 2 OR resolve_due_at < coalesce(resolved_at, now()))"
        " ORDER BY (escalated::int + (reopens > 0)::int + (coalesce(rating, 5) <= 2)::int) DESC,"
        " created_at DESC LIMIT $6", tenant_id, estate_ids, lo, hi, list(NOT_OPEN), limit)


async def assessment(tenant_id: int, contract_id: int, start: date, end: date,
                     assessment_id: int | None = None) -> dict | None:
    """The contract's assessment in a campaign covering exactly the period (or the given one),
    with its campaign and scheme version."""
    rows = await fetch(
        "SELECT a.id, a.status, a.components, a.total_score::float AS total_score, a.grade,"
        " a.rank, c.id AS campaign_id, c.name AS campaign, sv.criteria, sv.evaluator_weights"
        " FROM evaluation_assessment a JOIN evaluation_campaign c ON c.id = a.campaign"
        " JOIN evaluation_scheme_version sv ON sv.id = c.scheme_version"
        " WHERE a.tenant = $1 AND a.contract = $2 AND (($5::bigint IS NOT NULL AND a.id = $5)"
        " OR ($5::bigint IS NULL AND c.period_start = $3 AND c.period_end = $4))"
        " ORDER BY a.id DESC LIMIT 1", tenant_id, contract_id, start, end, assessment_id)
    if not rows:
        return None
    row = rows[0]
    for key in ("components", "criteria", "evaluator_weights"):
        row[key] = _json(row[key])
    return row


async def submissions(tenant_id: int, assessment_id: int) -> list[dict]:
    return await fetch(
        "SELECT s.id, s.evaluator_kind, s.status, s.score::float AS score, o.name AS organization"
        " FROM evaluation_submission s JOIN organization o ON o.id = s.organization"
        " WHERE s.tenant = $1 AND s.assessment = $2 AND s.status = ANY($3::text[])"
        " ORDER BY s.evaluator_kind, o.name", tenant_id, assessment_id, list(COUNTED_SUBMISSIONS))


async def criterion_scores(tenant_id: int, submission_ids: list[int]) -> list[dict]:
    return await fetch(
        "SELECT submission, criterion_key, score::float AS score FROM evaluation_submission_score"
        " WHERE tenant = $1 AND submission = ANY($2::bigint[])", tenant_id, submission_ids)


async def survey_distribution(tenant_id: int, assessment_id: int) -> dict[int, int]:
    rows = await fetch("SELECT overall, count(*) AS n FROM evaluation_survey_response"
                       " WHERE tenant = $1 AND assessment = $2 GROUP BY overall",
                       tenant_id, assessment_id)
    return {r["overall"]: r["n"] for r in rows}


async def objections(tenant_id: int, assessment_id: int) -> list[dict] | None:
    """The assessment's objections, or None while evaluations has no objection table."""
    exists = await fetch("SELECT to_regclass('evaluation_objection') IS NOT NULL AS ok")
    if not exists[0]["ok"]:
        return None
    return await fetch(
        "SELECT j.created_at, o.name AS organization, j.reasons, j.status,"
        " j.original_score::float AS original_score, j.adjusted_score::float AS adjusted_score,"
        " j.resolution_reason FROM evaluation_objection j"
        " JOIN organization o ON o.id = j.raised_by_org"
        " WHERE j.tenant = $1 AND j.assessment = $2 ORDER BY j.id", tenant_id, assessment_id)


async def company_contracts(tenant_id: int, company_id: int, start: date,
                            end: date) -> list[dict]:
    """The company's contracts in force at some point of the period (not drafts)."""
    return await fetch(
        "SELECT c.id, c.number, c.estate, e.name AS estate_name,"
        " (SELECT count(*) FROM unit u WHERE u.tenant = $1 AND u.estate = e.id"
        "  AND NOT u.developer_unsold) AS households"
        " FROM service_contract c JOIN estate e ON e.id = c.estate"
        " WHERE c.tenant = $1 AND c.property_company = $2 AND c.status <> 'draft'"
        " AND c.starts_on <= $4 AND c.ends_on >= $3 ORDER BY e.name, c.id",
        tenant_id, company_id, start, end)


async def organization(tenant_id: int, organization_id: int) -> dict | None:
    rows = await fetch("SELECT id, name, kind FROM organization WHERE tenant = $1 AND id = $2",
                       tenant_id, organization_id)
    return rows[0] if rows else None


async def company_result(tenant_id: int, company_id: int, start: date, end: date) -> dict | None:
    exists = await fetch("SELECT to_regclass('evaluation_company_result') IS NOT NULL AS ok")
    if not exists[0]["ok"]:
        return None
    rows = await fetch(
        "SELECT r.score::float AS score, r.grade, r.rank FROM evaluation_company_result r"
        " JOIN evaluation_campaign c ON c.id = r.campaign WHERE r.tenant = $1 AND r.company = $2"
        " AND c.period_start = $3 AND c.period_end = $4 AND c.status IN ('published', 'final')"
        " ORDER BY r.id DESC LIMIT 1", tenant_id, company_id, start, end)
    return rows[0] if rows else None


async def campaign(tenant_id: int, campaign_id: int) -> dict | None:
    rows = await fetch("SELECT id, name, period_kind, period_start, period_end, status"
                       " FROM evaluation_campaign WHERE tenant = $1 AND id = $2",
                       tenant_id, campaign_id)
    return rows[0] if rows else None


async def campaign_assessments(tenant_id: int, campaign_id: int) -> list[dict]:
    return await fetch(
        "SELECT a.id, a.contract, a.estate, a.property_company, a.status,"
        " a.total_score::float AS total_score, a.grade, a.rank, e.name AS estate_name,"
        " o.name AS company_name, c.number AS contract_number"
        " FROM evaluation_assessment a JOIN estate e ON e.id = a.estate"
        " JOIN organization o ON o.id = a.property_company"
        " JOIN service_contract c ON c.id = a.contract"
        " WHERE a.tenant = $1 AND a.campaign = $2 ORDER BY e.name, a.id", tenant_id, campaign_id)


async def campaigns(tenant_id: int, limit: int = 50) -> list[dict]:
    """The tenant's evaluation campaigns, newest period first, with their assessment counts."""
    return await fetch(
        "SELECT c.id, c.name, c.period_kind, c.period_start, c.period_end, c.status,"
        " (SELECT count(*) FROM evaluation_assessment a WHERE a.campaign = c.id) AS assessments"
        " FROM evaluation_campaign c WHERE c.tenant = $1"
        " ORDER BY c.period_start DESC, c.id DESC LIMIT $2", tenant_id, limit)


async def contracts_for_reports(tenant_id: int, estate_ids: list[int] | None) -> list[dict]:
    """Contracts in force or ended (not drafts) of the tenant, or of `estate_ids`, for choosing
    a report's subject."""
    return await fetch(
        "SELECT c.id, c.number, e.name AS estate_name, o.name AS company_name"
        " FROM service_contract c JOIN estate e ON e.id = c.estate"
        " JOIN organization o ON o.id = c.property_company"
        " WHERE c.tenant = $1 AND c.status <> 'draft'"
        " AND ($2::int[] IS NULL OR c.estate = ANY($2::int[]))"
        " ORDER BY e.name, c.id LIMIT 500", tenant_id, estate_ids)
