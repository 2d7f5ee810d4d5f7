"""Queries of the results half: scoring inputs, result writes, the results table, objections.

Caller-facing reads take a `ResultScope`: the housing bureau reads every result of its tenant at
any stage; everyone else only published results (published, objection or final), and of those
only their own company's assessments (property companies) or the assessments of estates their
owners' committee, residents' committee or street office covers. The `system_*` and write
functions take the tenant explicitly; the service checks permissions first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.db import fetch, require_transaction
from evaluations.repository import decoded

ESTATE_KINDS = ("owners_committee", "residents_committee", "street_office")


@dataclass(frozen=True)
class ResultScope:
    tenant_id: int
    everything: bool = False
    companies: tuple[int, ...] = ()
    estates: tuple[int, ...] = ()

    def args(self) -> tuple:
        return self.tenant_id, self.everything, list(self.companies), list(self.estates)


# $1 tenant, $2 everything, $3 companies, $4 estates
SCOPE = ("a.tenant = $1 AND ($2::bool OR (a.published_at IS NOT NULL AND"
         " (a.property_company = ANY($3::int[]) OR a.estate = ANY($4::int[]))))")


async def _one(sql: str, *args: Any) -> dict | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


# --- campaigns ------------------------------------------------------------------------------------
CAMPAIGN = ("SELECT c.*, v.evaluator_weights, v.grade_bands, v.objection_window_days,"
            " v.publication_days, v.min_survey_response_rate, v.survey_rule"
            " FROM evaluation_campaign c JOIN evaluation_scheme_version v ON v.id = c.scheme_version")


async def campaign(scope: ResultScope, campaign_id: int, *, lock: bool = False) -> dict | None:
    """The campaign with its scheme version's scoring settings, when the caller sees at least one
    of its results (the bureau: always)."""
    row = await _one(
        f"{CAMPAIGN} WHERE c.id = $5 AND c.tenant = $1 AND ($2::bool OR EXISTS (SELECT 1 FROM"
        f" evaluation_assessment a WHERE a.campaign = c.id AND {SCOPE}))"
        + (" FOR UPDATE OF c" if lock else ""), *scope.args(), campaign_id)
    return decoded(row, "evaluator_weights", "grade_bands")


async def previous_campaign(tenant_id: int, before: Any) -> dict | None:
    """The latest published or final campaign whose period ended before `before` (a date)."""
    return await _one("SELECT * FROM evaluation_campaign WHERE tenant = $1 AND period_end < $2"
                      " AND status IN ('published', 'final') ORDER BY period_end DESC, id DESC"
                      " LIMIT 1", tenant_id, before)


async def set_campaign_status(tenant_id: int, campaign_id: int, status: str) -> None:
    require_transaction()
    await fetch("UPDATE evaluation_campaign SET status = $3, version = version + 1"
                " WHERE tenant = $1 AND id = $2", tenant_id, campaign_id, status)


# --- scoring inputs (system) ----------------------------------------------------------------------
async def system_assessments(tenant_id: int, campaign_id: int) -> list[dict]:
    rows = await fetch("SELECT * FROM evaluation_assessment WHERE tenant = $1 AND campaign = $2"
                       " ORDER BY id", tenant_id, campaign_id)
    return [decoded(r, "components") for r in rows]


async def system_submission_scores(tenant_id: int, campaign_id: int) -> list[dict]:
    """(assessment, evaluator_kind, score) of the campaign's submitted or locked submissions."""
    return await fetch("SELECT s.assessment, s.evaluator_kind, s.score FROM evaluation_submission s"
                       " JOIN evaluation_assessment a ON a.id = s.assessment"
                       " WHERE a.tenant = $1 AND a.campaign = $2"
                       " AND s.status IN ('submitted', 'locked')", tenant_id, campaign_id)


async def write_scores(tenant_id: int, rows: list[dict], at: datetime) -> None:
    """Every assessment's result in one statement: components, total, grade, rank, status."""
    require_transaction()
    await fetch(
        "UPDATE evaluation_assessment a SET components = u.components::jsonb,"
        " total_score = u.total, grade = u.grade, rank = u.rank, status = u.status,"
        " scored_at = $7, version = a.version + 1"
        " FROM unnest($2::int[], $3::text[], $4::numeric[], $5::text[], $6::int[], $8::text[])"
        " AS u(id, components, total, grade, rank, status)"
        " WHERE a.id = u.id AND a.tenant = $1",
        tenant_id, [r["id"] for r in rows],
        [json.dumps(r["components"], ensure_ascii=False) for r in rows],
        [r["total_score"] for r in rows], [r["grade"] for r in rows], [r["rank"] for r in rows],
        at, [r["status"] for r in rows])


async def write_ranks(tenant_id: int, ranks: dict[int, int | None]) -> None:
    require_transaction()
    await fetch("UPDATE evaluation_assessment a SET rank = u.rank FROM unnest($2::int[], $3::int[])"
                " AS u(id, rank) WHERE a.id = u.id AND a.tenant = $1 AND a.rank IS DISTINCT FROM"
                " u.rank", tenant_id, list(ranks), list(ranks.values()))


async def replace_company_results(tenant_id: int, campaign_id: int, rows: list[dict]) -> None:
    require_transaction()
    await fetch("DELETE FROM evaluation_company_result WHERE tenant = $1 AND campaign = $2",
                tenant_id, campaign_id)
    await fetch(
        "INSERT INTO evaluation_company_result (tenant, campaign, company, score, grade, rank,"
        " estates, held, households, computed_at) SELECT $1, $2, u.company, u.score, u.grade,"
        " u.rank, u.estates, u.held, u.households, now() FROM unnest($3::int[], $4::numeric[],"
        " $5::text[], $6::int[], $7::int[], $8::int[], $9::int[])"
        " AS u(company, score, grade, rank, estates, held, households)",
        tenant_id, campaign_id, [r["company"] for r in rows], [r["score"] for r in rows],
        [r["grade"] for r in rows], [r["rank"] for r in rows], [r["estates"] for r in rows],
        [r["held"] for r in rows], [r["households"] for r in rows])


async def publish(tenant_id: int, campaign_id: int, at: datetime, deadline: datetime) -> list[dict]:
    require_transaction()
    return await fetch("UPDATE evaluation_assessment SET status = 'published', published_at = $3,"
                       " objection_deadline = $4, version = version + 1 WHERE tenant = $1"
                       " AND campaign = $2 RETURNING id, estate, property_company, total_score,"
                       " grade", tenant_id, campaign_id, at, deadline)


async def finalize(tenant_id: int, campaign_id: int, at: datetime) -> int:
    require_transaction()
    rows = await fetch("UPDATE evaluation_assessment SET status = 'final', finalized_at = $3,"
                       " version = version + 1 WHERE tenant = $1 AND campaign = $2 RETURNING id",
                       tenant_id, campaign_id, at)
    return len(rows)


async def update_assessment(tenant_id: int, assessment_id: int, values: dict[str, Any]) -> dict:
    require_transaction()
    values = dict(values)
    if "components" in values:
        values["components"] = json.dumps(values["components"], ensure_ascii=False)
    sets = ", ".join(f"{k} = ${i}" + ("::jsonb" if k == "components" else "")
                     for i, k in enumerate(values, 3))
    rows = await fetch(f"UPDATE evaluation_assessment SET {sets}, version = version + 1"
                       " WHERE tenant = $1 AND id = $2 RETURNING *",
                       tenant_id, assessment_id, *values.values())
    return decoded(rows[0], "components")


# --- the results table ----------------------------------------------------------------------------
RESULT_COLUMNS = (
    "a.id, a.campaign, a.contract, a.estate, a.property_company, a.status, a.components,"
    " a.total_score, a.grade, a.rank, a.scored_at, a.published_at, a.objection_deadline,"
    " a.finalized_at, a.version, e.name AS estate_name, o.name AS company_name,"
    " cm.id AS community_id, cm.street AS street_id, s.name AS street_name,"
    " p.total_score AS previous_score, p.grade AS previous_grade,"
    " (SELECT count(*) FROM evaluation_objection x WHERE x.assessment = a.id) AS objections,"
    " (SELECT count(*) FROM evaluation_objection x WHERE x.assessment = a.id"
    "   AND x.status = 'open') AS open_objections")
RESULT_FROM = (
    "FROM evaluation_assessment a JOIN estate e ON e.id = a.estate"
    " JOIN community cm ON cm.id = e.community JOIN street s ON s.id = cm.street"
    " JOIN organization o ON o.id = a.property_company"
    " LEFT JOIN evaluation_assessment p ON p.campaign = $6 AND p.estate = a.estate"
    "  AND p.property_company = a.property_company AND p.tenant = a.tenant")


@dataclass(frozen=True)
class ResultFilters:
    company_id: int | None = None
    estate_id: int | None = None
    street_id: int | None = None
    grade: str | None = None
    status: str | None = None
    q: str | None = None  # substring of the estate's or the company's name


def _filters(f: ResultFilters, first: int) -> tuple[str, list]:
    clauses, args = [], []
    for sql, value in (("a.property_company = ${}", f.company_id), ("a.estate = ${}", f.estate_id),
                       ("cm.street = ${}", f.street_id), ("a.grade = ${}", f.grade),
                       ("a.status = ${}", f.status),
                       ("(e.name ILIKE ${0} OR o.name ILIKE ${0})",
                        None if not f.q else f"%{f.q.replace('%', '').replace('_', '')}%")):
        if value is not None:
            args.append(value)
            clauses.append(sql.format(first + len(args) - 1))
    return "".join(f" AND {c}" for c in clauses), args


async def results(scope: ResultScope, campaign_id: int, previous_id: int | None,
                  f: ResultFilters = ResultFilters(), *, limit: int = 5000,
                  offset: int = 0) -> list[dict]:
    where, args = _filters(f, 9)
    rows = await fetch(
        f"SELECT {RESULT_COLUMNS} {RESULT_FROM} WHERE {SCOPE} AND a.campaign = $5{where}"
        " ORDER BY a.rank NULLS LAST, a.total_score DESC NULLS LAST, a.id LIMIT $7 OFFSET $8",
        *scope.args(), campaign_id, previous_id or 0, limit, offset, *args)
    return [decoded(r, "components") for r in rows]


async def result(scope: ResultScope, assessment_id: int, *, lock: bool = False) -> dict | None:
    row = await _one(
        f"SELECT {RESULT_COLUMNS} {RESULT_FROM} WHERE {SCOPE} AND a.id = $5"
        + (" FOR UPDATE OF a" if lock else ""), *scope.args(), assessment_id, 0)
    return decoded(row, "components")


async def company_results(scope: ResultScope, campaign_id: int, previous_id: int | None) -> list[dict]:
    """Roll-ups of the companies whose assessments the caller sees."""
    return await fetch(
        "SELECT r.*, o.name AS company_name, p.score AS previous_score, p.grade AS previous_grade"
        " FROM evaluation_company_result r JOIN organization o ON o.id = r.company"
        " LEFT JOIN evaluation_company_result p ON p.campaign = $6 AND p.company = r.company"
        " WHERE r.tenant = $1 AND r.campaign = $5 AND EXISTS (SELECT 1 FROM evaluation_assessment"
        f" a WHERE a.campaign = r.campaign AND a.property_company = r.company AND {SCOPE})"
        " ORDER BY r.rank NULLS LAST, r.company", *scope.args(), campaign_id, previous_id or 0)


# --- objections -----------------------------------------------------------------------------------
async def insert_objection(values: dict[str, Any]) -> dict:
    require_transaction()
    values = {**values, "evidence": json.dumps(values["evidence"], ensure_ascii=False)}
    names = list(values)
    marks = ", ".join(f"${i}" + ("::jsonb" if n == "evidence" else "")
                      for i, n in enumerate(names, 1))
    row = await _one(f"INSERT INTO evaluation_objection ({', '.join(names)}, created_at) VALUES"
                     f" ({marks}, now()) RETURNING *", *values.values())
    return decoded(row, "evidence")


async def objection(scope: ResultScope, objection_id: int, *, lock: bool = False) -> dict | None:
    row = await _one(
        "SELECT x.* FROM evaluation_objection x JOIN evaluation_assessment a"
        f" ON a.id = x.assessment WHERE x.id = $5 AND {SCOPE}"
        + (" FOR UPDATE OF x" if lock else ""), *scope.args(), objection_id)
    return decoded(row, "evidence")


async def objections(scope: ResultScope, *, assessment_id: int | None = None,
                     campaign_id: int | None = None, status: str | None = None) -> list[dict]:
    rows = await fetch(
        "SELECT x.*, a.campaign, a.estate, a.property_company, e.name AS estate_name,"
        " o.name AS company_name FROM evaluation_objection x JOIN evaluation_assessment a"
        " ON a.id = x.assessment JOIN estate e ON e.id = a.estate"
        " JOIN organization o ON o.id = a.property_company"
        f" WHERE {SCOPE} AND ($5::int IS NULL OR x.assessment = $5)"
        " AND ($6::int IS NULL OR a.campaign = $6) AND ($7::text IS NULL OR x.status = $7)"
        " ORDER BY x.id", *scope.args(), assessment_id, campaign_id, status)
    return [decoded(r, "evidence") for r in rows]


async def resolve_objection(tenant_id: int, objection_id: int, values: dict[str, Any]) -> dict:
    require_transaction()
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, 3))
    row = await _one(f"UPDATE evaluation_objection SET {sets}, version = version + 1"
                     " WHERE tenant = $1 AND id = $2 RETURNING *",
                     tenant_id, objection_id, *values.values())
    return decoded(row, "evidence")


async def open_objections(tenant_id: int, campaign_id: int) -> int:
    rows = await fetch("SELECT count(*) AS n FROM evaluation_objection x JOIN evaluation_assessment"
                       " a ON a.id = x.assessment WHERE a.tenant = $1 AND a.campaign = $2"
                       " AND x.status = 'open'", tenant_id, campaign_id)
    return rows[0]["n"]


async def estate_cases(tenant_id: int, estate_id: int, case_ids: list[int]) -> list[int]:
    """The ids among `case_ids` that are cases of the estate (objection evidence)."""
    rows = await fetch("SELECT id FROM case_record WHERE tenant = $1 AND estate = $2"
                       " AND id = ANY($3::int[])", tenant_id, estate_id, case_ids)
    return [r["id"] for r in rows]


async def campaigns_with_results(scope: ResultScope) -> list[dict]:
    """Campaigns with at least one result the caller sees (the bureau: every closed or later
    campaign), newest period first."""
    return await fetch(
        "SELECT c.id, c.name, c.period_kind, c.period_start, c.period_end, c.status"
        " FROM evaluation_campaign c WHERE c.tenant = $1 AND c.status IN ('closed', 'published',"
        " 'final') AND EXISTS (SELECT 1 FROM evaluation_assessment a WHERE a.campaign = c.id"
        f" AND {SCOPE}) ORDER BY c.period_start DESC, c.id DESC LIMIT 100", *scope.args())
