"""Evaluation queries. Every caller-facing query takes a `Reach` (what the caller may read) and is
scoped by it: the housing bureau reads its whole tenant; a property company the assessments of
its own contracts; the committees and the street office the assessments of the estates they
cover; a resident those of the estates where they own a unit. Draft campaigns are the bureau's
alone. The `system_*` functions serve jobs, seeding and the other half of this package (scoring);
they take the tenant or row ids explicitly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.db import fetch, require_transaction


@dataclass(frozen=True)
class Reach:
    tenant_id: int
    everything: bool = False  # the housing bureau
    companies: frozenset[int] = frozenset()  # property companies the caller acts for
    estates: frozenset[int] = frozenset()  # estates covered (or owned in, for residents)
    organizations: frozenset[int] = field(default_factory=frozenset)

    def args(self) -> tuple[int, bool, list[int], list[int]]:
        return self.tenant_id, self.everything, sorted(self.companies), sorted(self.estates)


# $1 tenant, $2 everything, $3 companies, $4 estates (Reach.args())
ASSESSMENT_SCOPE = ("a.tenant = $1 AND ($2::bool OR a.property_company = ANY($3::int[])"
                    " OR a.estate = ANY($4::int[]))")
CAMPAIGN_SCOPE = ("c.tenant = $1 AND ($2::bool OR (c.status <> 'draft' AND EXISTS (SELECT 1 FROM"
                  " evaluation_assessment a WHERE a.campaign = c.id AND " + ASSESSMENT_SCOPE + ")))")


def decoded(row: dict | None, *names: str) -> dict | None:
    """asyncpg hands JSONB over as text."""
    if row is None:
        return None
    for name in names:
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


def columns(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)  # "user" is a reserved word


async def _one(sql: str, *args: Any) -> dict | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


# --- schemes (tenant-wide reference data: every member of the tenant reads them) ---------------------
VERSION_COLUMNS = ("v.*, EXISTS (SELECT 1 FROM evaluation_campaign c WHERE c.scheme_version = v.id)"
                   " AS in_use")


async def schemes(tenant_id: int) -> list[dict]:
    return await fetch("SELECT * FROM evaluation_scheme WHERE tenant = $1 ORDER BY id", tenant_id)


async def scheme(tenant_id: int, scheme_id: int) -> dict | None:
    return await _one("SELECT * FROM evaluation_scheme WHERE tenant = $1 AND id = $2",
                      tenant_id, scheme_id)


async def insert_scheme(tenant_id: int, name: str) -> dict | None:
    """The new scheme, or None when the tenant already has one of that name."""
    require_transaction()
    return await _one("INSERT INTO evaluation_scheme (tenant, name, created_at) VALUES ($1, $2,"
                      " now()) ON CONFLICT (tenant, name) DO NOTHING RETURNING *", tenant_id, name)


async def scheme_by_name(tenant_id: int, name: str) -> dict | None:
    return await _one("SELECT * FROM evaluation_scheme WHERE tenant = $1 AND name = $2",
                      tenant_id, name)


async def latest_version(tenant_id: int, scheme_id: int) -> dict | None:
    return decoded(await _one(
        f"SELECT {VERSION_COLUMNS} FROM evaluation_scheme_version v WHERE v.tenant = $1"
        " AND v.scheme = $2 ORDER BY v.number DESC LIMIT 1", tenant_id, scheme_id),
        "criteria", "evaluator_weights", "grade_bands")


async def version(tenant_id: int, version_id: int) -> dict | None:
    return decoded(await _one(
        f"SELECT {VERSION_COLUMNS} FROM evaluation_scheme_version v WHERE v.tenant = $1"
        " AND v.id = $2", tenant_id, version_id), "criteria", "evaluator_weights", "grade_bands")


async def insert_version(tenant_id: int, scheme_id: int, values: dict[str, Any],
                         user_id: int | None) -> dict:
    """The next version number of the scheme (the scheme row is locked while numbering)."""
    require_transaction()
    await fetch("SELECT id FROM evaluation_scheme WHERE id = $1 FOR UPDATE", scheme_id)
    row = await _one(
        "INSERT INTO evaluation_scheme_version (tenant, scheme, number, criteria,"
        " evaluator_weights, grade_bands, objection_window_days, publication_days,"
        " min_survey_response_rate, survey_rule, created_by, created_at)"
        " SELECT $1, $2, COALESCE(max(number), 0) + 1, $3::jsonb, $4::jsonb, $5::jsonb, $6, $7,"
        " $8, $9, $10, now() FROM evaluation_scheme_version WHERE scheme = $2 RETURNING id",
        tenant_id, scheme_id, json.dumps(values["criteria"], ensure_ascii=False),
        json.dumps(values["evaluator_weights"]), json.dumps(values["grade_bands"]),
        values["objection_window_days"], values["publication_days"],
        values["min_survey_response_rate"], values["survey_rule"], user_id)
    return await version(tenant_id, row["id"])  # type: ignore[index,return-value]


# --- campaigns and assessments ---------------------------------------------------------------------
CAMPAIGN_COLUMNS = ("c.*, (SELECT count(*) FROM evaluation_assessment x WHERE x.campaign = c.id)"
                    " AS assessments")


async def campaigns(r: Reach, *, status: str | None, limit: int, offset: int) -> list[dict]:
    return await fetch(f"SELECT {CAMPAIGN_COLUMNS} FROM evaluation_campaign c WHERE {CAMPAIGN_SCOPE}"
                       " AND ($5::text IS NULL OR c.status = $5) ORDER BY c.period_start DESC,"
                       " c.id DESC LIMIT $6 OFFSET $7", *r.args(), status, limit, offset)


async def campaign(r: Reach, campaign_id: int, *, lock: bool = False) -> dict | None:
    return await _one(f"SELECT {CAMPAIGN_COLUMNS} FROM evaluation_campaign c WHERE {CAMPAIGN_SCOPE}"
                      f" AND c.id = $5{' FOR UPDATE OF c' if lock else ''}", *r.args(), campaign_id)


async def insert_campaign(**values: Any) -> dict:
    require_transaction()
    names = list(values)
    row = await _one(f"INSERT INTO evaluation_campaign ({columns(names)}, created_at) VALUES"
                     f" ({', '.join(f'${i + 1}' for i in range(len(names)))}, now()) RETURNING id",
                     *values.values())
    return row  # type: ignore[return-value]


async def update_campaign(campaign_id: int, values: dict[str, Any]) -> None:
    require_transaction()
    sets = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(values))
    await fetch(f"UPDATE evaluation_campaign SET {sets}, version = version + 1 WHERE id = $1",
                campaign_id, *values.values())


async def campaign_evaluators(campaign_id: int) -> list[int]:
    """The organisations with a submission in the campaign."""
    rows = await fetch("SELECT DISTINCT s.organization FROM evaluation_submission s"
                       " JOIN evaluation_assessment a ON a.id = s.assessment WHERE a.campaign = $1"
                       " ORDER BY 1", campaign_id)
    return [r["organization"] for r in rows]


async def insert_assessments(tenant_id: int, campaign_id: int, contracts: list[dict]) -> int:
    """One assessment per contract (existing pairs are left alone); returns how many were new."""
    require_transaction()
    if not contracts:
        return 0
    rows = await fetch(
        "INSERT INTO evaluation_assessment (tenant, campaign, contract, estate, property_company,"
        " status, version, created_at) SELECT $1, $2, x.contract, x.estate, x.company, 'open', 1,"
        " now() FROM unnest($3::int[], $4::int[], $5::int[]) AS x(contract, estate, company)"
        " ON CONFLICT (campaign, contract) DO NOTHING RETURNING id", tenant_id, campaign_id,
        [c["id"] for c in contracts], [c["estate"] for c in contracts],
        [c["property_company"] for c in contracts])
    return len(rows)


ASSESSMENT_COLUMNS = ("a.*, e.name AS estate_name, o.name AS company_name FROM evaluation_assessment a"
                      " JOIN estate e ON e.id = a.estate JOIN organization o"
                      " ON o.id = a.property_company")


async def assessments(r: Reach, campaign_id: int, *, limit: int = 5000,
                      offset: int = 0) -> list[dict]:
    return await fetch(f"SELECT {ASSESSMENT_COLUMNS} WHERE {ASSESSMENT_SCOPE} AND a.campaign = $5"
                       " ORDER BY e.name, a.id LIMIT $6 OFFSET $7", *r.args(), campaign_id, limit,
                       offset)


async def assessment(r: Reach, assessment_id: int) -> dict | None:
    return await _one(f"SELECT {ASSESSMENT_COLUMNS} WHERE {ASSESSMENT_SCOPE} AND a.id = $5",
                      *r.args(), assessment_id)


async def progress(tenant_id: int, assessment_ids: list[int]) -> dict[int, dict]:
    """{assessment: {expected, draft, submitted, survey_responses}} (expected: the committees'
    and street office's submission rows created when the campaign opened, plus any other)."""
    rows = await fetch(
        "SELECT a.id, (SELECT count(*) FROM evaluation_submission s WHERE s.assessment = a.id"
        "   AND s.evaluator_kind <> 'bureau_inspection') AS expected,"
        " (SELECT count(*) FROM evaluation_submission s WHERE s.assessment = a.id"
        "   AND s.status = 'draft') AS draft,"
        " (SELECT count(*) FROM evaluation_submission s WHERE s.assessment = a.id"
        "   AND s.status <> 'draft') AS submitted,"
        " (SELECT count(*) FROM evaluation_survey_response r WHERE r.assessment = a.id)"
        "   AS survey_responses FROM evaluation_assessment a WHERE a.tenant = $1"
        " AND a.id = ANY($2::int[])", tenant_id, list(assessment_ids))
    return {r.pop("id"): r for r in rows}


# --- submissions ------------------------------------------------------------------------------------
SUBMISSION_COLUMNS = ("s.*, a.campaign, a.estate, a.property_company, c.submission_deadline,"
                      " c.status AS campaign_status, c.scheme_version FROM evaluation_submission s"
                      " JOIN evaluation_assessment a ON a.id = s.assessment"
                      " JOIN evaluation_campaign c ON c.id = a.campaign")


async def submission(tenant_id: int, submission_id: int, *, lock: bool = False) -> dict | None:
    """Any submission of the tenant; the service decides who may see it."""
    return await _one(f"SELECT {SUBMISSION_COLUMNS} WHERE s.tenant = $1 AND s.id = $2"
                      f"{' FOR UPDATE OF s' if lock else ''}", tenant_id, submission_id)


async def submission_for(tenant_id: int, assessment_id: int, org_id: int) -> dict | None:
    return await _one(f"SELECT {SUBMISSION_COLUMNS} WHERE s.tenant = $1 AND s.assessment = $2"
                      " AND s.organization = $3", tenant_id, assessment_id, org_id)


async def submissions_of(tenant_id: int, org_ids: list[int], *, campaign_id: int | None,
                         open_only: bool) -> list[dict]:
    return await fetch(f"SELECT {SUBMISSION_COLUMNS} WHERE s.tenant = $1"
                       " AND s.organization = ANY($2::int[]) AND ($3::int IS NULL OR a.campaign = $3)"
                       " AND (NOT $4 OR c.status = 'open') ORDER BY c.submission_deadline, s.id",
                       tenant_id, list(org_ids), campaign_id, open_only)


async def submissions_of_assessment(tenant_id: int, assessment_id: int) -> list[dict]:
    return await fetch(f"SELECT {SUBMISSION_COLUMNS} WHERE s.tenant = $1 AND s.assessment = $2"
                       " ORDER BY s.id", tenant_id, assessment_id)


async def insert_submissions(tenant_id: int, assessment_id: int,
                             evaluators: list[tuple[int, str]], user_id: int | None) -> list[int]:
    """Draft rows for (organization, evaluator_kind) pairs; existing ones are left alone."""
    require_transaction()
    if not evaluators:
        return []
    rows = await fetch(
        "INSERT INTO evaluation_submission (tenant, assessment, organization, evaluator_kind,"
        " status, version, updated_by, created_at, updated_at) SELECT $1, $2, x.org, x.kind,"
        " 'draft', 1, $5, now(), now() FROM unnest($3::int[], $4::text[]) AS x(org, kind)"
        " ON CONFLICT (assessment, organization) DO NOTHING RETURNING id", tenant_id,
        assessment_id, [o for o, _ in evaluators], [k for _, k in evaluators], user_id)
    return [r["id"] for r in rows]


async def scores(submission_ids: list[int]) -> list[dict]:
    rows = await fetch("SELECT * FROM evaluation_submission_score WHERE submission = ANY($1::int[])"
                       " ORDER BY submission, id", list(submission_ids))
    return [decoded(r, "evidence") for r in rows]  # type: ignore[misc]


async def upsert_scores(tenant_id: int, submission_id: int, items: list[dict]) -> None:
    require_transaction()
    await fetch(
        "INSERT INTO evaluation_submission_score (tenant, submission, criterion_key, score,"
        " comment, evidence) SELECT $1, $2, x.key, x.score, x.comment, x.evidence::jsonb FROM"
        " unnest($3::text[], $4::numeric[], $5::text[], $6::text[]) AS x(key, score, comment,"
        " evidence) ON CONFLICT (submission, criterion_key) DO UPDATE SET score = EXCLUDED.score,"
        " comment = EXCLUDED.comment, evidence = EXCLUDED.evidence", tenant_id, submission_id,
        [i["criterion_key"] for i in items], [i["score"] for i in items],
        [i["comment"] for i in items], [json.dumps(i["evidence"]) for i in items])


async def bump_submission(submission_id: int, expected_version: int | None,
                          values: dict[str, Any]) -> dict | None:
    """Write `values` and the next version if the row is still at `expected_version` (any
    version when None); None when someone else's change came first."""
    require_transaction()
    sets = "".join(f", {k} = ${i + 3}" for i, k in enumerate(values))
    return await _one(f"UPDATE evaluation_submission SET version = version + 1, updated_at = now()"
                      f"{sets} WHERE id = $1 AND ($2::int IS NULL OR version = $2) RETURNING id,"
                      " version", submission_id, expected_version, *values.values())


async def lock_submitted(campaign_id: int) -> list[dict]:
    """Lock the campaign's submitted submissions (drafts stay drafts and never count)."""
    require_transaction()
    return await fetch(
        "UPDATE evaluation_submission s SET status = 'locked', version = s.version + 1,"
        " updated_at = now() FROM evaluation_assessment a WHERE a.id = s.assessment"
        " AND a.campaign = $1 AND s.status = 'submitted' RETURNING s.id", campaign_id)


async def photos(submission_id: int) -> list[dict]:
    return await fetch("SELECT * FROM evaluation_evidence_photo WHERE submission = $1 ORDER BY id",
                       submission_id)


async def photo(tenant_id: int, photo_id: int) -> dict | None:
    return await _one("SELECT * FROM evaluation_evidence_photo WHERE tenant = $1 AND id = $2",
                      tenant_id, photo_id)


async def insert_photo(**values: Any) -> dict:
    require_transaction()
    names = list(values)
    return await _one(  # type: ignore[return-value]
        f"INSERT INTO evaluation_evidence_photo ({columns(names)}, uploaded_at) VALUES"
        f" ({', '.join(f'${i + 1}' for i in range(len(names)))}, now()) RETURNING *",
        *values.values())


# --- conflicts of interest --------------------------------------------------------------------------
async def conflicts(tenant_id: int) -> list[dict]:
    return await fetch("SELECT * FROM evaluation_conflict WHERE tenant = $1 ORDER BY id", tenant_id)


async def conflict(tenant_id: int, conflict_id: int) -> dict | None:
    return await _one("SELECT * FROM evaluation_conflict WHERE tenant = $1 AND id = $2",
                      tenant_id, conflict_id)


async def insert_conflict(tenant_id: int, org_id: int, conflicted_id: int, reason: str,
                          user_id: int) -> dict | None:
    require_transaction()
    return await _one("INSERT INTO evaluation_conflict (tenant, organization,"
                      " conflicted_organization, reason, declared_by, created_at) VALUES"
                      " ($1, $2, $3, $4, $5, now()) ON CONFLICT (organization,"
                      " conflicted_organization) DO NOTHING RETURNING *",
                      tenant_id, org_id, conflicted_id, reason, user_id)


async def delete_conflict(tenant_id: int, conflict_id: int) -> None:
    require_transaction()
    await fetch("DELETE FROM evaluation_conflict WHERE tenant = $1 AND id = $2",
                tenant_id, conflict_id)


async def conflicted_orgs(tenant_id: int, company_id: int, org_ids: list[int]) -> list[int]:
    """Which of `org_ids` have a declared conflict with the company."""
    rows = await fetch("SELECT organization FROM evaluation_conflict WHERE tenant = $1"
                       " AND conflicted_organization = $2 AND organization = ANY($3::int[])",
                       tenant_id, company_id, list(org_ids))
    return [r["organization"] for r in rows]


# --- survey -----------------------------------------------------------------------------------------
async def open_assessments_in(tenant_id: int, estate_ids: list[int], at: datetime) -> list[dict]:
    return await fetch("SELECT a.*, e.name AS estate_name, o.name AS company_name,"
                       " c.name AS campaign_name, c.submission_deadline, c.scheme_version"
                       " FROM evaluation_assessment a JOIN evaluation_campaign c"
                       " ON c.id = a.campaign JOIN estate e ON e.id = a.estate"
                       " JOIN organization o ON o.id = a.property_company WHERE a.tenant = $1"
                       " AND a.estate = ANY($2::int[]) AND c.status = 'open'"
                       " AND c.submission_deadline > $3 ORDER BY c.id, a.id",
                       tenant_id, list(estate_ids), at)


async def answered_units(assessment_ids: list[int], unit_ids: list[int]) -> list[dict]:
    return await fetch("SELECT assessment, unit FROM evaluation_survey_response"
                       " WHERE assessment = ANY($1::int[]) AND unit = ANY($2::int[])",
                       list(assessment_ids), list(unit_ids))


async def insert_response(**values: Any) -> dict | None:
    """The new response, or None when the household has already answered."""
    require_transaction()
    values["answers"] = json.dumps(values["answers"])
    names = list(values)
    return decoded(await _one(
        f"INSERT INTO evaluation_survey_response ({columns(names)}, submitted_at) VALUES"
        f" ({', '.join(f'${i + 1}' for i in range(len(names)))}, now()) ON CONFLICT"
        " (assessment, unit) DO NOTHING RETURNING *", *values.values()), "answers")


async def survey_stats(assessment_ids: list[int]) -> dict[int, dict]:
    rows = await fetch("SELECT a.id, a.tenant, a.estate, v.min_survey_response_rate AS min_rate,"
                       " v.survey_rule AS rule, count(r.id) AS responses, avg(r.overall) AS mean"
                       " FROM evaluation_assessment a JOIN evaluation_campaign c"
                       " ON c.id = a.campaign JOIN evaluation_scheme_version v"
                       " ON v.id = c.scheme_version LEFT JOIN evaluation_survey_response r"
                       " ON r.assessment = a.id WHERE a.id = ANY($1::int[])"
                       " GROUP BY a.id, v.id", list(assessment_ids))
    return {r["id"]: r for r in rows}


async def campaign_assessment_ids(campaign_id: int) -> list[int]:
    rows = await fetch("SELECT id FROM evaluation_assessment WHERE campaign = $1 ORDER BY id",
                       campaign_id)
    return [r["id"] for r in rows]


# --- jobs -------------------------------------------------------------------------------------------
async def system_campaigns_due(at: datetime, tenant_id: int | None) -> list[dict]:
    return await fetch("SELECT * FROM evaluation_campaign WHERE status = 'open'"
                       " AND submission_deadline <= $1 AND ($2::int IS NULL OR tenant = $2)"
                       " ORDER BY id FOR UPDATE SKIP LOCKED", at, tenant_id)


async def system_pending_evaluators(at: datetime, tenant_id: int | None) -> list[dict]:
    """(campaign, organization, pending drafts) of open campaigns still before their deadline."""
    return await fetch(
        "SELECT c.tenant, c.id AS campaign, c.name, c.submission_deadline, s.organization,"
        " count(*) AS pending FROM evaluation_campaign c JOIN evaluation_assessment a"
        " ON a.campaign = c.id JOIN evaluation_submission s ON s.assessment = a.id"
        " WHERE c.status = 'open' AND c.submission_deadline > $1 AND s.status = 'draft'"
        " AND s.evaluator_kind <> 'bureau_inspection' AND ($2::int IS NULL OR c.tenant = $2)"
        " GROUP BY c.tenant, c.id, s.organization ORDER BY c.id, s.organization", at, tenant_id)


async def system_claim_reminder(tenant_id: int, campaign_id: int, org_id: int, day: date,
                                pending: int) -> bool:
    """True only the first time (campaign, organisation, day) is claimed."""
    require_transaction()
    rows = await fetch("INSERT INTO evaluation_reminder (tenant, campaign, organization, sent_on,"
                       " pending, created_at) VALUES ($1, $2, $3, $4, $5, now())"
                       " ON CONFLICT (campaign, organization, sent_on) DO NOTHING RETURNING id",
                       tenant_id, campaign_id, org_id, day, pending)
    return bool(rows)


async def system_assessment(assessment_id: int) -> dict | None:
    return await _one("SELECT * FROM evaluation_assessment WHERE id = $1", assessment_id)
