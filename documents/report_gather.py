"""Gathering an annual report's data (documents.report_data) from the database, read-only.

`gather_contract_report` builds one (contract, period) report; `gather_company_report` a
property company's roll-up. Percentages are computed here from the SQL counts (None when there
is nothing to divide by), so the PDF, the attached JSON and the CSV all show the same numbers.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from documents import report_repository as rr
from documents.report_data import (
    CATEGORIES,
    EVALUATOR_KINDS,
    AnnualReportData,
    AssessmentResult,
    CaseStats,
    CompanyReportData,
    ComponentScore,
    ContractInfo,
    CriterionRow,
    EstateInfo,
    EstateRow,
    NotableCase,
    ObjectionItem,
    Party,
    SubmissionInfo,
    SurveySummary,
)

_DIGITS = re.compile(r"\d{3,}")


def period_label(start: date, end: date) -> str:
    """"2026" for a calendar year, "2026-H1"/"2026-Q3" for halves and quarters."""
    if start.year == end.year and (start.month, start.day) == (1, 1):
        if (end.month, end.day) == (12, 31):
            return str(start.year)
        if (end.month, end.day) == (6, 30):
            return f"{start.year}-H1"
    if start.year == end.year and start.day == 1 and start.month in (1, 4, 7, 10) \
            and end.month == start.month + 2:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if start.year == end.year and (start.month, start.day, end.month, end.day) == (7, 1, 12, 31):
        return f"{start.year}-H2"
    return f"{start.isoformat()}_{end.isoformat()}"


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _party(row: dict | None) -> Party | None:
    return Party(organization_id=row["id"], name=row["name"], kind=row["kind"]) if row else None


async def case_stats(tenant_id: int, estate_ids: list[int], start: date, end: date) -> CaseStats:
    rows = (await rr.case_aggregates(tenant_id, estate_ids, start, end))["rows"]
    total = next((r for r in rows if r["g_month"] and r["g_category"] and r["g_priority"]
                  and r["g_rating"]), None)
    by_month = {r["month"]: r["n"] for r in rows if not r["g_month"]}
    by_category = {r["category"]: r["n"] for r in rows if not r["g_category"]}
    by_priority = {r["priority"]: r["n"] for r in rows if not r["g_priority"]}
    ratings = {str(r["rating"]): r["n"] for r in rows if not r["g_rating"] and r["rating"]}
    months = _months(start, end)
    t = total or {}
    n = t.get("n", 0)
    return CaseStats(
        total=n, by_month=[by_month.get(m, 0) for m in months],
        month_labels=[m[5:] if start.year == end.year else m for m in months],
        by_category={c: by_category.get(c, 0) for c in CATEGORIES if by_category.get(c)},
        by_priority={p: by_priority.get(p, 0) for p in ("emergency", "urgent", "normal")},
        resolved=t.get("resolved", 0), closed=t.get("closed", 0),
        ack_on_time_rate=_pct(t.get("acked_on_time", 0), t.get("acked", 0)),
        resolve_on_time_rate=_pct(t.get("resolved_on_time", 0), t.get("resolved", 0)),
        resolution_rate=_pct(t.get("done", 0), n),
        rated=t.get("rated", 0),
        average_rating=round(t["avg_rating"], 2) if t.get("avg_rating") is not None else None,
        rating_distribution={str(k): ratings.get(str(k), 0) for k in range(1, 6)},
        reopened=t.get("reopened", 0), escalated=t.get("escalated", 0),
        transfers=t.get("transfers", 0), overdue_open=t.get("overdue_open", 0))


async def _notable(tenant_id: int, estate_ids: list[int], start: date,
                   end: date) -> list[NotableCase]:
    out = []
    for r in await rr.notable_cases(tenant_id, estate_ids, start, end):
        flags = [f for f, on in (("escalated", r["escalated"]), ("reopened", r["reopened"]),
                                 ("overdue", r["late"]),
                                 ("low_rating", (r["rating"] or 5) <= 2)) if on]
        out.append(NotableCase(
            id=r["id"], created_on=r["created_at"].astimezone(rr.CHINA).date(),
            category=r["category"], priority=r["priority"], status=r["status"],
            summary=_DIGITS.sub(lambda m: "*" * len(m.group()), r["summary"] or ""),
            flags=flags))
    return out


async def _assessment(tenant_id: int, contract_id: int, start: date, end: date,
                      assessment_id: int | None) -> tuple[AssessmentResult | None,
                                                          SurveySummary | None,
                                                          list[ObjectionItem] | None, int]:
    a = await rr.assessment(tenant_id, contract_id, start, end, assessment_id)
    if a is None:
        return None, None, None, 0
    published = a["status"] in rr.PUBLISHED
    kinds = ((a["components"] or {}).get("kinds") or {}) if published else {}
    components = [ComponentScore(kind=k, weight=float(v.get("weight") or 0),
                                 effective_weight=float(v.get("effective_weight") or 0),
                                 score=v.get("score"), state=str(v.get("state") or "ok"))
                  for k, v in sorted(kinds.items(), key=lambda kv: _kind_order(kv[0]))]
    subs = await rr.submissions(tenant_id, a["id"]) if published else []
    scores = await rr.criterion_scores(tenant_id, [s["id"] for s in subs]) if subs else []
    by_sub = {s["id"]: s["organization"] for s in subs}
    criteria = []
    for leaf in _leaves(a["criteria"] or []) if published else []:
        row = {by_sub[s["submission"]]: s["score"] for s in scores
               if s["criterion_key"] == leaf["key"]}
        criteria.append(CriterionRow(key=leaf["key"], name=leaf.get("name_zh") or leaf["key"],
                                     weight=float(leaf.get("weight") or 0), scores=row))
    result = AssessmentResult(
        campaign_id=a["campaign_id"], campaign=a["campaign"], assessment_id=a["id"],
        status=a["status"], total_score=a["total_score"] if published else None,
        grade=a["grade"] if published else None, rank=a["rank"] if published else None,
        held=bool((a["components"] or {}).get("held")) if published else False,
        components=components,
        submissions=[SubmissionInfo(organization=s["organization"],
                                    evaluator_kind=s["evaluator_kind"], status=s["status"],
                                    score=s["score"]) for s in subs],
        criteria=criteria)
    survey = None
    if published:
        dist = await rr.survey_distribution(tenant_id, a["id"])
        responses = sum(dist.values())
        survey = SurveySummary(
            households=0, responses=responses, response_rate=None,
            average=round(sum(k * v for k, v in dist.items()) / responses, 2) if responses else None,
            distribution={str(k): dist.get(k, 0) for k in range(1, 6)})
    raw = await rr.objections(tenant_id, a["id"]) if published else None
    objections = None if raw is None else [ObjectionItem(
        raised_on=o["created_at"].astimezone(rr.CHINA).date(), organization=o["organization"],
        reasons=o["reasons"], status=o["status"], original_score=o["original_score"],
        adjusted_score=o["adjusted_score"], resolution=o["resolution_reason"] or "")
        for o in raw]
    return result, survey, objections, a["id"]


def _kind_order(kind: str) -> int:
    return EVALUATOR_KINDS.index(kind) if kind in EVALUATOR_KINDS else len(EVALUATOR_KINDS)


def _leaves(nodes: list[dict]) -> list[dict]:
    out = []
    for n in nodes:
        out.extend(_leaves(n["children"]) if n.get("children") else [n])
    return out


async def gather_contract_report(tenant_id: int, contract_id: int, start: date, end: date, *,
                                 assessment_id: int | None = None) -> AnnualReportData | None:
    """The report of one contract for [start, end]; None when the contract does not exist in
    the tenant."""
    c = await rr.contract_context(tenant_id, contract_id)
    if c is None:
        return None
    orgs = await rr.parties(tenant_id, c["estate"], c["community"], c["street"])
    result, survey, objections, _ = await _assessment(tenant_id, contract_id, start, end,
                                                      assessment_id)
    if survey is not None:
        survey.households = c["households"]
        survey.response_rate = _pct(survey.responses, c["households"])
    return AnnualReportData(
        tenant_id=tenant_id, period=period_label(start, end), period_start=start,
        period_end=end,
        contract=ContractInfo(id=c["id"], number=c["number"], kind=c["kind"],
                              starts_on=c["starts_on"], ends_on=c["ends_on"], status=c["status"],
                              service_level=c["service_level"]),
        estate=EstateInfo(id=c["estate"], name=c["estate_name"], address=c["address"],
                          community=c["community_name"], street=c["street_name"],
                          households=c["households"]),
        company=Party(organization_id=c["property_company"], name=c["company_name"],
                      kind="property_company"),
        owners_committee=_party(orgs.get("owners_committee")),
        residents_committee=_party(orgs.get("residents_committee")),
        street_office=_party(orgs.get("street_office")), bureau=_party(orgs.get("housing_bureau")),
        cases=await case_stats(tenant_id, [c["estate"]], start, end),
        notable_cases=await _notable(tenant_id, [c["estate"]], start, end),
        assessment=result, survey=survey, objections=objections,
        generated_at=datetime.now(timezone.utc))


async def gather_company_report(tenant_id: int, company_id: int, start: date,
                                end: date) -> CompanyReportData | None:
    company = await rr.organization(tenant_id, company_id)
    if company is None or company["kind"] != "property_company":
        return None
    contracts = await rr.company_contracts(tenant_id, company_id, start, end)
    estates = sorted({c["estate"] for c in contracts})
    per_estate = await rr.case_totals_by_estate(tenant_id, estates, start, end)
    rows = []
    for c in contracts:
        a = await rr.assessment(tenant_id, c["id"], start, end)
        shown = a is not None and a["status"] in rr.PUBLISHED
        t = per_estate.get(c["estate"], {})
        rows.append(EstateRow(
            estate=c["estate_name"], contract_number=c["number"], households=c["households"],
            total_score=a["total_score"] if shown else None, grade=a["grade"] if shown else None,
            cases=t.get("n", 0),
            resolve_on_time_rate=_pct(t.get("resolved_on_time", 0), t.get("resolved", 0)),
            average_rating=round(t["avg_rating"], 2) if t.get("avg_rating") is not None else None))
    bureau = await rr.parties(tenant_id, 0, 0, 0)
    rollup = await rr.company_result(tenant_id, company_id, start, end)
    return CompanyReportData(
        tenant_id=tenant_id, period=period_label(start, end), period_start=start, period_end=end,
        company=_party(company), bureau=_party(bureau.get("housing_bureau")), estates=rows,
        cases=await case_stats(tenant_id, estates, start, end),
        score=rollup["score"] if rollup else None, grade=rollup["grade"] if rollup else None,
        rank=rollup["rank"] if rollup else None, generated_at=datetime.now(timezone.utc))
