"""The property manager's case list at a small and a large case count, against a ceiling, and
case creation throughput.

    .venv/bin/python bench/bench_cases.py [--small 10000] [--large 1000000] [--requests 300]
                                          [--concurrency 8] [--creates 500]

For each size: a scratch database (DATABASE_URL when set, else the embedded server under
var/bench), the demo district, bench/gen_cases.py's 2,000 estates and N cases; then the app in a
uvicorn subprocess and, beside it, bench/ceiling_app.py (the endpoint's own SQL through raw
asyncpg, msgspec out, no auth) in another. Logged in as the demo property manager ("pm", whose
company serves 20 of the 2,000 estates) it measures GET /api/v1/cases: the first page, a deep
keyset page (cursor at 80 % of the manager's cases), status=in_progress and overdue=true.
Prints p50/p95 per size, the large/small ratio (goal <= 1.5), endpoint/ceiling throughput
(goal >= 0.6), EXPLAIN ANALYZE of the list query at the large size, and POST /api/v1/cases
throughput (staff phone intake) on the large database. Nothing asserts timings.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_requests import drop, free_port, prepare  # noqa: E402
from gen_cases import generate, seed_demo  # noqa: E402

PASSWORD = "Gongzhi-2026"


def cursor_for(last_id: int) -> str:
    raw = json.dumps(["-created_at", None, last_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def wait_up(client: httpx.AsyncClient, path: str) -> None:
    for _ in range(150):
        try:
            if (await client.get(path)).status_code < 500:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"server did not come up ({path})")


async def measure(client: httpx.AsyncClient, method: str, path: str, headers: dict, n: int,
                  conc: int, body=None, ok: int = 200) -> dict:
    latencies: list[float] = []
    errors = 0
    sem = asyncio.Semaphore(conc)

    async def one(i: int) -> None:
        nonlocal errors
        async with sem:
            t = time.perf_counter()
            r = await client.request(method, path, headers=headers,
                                     json=body(i) if callable(body) else body)
            latencies.append(time.perf_counter() - t)
            if r.status_code != ok:
                errors += 1
                if errors == 1:
                    print(f"  first error on {method} {path}: {r.status_code} {r.text[:300]}")

    if method == "GET":
        for _ in range(min(30, n)):  # warm-up
            await client.get(path, headers=headers)
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {"rps": n / elapsed, "p50": q[49] * 1000, "p95": q[94] * 1000, "errors": errors}


def list_sql(facts: dict, *, overdue: bool = False, status: str | None = None,
             after: int | None = None) -> tuple[str, list]:
    from cases import search
    from cases.case_repository import Scope

    scope = Scope(facts["tenant"], facts["pm_user"], (facts["pm_org"],), (), False)
    f = search.Filters(status=status, overdue_at=datetime.now(timezone.utc) if overdue else None)
    return search.page_sql(scope, f, sort="-created_at",
                           after=(None, after) if after is not None else None, limit=50)


async def explain(url: str, facts: dict, deep_id: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for label, kw in (("first page", {}), ("deep page", {"after": deep_id}),
                          ("overdue=true", {"overdue": True})):
            sql, args = list_sql(facts, **kw)
            plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
            print(f"\nEXPLAIN ANALYZE, {label}:")
            for row in plan:
                print("  " + row[0])
    finally:
        await conn.close()


async def run_size(n_cases: int, args: argparse.Namespace, *, creates: int,
                   plans: bool) -> dict:
    admin, url = await prepare()
    servers: list[subprocess.Popen] = []
    try:
        seed_demo(url)
        print(f"\n== {n_cases:,} cases ==")
        facts = await generate(url, n_cases)
        import asyncpg

        conn = await asyncpg.connect(url)
        ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM case_record WHERE responsible_org = $1 ORDER BY id DESC", facts["pm_org"])]
        await conn.close()
        deep_id = ids[int(len(ids) * 0.8)] if ids else 1
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
               "RATE_LIMIT_PER_MINUTE": "10000000",
               "REDIS_NAMESPACE": f"bench-{secrets.token_hex(3)}",
               "BENCH_TENANT": str(facts["tenant"]), "BENCH_USER": str(facts["pm_user"]),
               "BENCH_ORGS": str(facts["pm_org"])}
        app_port, ceil_port = free_port(), free_port()
        servers.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gongzhi.asgi:app", "--port", str(app_port),
             "--log-level", "warning"], env=env, cwd=ROOT))
        servers.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", "--port", str(ceil_port),
             "--log-level", "warning"], env=env, cwd=ROOT))
        scenarios = {"first page": "", "deep page (80 %)": f"&cursor={cursor_for(deep_id)}",
                     "status=in_progress": "&status=in_progress", "overdue=true": "&overdue=true"}
        results: dict[str, dict] = {}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app_port}", timeout=60) as app, \
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{ceil_port}", timeout=60) as ceil:
            await wait_up(app, "/health")
            await wait_up(ceil, "/?limit=1")
            r = await app.post("/api/v1/auth/login", json={"username": "pm", "password": PASSWORD})
            auth = {"Authorization": f"Bearer {r.json()['token']}"}
            for extra in scenarios.values():  # warm both servers on every query first
                for _ in range(20):
                    await app.get(f"/api/v1/cases?limit=50{extra}", headers=auth)
                    await ceil.get(f"/?limit=50{extra}")
            for name, extra in scenarios.items():
                results[name] = await measure(app, "GET", f"/api/v1/cases?limit=50{extra}", auth,
                                              args.requests, args.concurrency)
                results[name]["ceiling"] = await measure(ceil, "GET", f"/?limit=50{extra}", {},
                                                         args.requests, args.concurrency)
            if creates:
                estate = 1  # a demo estate served by the pm's company under an active contract

                def body(i: int) -> dict:
                    return {"estate_id": estate, "category": "repair", "priority": "normal",
                            "description": f"基准测试：楼道灯不亮 {i}", "channel": "phone",
                            "reporter_name": "王小明", "reporter_phone": "13700001234"}

                results["create"] = await measure(app, "POST", "/api/v1/cases", auth, creates,
                                                  args.concurrency, body=body, ok=201)
        if plans:
            await explain(url, facts, deep_id)
        results["facts"] = facts
        return results
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            try:
                s.wait(timeout=30)
            except subprocess.TimeoutExpired:
                s.kill()
        await drop(admin, url)


async def main(args: argparse.Namespace) -> None:
    small = await run_size(args.small, args, creates=0, plans=False)
    large = await run_size(args.large, args, creates=args.creates, plans=True)
    sf, lf = small["facts"], large["facts"]
    print(f"\nGET /api/v1/cases as 'pm' (company serving 20 of 2,000 estates), limit 50, "
          f"{args.requests} requests at concurrency {args.concurrency}, one uvicorn process each")
    print(f"small: {sf['cases']:,} cases ({sf['pm_cases']:,} the pm's); "
          f"large: {lf['cases']:,} cases ({lf['pm_cases']:,} the pm's)")
    print(f"{'list':22} {'small p50':>9} {'p95':>7} {'large p50':>9} {'p95':>7} {'ratio p50':>9} "
          f"{'p95':>6} {'req/s':>7} {'ceiling':>8} {'vs ceil':>7} {'errors':>6}")
    for name in small:
        if name in ("facts", "create"):
            continue
        s, lg = small[name], large[name]
        print(f"{name:22} {s['p50']:9.1f} {s['p95']:7.1f} {lg['p50']:9.1f} {lg['p95']:7.1f} "
              f"{lg['p50'] / s['p50']:9.2f} {lg['p95'] / s['p95']:6.2f} {lg['rps']:7.0f} "
              f"{lg['ceiling']['rps']:8.0f} {lg['rps'] / lg['ceiling']['rps']:7.2f} "
              f"{s['errors'] + lg['errors']:6d}")
    print("(ms; ratio = large/small, goal <= 1.5; vs ceil = endpoint req/s / ceiling req/s at the "
          "large size, goal >= 0.6)")
    print(f"small-size endpoint/ceiling: " + ", ".join(
        f"{n} {small[n]['rps'] / small[n]['ceiling']['rps']:.2f}" for n in small
        if n not in ("facts", "create")))
    if "create" in large:
        c = large["create"]
        print(f"POST /api/v1/cases (staff phone intake, {args.creates} at concurrency "
              f"{args.concurrency}, on the large database): {c['rps']:.0f} creates/s, "
              f"p50 {c['p50']:.1f} ms, p95 {c['p95']:.1f} ms, errors {c['errors']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--creates", type=int, default=500)
    asyncio.run(main(parser.parse_args()))
