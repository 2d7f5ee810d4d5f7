"""Computing an evaluation campaign: 2,000 estates with 1,000,000 cases in the period.

    .venv/bin/python bench/bench_evaluations.py [--cases 1000000] [--estates 2000] [--runs 2]
    .venv/bin/python bench/bench_evaluations.py --small      # 20,000 cases, 200 estates

A scratch database (DATABASE_URL when set, else the embedded server under var/bench) gets the
demo district and bench/gen_cases.py's estates and cases (spread over the last two years), then,
in SQL: 2 % of the cases returned (退单) and 1 % transferred away by their company, with the
matching case events; 20 households per estate with survey answers from 12 of them; one active
contract per estate; a closed campaign whose period covers the two years (so every generated
case is in the period — a real campaign is a quarter to a year) with one assessment per
contract and submitted scores from the owners' committee, residents' committee and street
office. Then it runs the same function the API and the `compute_campaign_results` job run
(`evaluations.results_service.compute_campaign`) `--runs` times, each in its own transaction
(rolled back, so every run computes from the same state), and prints the total time and the
time spent awaiting SQL (every `fetch` of the modules involved is timed), per run and for the
metrics statement alone. Nothing asserts timings. The database is dropped unless --keep.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_requests import drop, prepare  # noqa: E402
from gen_cases import generate, seed_demo  # noqa: E402

SETUP_SQL = [
    # returns by the company's staff (2 %) and transfers away (1 %), with their events
    """UPDATE case_record SET returns = 1 WHERE tenant = $1 AND id % 50 = 0""",
    """INSERT INTO case_event (tenant, "case", seq, at, actor_org, action, from_status, to_status,
         reason, data) SELECT tenant, id, 2, created_at + interval '1 hour', responsible_org,
         'return', 'assigned', 'returned', '非本单位职责', '{}'::jsonb
       FROM case_record WHERE tenant = $1 AND id % 50 = 0""",
    """UPDATE case_record SET transfers = 1 WHERE tenant = $1 AND id % 100 = 7""",
    """INSERT INTO case_event (tenant, "case", seq, at, actor_org, action, from_status, to_status,
         reason, data) SELECT tenant, id, 2, created_at + interval '2 hours', responsible_org,
         'transfer', 'accepted', 'accepted', '转社区处理',
         jsonb_build_object('from_organization_id', responsible_org)
       FROM case_record WHERE tenant = $1 AND id % 100 = 7""",
    # 20 households per estate
    """INSERT INTO unit (tenant, estate, building, number, floor, exclusive_area, developer_unsold)
       SELECT b.tenant, b.estate, b.id, 'B' || g, 1 + g / 4, 88.5, false
       FROM building b JOIN estate e ON e.id = b.estate AND e.name LIKE '基准小区%',
            generate_series(1, 20) g WHERE b.tenant = $1""",
    # one active contract per estate with its property company
    """INSERT INTO service_contract (tenant, estate, property_company, counterparty_name, kind,
         number, status, starts_on, ends_on, fee_per_m2_month, service_level, scope_items,
         version, created_at)
       SELECT e.tenant, e.id, min(oc.organization), '开发商', 'preliminary', 'BENCH-' || e.id,
         'active', current_date - 800, current_date + 700, 2.50, 'level_2', '{}'::text[], 1, now()
       FROM estate e JOIN organization_coverage oc ON oc.estate = e.id
       JOIN organization o ON o.id = oc.organization AND o.kind = 'property_company'
       WHERE e.tenant = $1 AND NOT EXISTS (SELECT 1 FROM service_contract s WHERE s.estate = e.id
         AND s.status IN ('active', 'expiring'))
       GROUP BY e.tenant, e.id""",
]


async def setup(url: str, cases: int, estates: int) -> dict:
    import asyncpg

    facts = await generate(url, cases, estates=estates, quiet=True)
    conn = await asyncpg.connect(url)
    try:
        t0 = time.perf_counter()
        tenant = facts["tenant"]
        async with conn.transaction():
            for sql in SETUP_SQL:
                await conn.execute(sql, tenant)
        facts["setup_extra_s"] = time.perf_counter() - t0
    finally:
        await conn.close()
    return facts


async def campaign(tenant: int) -> int:
    """A closed campaign over the two generated years, assessments, submissions, survey answers
    (through the evaluations tables, in one transaction)."""
    from core.db import db, fetch
    from evaluations import scheme_service

    async with db().transaction():
        version = await scheme_service.ensure_default_scheme(tenant)
        today = date.today()
        start, end = today - timedelta(days=731), today
        deadline = datetime.now(timezone.utc) - timedelta(hours=1)
        campaign_id = (await fetch(
            "INSERT INTO evaluation_campaign (tenant, name, period_kind, period_start, period_end,"
            " scheme_version, submission_deadline, status, opened_at, closed_at, version,"
            " created_at) VALUES ($1, '基准评价（两年）', 'year', $2, $3, $4, $5, 'closed', $5, $5,"
            " 1, now()) RETURNING id", tenant, start, end, version["id"], deadline))[0]["id"]
        await fetch(
            "INSERT INTO evaluation_assessment (tenant, campaign, contract, estate, property_company,"
            " status, version, created_at) SELECT tenant, $2, id, estate, property_company, 'open',"
            " 1, now() FROM service_contract WHERE tenant = $1 AND status IN ('active', 'expiring')",
            tenant, campaign_id)
        for kind, org_kind in (("owners_committee", "owners_committee"),
                               ("residents_committee", "residents_committee"),
                               ("street_office", "street_office")):
            # the bench estates have no committees of their own: the first organisation of the
            # kind stands in (the scoring reads scores, not who gave them)
            await fetch(
                "INSERT INTO evaluation_submission (tenant, assessment, organization, evaluator_kind,"
                " status, score, version, submitted_at, created_at, updated_at)"
                " SELECT a.tenant, a.id, (SELECT min(id) FROM organization WHERE tenant = $1 AND"
                " kind = $3), $2, 'submitted', 60 + (a.id * 7 % 40), 1, now(), now(), now()"
                " FROM evaluation_assessment a WHERE a.campaign = $4",
                tenant, kind, org_kind, campaign_id)
        await fetch(
            "INSERT INTO evaluation_survey_response (tenant, assessment, unit, overall, answers,"
            " comment, submitted_at) SELECT a.tenant, a.id, u.id, 1 + (u.id % 5), '{}'::jsonb, '',"
            " now() FROM evaluation_assessment a JOIN unit u ON u.estate = a.estate"
            " AND NOT u.developer_unsold AND u.id % 20 < 12 WHERE a.campaign = $1", campaign_id)
    return campaign_id


class SqlTimer:
    """Times every awaited `fetch` of the modules the computation goes through."""

    MODULES = ("evaluations.metrics_repository", "evaluations.results_repository",
               "evaluations.repository", "tenancy.repository", "core.audit")

    def __init__(self) -> None:
        import importlib

        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.originals = {}
        for name in self.MODULES:
            module = importlib.import_module(name)
            self.originals[name] = module.fetch
            module.fetch = self._wrap(name, module.fetch)

    def _wrap(self, name: str, fn):
        async def timed(sql, *args):
            t = time.perf_counter()
            try:
                return await fn(sql, *args)
            finally:
                self.seconds[name] += time.perf_counter() - t
                self.calls[name] += 1
        return timed

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


async def run(args: argparse.Namespace) -> None:
    admin, url = await prepare()
    try:
        print(f"generating {args.cases:,} cases over {args.estates:,} estates …", flush=True)
        t0 = time.perf_counter()
        seed_demo(url)
        facts = await setup(url, args.cases, args.estates)
        print(f"data ready in {time.perf_counter() - t0:.0f} s (cases {facts['cases']:,}, "
              f"estates {facts['estates']:,})", flush=True)
        os.environ["DATABASE_URL"] = url
        from core.settings import reset_settings

        reset_settings()
        from core.db import close_pool, db, fetch, start_pool

        await start_pool()
        try:
            tenant = facts["tenant"]
            campaign_id = await campaign(tenant)
            await fetch("ANALYZE")
            from evaluations import results_repository as repo
            from evaluations.results_repository import ResultScope
            from evaluations.results_service import compute_campaign

            n = len(await repo.system_assessments(tenant, campaign_id))
            in_period = (await fetch(
                "SELECT count(*) AS n FROM case_record c JOIN evaluation_campaign k ON k.id = $2"
                " WHERE c.tenant = $1 AND c.created_at >= k.period_start", tenant, campaign_id))[0]["n"]
            print(f"campaign {campaign_id}: {n:,} assessments, {in_period:,} cases in the period")
            timer = SqlTimer()
            for i in range(args.runs):
                timer.reset()
                tx = db().transaction()
                await tx.__aenter__()
                try:
                    row = await repo.campaign(ResultScope(tenant, True), campaign_id, lock=True)
                    timer.reset()
                    t = time.perf_counter()
                    out = await compute_campaign(tenant, row, None)
                    total = time.perf_counter() - t
                finally:
                    await tx.__aexit__(RuntimeError, RuntimeError("rollback"), None)
                sql = timer.total
                metrics = timer.seconds["evaluations.metrics_repository"]
                print(f"run {i + 1}: {total:.2f} s total, SQL {sql:.2f} s ({100 * sql / total:.0f} %)"
                      f" in {sum(timer.calls.values())} statements; metrics statements "
                      f"{metrics:.2f} s ({timer.calls['evaluations.metrics_repository']}); "
                      f"scored {out.scored}, held {out.held}, companies {out.companies}",
                      flush=True)
            if args.explain:
                await explain(tenant, campaign_id)
        finally:
            await close_pool()
    finally:
        if not args.keep:
            await drop(admin, url)
        else:
            print(f"kept: {url}")


async def explain(tenant: int, campaign_id: int) -> None:
    from core.db import fetch
    from evaluations import metrics_repository as m
    from evaluations.results_service import period

    rows = await fetch("SELECT * FROM evaluation_campaign WHERE id = $1", campaign_id)
    start, end = period(rows[0])
    pairs = await fetch("SELECT estate, property_company FROM evaluation_assessment WHERE"
                        " campaign = $1 ORDER BY id LIMIT $2", campaign_id, m.BATCH)
    plan = await fetch("EXPLAIN (ANALYZE, BUFFERS) " + m._SQL, tenant,
                       [p["estate"] for p in pairs], [p["property_company"] for p in pairs],
                       start, end, datetime.now(timezone.utc), list(m.ACCOUNTABLE_EXCLUDED),
                       m.SATISFIED_FROM)
    print("\n".join(r["QUERY PLAN"] for r in plan))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--estates", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--small", action="store_true", help="20,000 cases over 200 estates")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE one metrics batch")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.small:
        args.cases, args.estates = 20_000, 200
    asyncio.run(run(args))
