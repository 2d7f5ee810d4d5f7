"""Bulk case generator: 2,000 estates and N cases (default 1,000,000) in a demo-seeded database.

    .venv/bin/python bench/gen_cases.py [--cases 1000000] [--estates 2000] [--keep]

Standalone it makes a scratch database (DATABASE_URL when set, else the embedded server under
var/bench), seeds the demo district into it (`gongzhi.cli demo --no-serve`, which migrates),
generates and prints rows/s; the database is dropped unless --keep. bench/bench_cases.py calls
`generate()` on its own scratch databases.

What it writes, all in SQL (`INSERT … SELECT generate_series`, no round trip per row):
- estates up to `estates` in all, in the demo's first community, each with one building;
- property companies: the demo manager's ("pm") company ends up serving `pm_estates` estates
  (the persona measured), the other estates go to `estates // 20` new companies (~20 each);
- N cases spread uniformly over the estates and evenly over the last 2 years (ids rise with
  created_at, as in real intake), responsible = the estate's property company; older cases are
  mostly closed (a few stay open and overdue), recent ones follow a realistic open mix;
  categories, priorities and channels are weighted like a district's 12345/property queue;
- optionally (--events) the "create" case_event of every case (the list does not read events);
then VACUUM ANALYZE.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CATEGORIES = (["repair"] * 6 + ["sanitation"] * 3 + ["order"] * 2 + ["parking"] * 2
              + ["greening", "complaint", "complaint", "neighbour_dispute", "fees", "safety_hazard",
                 "suggestion", "inquiry", "other"])
DESCRIPTIONS = ["楼道灯不亮", "电梯故障停运", "地下车库渗水", "垃圾未及时清运", "绿化带杂草丛生",
                "楼上漏水到我家卫生间", "小区门禁坏了", "消防通道被车辆占用", "夜间施工噪音扰民",
                "物业费账单有疑问", "单元门锁损坏", "外墙瓷砖脱落有安全隐患", "水压太低",
                "快递柜占用消防通道", "宠物粪便无人清理", "路灯不亮"]

CASES_SQL = """
INSERT INTO case_record (tenant, estate, building, location, category, priority, description,
  channel, reporter_name, created_by, responsible_org, assignee_user, status, sla_targets,
  sla_source, routed_at, ack_due_at, resolve_due_at, acknowledged_at, resolved_at, closed_at,
  resolution, rating, version, created_at, updated_at)
SELECT $1::int, e.estate, e.building, '', s.category, s.priority, s.description || '（' || s.g || '）',
  s.channel, '居民' || (s.g % 997), $2::int, e.org,
  CASE WHEN s.status IN ('assigned', 'acknowledged', 'in_progress', 'resolved', 'closed')
       AND e.org = $3::int THEN $4::int END,
  s.status, '{}'::jsonb, 'tenant', s.t,
  s.t + CASE s.priority WHEN 'emergency' THEN interval '30 minutes'
                        WHEN 'urgent' THEN interval '1 hour' ELSE interval '4 hours' END,
  s.t + CASE s.priority WHEN 'emergency' THEN interval '12 hours'
                        WHEN 'urgent' THEN interval '24 hours' ELSE interval '2 days' END,
  CASE WHEN s.status IN ('acknowledged', 'in_progress', 'resolved', 'closed')
       THEN s.t + interval '40 minutes' END,
  CASE WHEN s.status IN ('resolved', 'closed') THEN s.t + interval '20 hours' END,
  CASE WHEN s.status = 'closed' THEN s.t + interval '3 days' END,
  CASE WHEN s.status IN ('resolved', 'closed') THEN '已处理' ELSE '' END,
  CASE WHEN s.status = 'closed' AND s.r2 < 0.7 THEN 3 + (s.r2 * 10)::int % 3 END,
  1, s.t, s.t
FROM (
  SELECT g, t, r2, ($7::text[])[1 + (r3 * array_length($7::text[], 1))::int
                                    % array_length($7::text[], 1)] AS category,
    CASE WHEN r4 < 0.03 THEN 'emergency' WHEN r4 < 0.15 THEN 'urgent' ELSE 'normal' END AS priority,
    ($8::text[])[1 + (r5 * array_length($8::text[], 1))::int % array_length($8::text[], 1)]
      AS description,
    CASE WHEN r5 < 0.35 THEN 'app' WHEN r5 < 0.65 THEN 'phone' WHEN r5 < 0.75 THEN 'walk_in'
         WHEN r5 < 0.85 THEN 'grid' ELSE 'hotline_12345' END AS channel,
    CASE WHEN t < now() - interval '30 days' THEN
      CASE WHEN r1 < 0.86 THEN 'closed' WHEN r1 < 0.88 THEN 'resolved'
           WHEN r1 < 0.91 THEN 'rejected' WHEN r1 < 0.94 THEN 'duplicate'
           WHEN r1 < 0.975 THEN 'withdrawn' WHEN r1 < 0.985 THEN 'returned'
           ELSE 'in_progress' END
    ELSE
      CASE WHEN r1 < 0.12 THEN 'submitted' WHEN r1 < 0.20 THEN 'accepted'
           WHEN r1 < 0.30 THEN 'assigned' WHEN r1 < 0.40 THEN 'acknowledged'
           WHEN r1 < 0.55 THEN 'in_progress' WHEN r1 < 0.72 THEN 'resolved'
           WHEN r1 < 0.93 THEN 'closed' ELSE 'withdrawn' END
    END AS status,
    ei
  FROM (
    SELECT g, now() - interval '730 days' * (($5::bigint - g)::float8 / $5::bigint)
                    - interval '1 second' * random() AS t,
      random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
      (random() * ($6::int - 1))::int AS ei
    FROM generate_series(1, $5::bigint) AS g
  ) AS raw
) AS s
JOIN bench_estate e ON e.i = s.ei
ORDER BY s.g
"""


async def generate(url: str, cases: int, *, estates: int = 2000, pm_estates: int = 20,
                   events: bool = False, quiet: bool = False) -> dict:
    """Add estates, companies and `cases` cases to the demo tenant in `url`; returns facts the
    benchmark needs (tenant, the pm's user and organisation ids, timings)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        t0 = time.perf_counter()
        tenant = await conn.fetchval("SELECT tenant FROM app_user WHERE username = 'pm'")
        pm_user = await conn.fetchval("SELECT id FROM app_user WHERE username = 'pm'")
        handler = await conn.fetchval("SELECT id FROM app_user WHERE username = 'handler'")
        creator = await conn.fetchval("SELECT id FROM app_user WHERE username = 'grid'")
        pm_org = await conn.fetchval(
            "SELECT o.id FROM membership m JOIN organization o ON o.id = m.organization"
            " WHERE m.user = $1 AND o.kind = 'property_company'", pm_user)
        community = await conn.fetchval("SELECT min(id) FROM community WHERE tenant = $1", tenant)
        have = await conn.fetchval("SELECT count(*) FROM estate WHERE tenant = $1", tenant)
        async with conn.transaction():
            new = max(0, estates - have)
            first_new = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM estate")
            await conn.execute(
                "INSERT INTO estate (tenant, community, name, address, developer)"
                " SELECT $1, $2, '基准小区' || g, '基准路' || g || '号', '' FROM generate_series(1, $3) g",
                tenant, community, new)
            await conn.execute(
                "INSERT INTO building (tenant, estate, name, floors)"
                " SELECT tenant, id, '1号楼', 18 FROM estate WHERE tenant = $1 AND id >= $2",
                tenant, first_new)
            n_companies = max(1, estates // 20)
            first_org = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM organization")
            await conn.execute(
                "INSERT INTO organization (tenant, kind, name)"
                " SELECT $1, 'property_company', '基准物业服务有限公司' || g FROM generate_series(1, $2) g",
                tenant, n_companies)
            orgs = [r["id"] for r in await conn.fetch(
                "SELECT id FROM organization WHERE id >= $1 ORDER BY id", first_org)]
            pm_have = await conn.fetchval(
                "SELECT count(*) FROM organization_coverage WHERE organization = $1"
                " AND estate IS NOT NULL", pm_org)
            new_ids = [r["id"] for r in await conn.fetch(
                "SELECT id FROM estate WHERE tenant = $1 AND id >= $2 ORDER BY id", tenant, first_new)]
            take = max(0, pm_estates - pm_have)
            # Spread the pm's extra estates over the id range (not the first ones only).
            step = max(1, len(new_ids) // max(1, take))
            pm_new = set(new_ids[::step][:take])
            rest = [e for e in new_ids if e not in pm_new]
            cover = [(tenant, pm_org, e) for e in sorted(pm_new)]
            cover += [(tenant, orgs[i % len(orgs)], e) for i, e in enumerate(rest)]
            await conn.copy_records_to_table("organization_coverage", records=cover,
                                             columns=["tenant", "organization", "estate"])
            await conn.execute("""
                CREATE TEMP TABLE bench_estate ON COMMIT DROP AS
                SELECT (row_number() OVER (ORDER BY e.id) - 1)::int AS i, e.id AS estate,
                  (SELECT min(b.id) FROM building b WHERE b.estate = e.id) AS building,
                  (SELECT min(oc.organization) FROM organization_coverage oc
                     JOIN organization o ON o.id = oc.organization AND o.kind = 'property_company'
                    WHERE oc.estate = e.id) AS org
                FROM estate e WHERE e.tenant = $1""", tenant)
            await conn.execute("CREATE UNIQUE INDEX ON bench_estate (i)")
            n_estates = await conn.fetchval("SELECT count(*) FROM bench_estate")
            t_setup = time.perf_counter() - t0
            t1 = time.perf_counter()
            await conn.execute("SELECT setseed(0.42)")
            status = await conn.execute(CASES_SQL, tenant, creator, pm_org, handler, cases,
                                        n_estates, CATEGORIES, DESCRIPTIONS)
            t_cases = time.perf_counter() - t1
            written = int(status.split()[-1])
            t_events = 0.0
            if events:
                t2 = time.perf_counter()
                await conn.execute(
                    "INSERT INTO case_event (tenant, \"case\", seq, at, actor_user, action,"
                    " from_status, to_status, reason, data, visibility)"
                    " SELECT tenant, id, 1, created_at, created_by, 'create', NULL, 'submitted', '',"
                    " '{}'::jsonb, 'public' FROM case_record WHERE tenant = $1 ORDER BY id", tenant)
                t_events = time.perf_counter() - t2
        t3 = time.perf_counter()
        await conn.execute("VACUUM ANALYZE case_record")
        await conn.execute("ANALYZE")
        t_analyze = time.perf_counter() - t3
        visible = await conn.fetchval(
            "SELECT count(*) FROM case_record WHERE responsible_org = $1", pm_org)
    finally:
        await conn.close()
    facts = {"tenant": tenant, "pm_user": pm_user, "pm_org": pm_org, "estates": n_estates,
             "cases": written, "pm_cases": visible, "pm_estates": pm_estates,
             "setup_s": t_setup, "cases_s": t_cases, "events_s": t_events, "analyze_s": t_analyze}
    if not quiet:
        print(f"estates {n_estates}, property companies {n_companies + 3}, pm's company serves "
              f"{pm_estates} estates and is responsible for {visible} cases")
        print(f"cases: {written} rows in {t_cases:.1f} s = {written / t_cases:,.0f} rows/s "
              f"(with every index in place)")
        if events:
            print(f"case_event: {written} rows in {t_events:.1f} s = {written / t_events:,.0f} rows/s")
        print(f"setup {t_setup:.1f} s, VACUUM ANALYZE {t_analyze:.1f} s")
    return facts


def seed_demo(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-m", "gongzhi.cli", "demo", "--no-serve"], env=env, cwd=ROOT,
                   check=True, capture_output=True)


async def main(args: argparse.Namespace) -> None:
    from bench_requests import drop, prepare

    admin, url = await prepare()
    try:
        seed_demo(url)
        await generate(url, args.cases, estates=args.estates, pm_estates=args.pm_estates,
                       events=args.events)
        if args.keep:
            print(f"kept: {url}")
    finally:
        if not args.keep:
            await drop(admin, url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--estates", type=int, default=2000)
    parser.add_argument("--pm-estates", type=int, default=20)
    parser.add_argument("--events", action="store_true", help="also one case_event per case")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    asyncio.run(main(parser.parse_args()))
