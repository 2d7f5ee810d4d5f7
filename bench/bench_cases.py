"""The property manager's case list at a small and a large case count, against a ceiling, and
case creation throughput.

    .venv/bin/python bench/bench_cases.py [--small 10000] [--large 1000000] [--requests 300]
                                          [--rounds 6] [--concurrency 8] [--creates 500]

For each size: a scratch database (DATABASE_URL when set, else the embedded server under
var/bench), the demo district, bench/gen_cases.py's 2,000 estates and N cases; then the app in a
uvicorn subprocess and, beside it, bench/ceiling_app.py (the endpoint's own SQL, built by
cases.search.page_sql, through raw asyncpg, msgspec out, no auth) in another. Both sizes are up
at once. Logged in as the demo property manager ("pm", whose company serves 20 of the 2,000
estates) it measures GET /api/v1/cases: the first page, a deep keyset page (cursor at 80 % of
the manager's cases), status=in_progress and overdue=true, in interleaved rounds (app and
ceiling, small and large, shuffled in every round) so that a machine shared with other work
loads every compared figure alike. Where the small database cannot fill a page for a filter (its
pm has ~100 cases, few of them in progress or overdue), the large one is also measured with the
small one's page size, so that one ratio compares the same work at both sizes. Prints p50/p95 per size, the large/small ratio (goal
<= 1.5), endpoint/ceiling throughput (goal >= 0.6), the load average, EXPLAIN ANALYZE of the
list query at the large size, and POST /api/v1/cases throughput (staff phone intake) on the
large database. Nothing asserts timings.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
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
                  conc: int, body=None, ok: int = 200, warm: bool = True) -> dict:
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

    if method == "GET" and warm:
        for _ in range(min(30, n)):
            await client.get(path, headers=headers)
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {"rps": n / elapsed, "p50": q[49] * 1000, "p95": q[94] * 1000, "errors": errors,
            "latencies": latencies, "elapsed": elapsed}


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


class Size:
    """One database size: its scratch database, the app and the ceiling serving it."""

    def __init__(self, n_cases: int) -> None:
        self.n_cases = n_cases
        self.admin = self.url = ""
        self.facts: dict = {}
        self.deep_id = 1
        self.servers: list[subprocess.Popen] = []
        self.app: httpx.AsyncClient | None = None
        self.ceiling: httpx.AsyncClient | None = None
        self.auth: dict = {}

    async def start(self) -> None:
        import asyncpg

        self.admin, self.url = await prepare()
        seed_demo(self.url)
        print(f"\n== {self.n_cases:,} cases ==")
        self.facts = facts = await generate(self.url, self.n_cases)
        conn = await asyncpg.connect(self.url)
        ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM case_record WHERE responsible_org = $1 ORDER BY id DESC", facts["pm_org"])]
        await conn.close()
        self.deep_id = ids[int(len(ids) * 0.8)] if ids else 1
        env = {**os.environ, "DATABASE_URL": self.url, "LOG_LEVEL": "WARNING",
               "RATE_LIMIT_PER_MINUTE": "10000000",
               "REDIS_NAMESPACE": f"bench-{secrets.token_hex(3)}",
               "BENCH_TENANT": str(facts["tenant"]), "BENCH_USER": str(facts["pm_user"]),
               "BENCH_ORGS": str(facts["pm_org"])}
        app_port, ceil_port = free_port(), free_port()
        self.servers.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gongzhi.asgi:app", "--port", str(app_port),
             "--log-level", "warning"], env=env, cwd=ROOT))
        self.servers.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", "--port", str(ceil_port),
             "--log-level", "warning"], env=env, cwd=ROOT))
        self.app = httpx.AsyncClient(base_url=f"http://127.0.0.1:{app_port}", timeout=60)
        self.ceiling = httpx.AsyncClient(base_url=f"http://127.0.0.1:{ceil_port}", timeout=60)
        await wait_up(self.app, "/health")
        await wait_up(self.ceiling, "/?limit=1")
        r = await self.app.post("/api/v1/auth/login", json={"username": "pm", "password": PASSWORD})
        self.auth = {"Authorization": f"Bearer {r.json()['token']}"}

    def scenarios(self) -> dict[str, str]:
        return {"first page": "", "deep page (80 %)": f"&cursor={cursor_for(self.deep_id)}",
                "status=in_progress": "&status=in_progress", "overdue=true": "&overdue=true"}

    async def stop(self) -> None:
        for client in (self.app, self.ceiling):
            if client is not None:
                await client.aclose()
        for s in self.servers:
            s.terminate()
        for s in self.servers:
            try:
                s.wait(timeout=30)
            except subprocess.TimeoutExpired:
                s.kill()
        if self.url:
            await drop(self.admin, self.url)


def merged(parts: list[dict]) -> dict:
    """Rounds of one target put together: all latencies, total requests over total time."""
    latencies = [x for p in parts for x in p["latencies"]]
    q = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / sum(p["elapsed"] for p in parts), "p50": q[49] * 1000,
            "p95": q[94] * 1000, "errors": sum(p["errors"] for p in parts)}


async def interleaved(sizes: list[Size], args: argparse.Namespace) -> dict[str, dict]:
    """For each scenario, `args.rounds` rounds; in each round every target (app and ceiling
    at both sizes) gets its share of requests, in a shuffled order. The machine's load varies
    (other processes share it), so every figure compared is measured across the same minutes."""
    small, large = sizes
    results: dict[str, dict] = {}
    per_round = max(10, args.requests // args.rounds)
    rnd = random.Random(7)
    for name in small.scenarios():
        targets = {(size, kind): (client, path, headers)
                   for size in sizes for kind, client, path, headers in (
                       ("app", size.app, f"/api/v1/cases?limit=50{size.scenarios()[name]}", size.auth),
                       ("ceiling", size.ceiling, f"/?limit=50{size.scenarios()[name]}", {}))}
        rows = {size: len((await size.app.get(f"/api/v1/cases?limit=50{size.scenarios()[name]}",
                                              headers=size.auth)).json()["items"])
                for size in sizes}
        if 0 < rows[small] < rows[large]:
            # The small database's page is not full for this filter: measure the large one
            # with the same number of rows as well, so that one ratio compares like with like.
            targets[(large, "app-same-rows")] = (
                large.app, f"/api/v1/cases?limit={rows[small]}{large.scenarios()[name]}", large.auth)
        for client, path, headers in targets.values():  # warm every server on this query
            for _ in range(20):
                await client.get(path, headers=headers)
        parts: dict = {t: [] for t in targets}
        for _ in range(args.rounds):
            order = list(targets)
            rnd.shuffle(order)
            for t in order:
                client, path, headers = targets[t]
                parts[t].append(await measure(client, "GET", path, headers, per_round,
                                              args.concurrency, warm=False))
        results[name] = {f"{kind}@{'small' if size is small else 'large'}": merged(parts[(size, kind)])
                         for size, kind in targets}
        results[name]["rows"] = rows
    return results


async def creation(size: Size, args: argparse.Namespace) -> dict:
    estate = 1  # a demo estate served by the pm's company under an active contract

    def body(i: int) -> dict:
        return {"estate_id": estate, "category": "repair", "priority": "normal",
                "description": f"基准测试：楼道灯不亮 {i}", "channel": "phone",
                "reporter_name": "王小明", "reporter_phone": "13700001234"}

    return merged([await measure(size.app, "POST", "/api/v1/cases", size.auth, args.creates,
                                 args.concurrency, body=body, ok=201)])


async def main(args: argparse.Namespace) -> None:
    sizes = [Size(args.small), Size(args.large)]
    try:
        for size in sizes:
            await size.start()
        print(f"\nmeasuring (load average before: {os.getloadavg()[0]:.1f})")
        results = await interleaved(sizes, args)
        create = await creation(sizes[1], args) if args.creates else None
        load_after = os.getloadavg()[0]
        await explain(sizes[1].url, sizes[1].facts, sizes[1].deep_id)
    finally:
        for size in sizes:
            await size.stop()
    sf, lf = sizes[0].facts, sizes[1].facts
    print(f"\nGET /api/v1/cases as 'pm' (company serving 20 of 2,000 estates), limit 50, "
          f"{args.requests} requests per target at concurrency {args.concurrency} in "
          f"{args.rounds} interleaved rounds, one uvicorn process each")
    print(f"small: {sf['cases']:,} cases ({sf['pm_cases']:,} the pm's); "
          f"large: {lf['cases']:,} cases ({lf['pm_cases']:,} the pm's); load average after "
          f"{load_after:.1f} on {os.cpu_count()} CPUs")
    print(f"{'list':22} {'small p50':>9} {'p95':>7} {'large p50':>9} {'p95':>7} {'ratio p50':>9} "
          f"{'p95':>6} {'req/s':>7} {'ceiling':>8} {'vs ceil':>7} {'errors':>6}")
    for name, r in results.items():
        s, lg, c = r["app@small"], r["app@large"], r["ceiling@large"]
        print(f"{name:22} {s['p50']:9.1f} {s['p95']:7.1f} {lg['p50']:9.1f} {lg['p95']:7.1f} "
              f"{lg['p50'] / s['p50']:9.2f} {lg['p95'] / s['p95']:6.2f} {lg['rps']:7.0f} "
              f"{c['rps']:8.0f} {lg['rps'] / c['rps']:7.2f} {s['errors'] + lg['errors']:6d}")
    print("(ms; ratio = large/small, goal <= 1.5; vs ceil = endpoint req/s / ceiling req/s at the "
          "large size, goal >= 0.6)")
    print("rows per page (small/large): " + ", ".join(
        f"{n} {r['rows'][sizes[0]]}/{r['rows'][sizes[1]]}" for n, r in results.items()))
    for name, r in results.items():
        if "app-same-rows@large" in r:
            s, same = r["app@small"], r["app-same-rows@large"]
            print(f"{name}: the large database with the small one's {r['rows'][sizes[0]]} rows a "
                  f"page: p50 {same['p50']:.1f} ms, p95 {same['p95']:.1f} ms; ratio to small p50 "
                  f"{same['p50'] / s['p50']:.2f}, p95 {same['p95'] / s['p95']:.2f}")
    print("small-size endpoint/ceiling: " + ", ".join(
        f"{n} {r['app@small']['rps'] / r['ceiling@small']['rps']:.2f}" for n, r in results.items()))
    print("ceiling large/small p50: " + ", ".join(
        f"{n} {r['ceiling@large']['p50'] / r['ceiling@small']['p50']:.2f}"
        for n, r in results.items()))
    if create:
        print(f"POST /api/v1/cases (staff phone intake, {args.creates} at concurrency "
              f"{args.concurrency}, on the large database): {create['rps']:.0f} creates/s, "
              f"p50 {create['p50']:.1f} ms, p95 {create['p95']:.1f} ms, errors {create['errors']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300, help="per target and scenario")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--creates", type=int, default=500)
    asyncio.run(main(parser.parse_args()))
