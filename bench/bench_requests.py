"""Authenticated read throughput against the demo district, with /health as the baseline.

Every API request loads the caller (token, memberships, covered places) before the handler
runs; this shows what that costs relative to a request that only touches the database once.

    .venv/bin/python bench/bench_requests.py [--requests 2000] [--concurrency 16]

Uses DATABASE_URL/REDIS_URL when set (a scratch database is created and dropped), otherwise
the embedded servers under var/bench. Prints requests/s, p50 and p95 per endpoint and the
ratio of each endpoint's throughput to the baseline measured in the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def prepare() -> tuple[str, str]:
    """A scratch database with the demo district; returns (admin url, scratch url)."""
    os.environ.setdefault("DATA_DIR", str(ROOT / "var" / "bench"))
    from core.embedded import ensure_services

    ensure_services()
    import asyncpg

    admin = os.environ["DATABASE_URL"]
    name = f"gongzhi_bench_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = urlunparse(urlparse(admin)._replace(path="/" + name))
    return admin, url


async def drop(admin: str, url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin)
    await conn.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path[1:]}" WITH (FORCE)')
    await conn.close()


async def measure(client: httpx.AsyncClient, path: str, headers: dict, n: int, conc: int) -> dict:
    latencies: list[float] = []
    errors = 0
    sem = asyncio.Semaphore(conc)

    async def one() -> None:
        nonlocal errors
        async with sem:
            t = time.perf_counter()
            r = await client.get(path, headers=headers)
            latencies.append(time.perf_counter() - t)
            errors += r.status_code != 200

    for _ in range(min(50, n)):  # warm-up
        await client.get(path, headers=headers)
    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {"rps": n / elapsed, "p50": q[49] * 1000, "p95": q[94] * 1000, "errors": errors}


async def main(n: int, conc: int) -> None:
    admin, url = await prepare()
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
           "RATE_LIMIT_PER_MINUTE": "10000000", "REDIS_NAMESPACE": f"bench-{secrets.token_hex(3)}"}
    subprocess.run([sys.executable, "-m", "gongzhi.cli", "demo", "--no-serve"], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "gongzhi.asgi:app", "--port", str(port),
                               "--log-level", "warning"], env=env, cwd=ROOT)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(100):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            token = (await client.post("/api/v1/auth/login", json={
                "username": "pm", "password": "Gongzhi-2026"})).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            results = {"GET /health (baseline)": await measure(client, "/health", {}, n, conc),
                       "GET /api/v1/me": await measure(client, "/api/v1/me", auth, n, conc),
                       "GET /api/v1/estates": await measure(client, "/api/v1/estates", auth, n, conc),
                       "GET /api/v1/buildings/1/units": await measure(
                           client, "/api/v1/buildings/1/units?limit=100", auth, n, conc)}
    finally:
        server.terminate()
        server.wait(timeout=30)
        await drop(admin, url)
    base = results["GET /health (baseline)"]["rps"]
    print(f"{n} requests per endpoint, concurrency {conc}, one uvicorn process, 2 cores")
    print(f"{'endpoint':34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'vs base':>8}")
    for name, r in results.items():
        print(f"{name:34} {r['rps']:8.0f} {r['p50']:8.1f} {r['p95']:8.1f} {r['errors']:7d} "
              f"{r['rps'] / base:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
