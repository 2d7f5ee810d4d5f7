"""Load test: residents reporting cases, property managers working their queues and committee /
bureau staff reading dashboards and downloading reports, all at once, over real HTTP against
`gongzhi serve` (WEB_WORKERS processes) and one `gongzhi worker`.

    .venv/bin/python bench/bench_load.py [--duration 600] [--quick] [--json FILE]
        [--web-workers 2] [--weights resident=30,manager=50,reader=20] [--start-rps 5]
        [--step-factor 1.3] [--step-seconds 20] [--max-steps 10] [--rps N (skip the ramp)]

World: a fresh database `gongzhi_load_<random>` on the server of DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test, used as the admin connection), seeded by
`gongzhi demo --no-serve`; extra resident logins (the bureau creates accounts through the API
and links each to an owner of a unit in the demo property company's estates); a few hundred
cases reported before measuring. Its own REDIS_NAMESPACE on REDIS_URL (default
redis://127.0.0.1:6379/0) and its own file store; all removed at the end.

Load: open loop. Journeys (bench/load_scenarios.py) start at Poisson-distributed instants, so a
slow server does not slow the arrivals down (no coordinated omission); each journey runs its
calls one after another on a shared keep-alive httpx client. The weights are shares of
requests: a group's journeys are picked in proportion to its weight divided by the requests its
journeys have made on average so far.

Ramp: steps of `--step-seconds` at an offered rate growing by `--step-factor`, until a step's
p95 reaches 300 ms, an error appears, or the achieved rate falls below 60 % of the offered one
(the server stalling); a step that only just misses the latency goal (p95 under 600 ms, no
errors) is run once more at the same rate (the machine is shared: a neighbour's burst should
not end the ramp). The best step's rate times `--hold-fraction` (default 0.9: steps are short,
the hold is long) is then held for `--duration` seconds. `--quick`: 4 s warm-up, at most 6
steps of 10 s, 60 s hold.

Report (printed; JSON with --json): requests, sustained req/s, p50/p95/p99 overall and per step,
errors by status or exception with a sample body, RSS of the web processes and the queue worker
(at the start, every 30 s, at the end; growth over the hold), the load generator's own CPU, and
the machine's load average (the machine is shared: read the figures with it).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import load_scenarios as sc  # noqa: E402

P95_GOAL_MS = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg: str) -> None:
    print(f"[{datetime.now(timezone.utc):%H:%M:%S}] {msg}", flush=True)


# --- processes ---------------------------------------------------------------------------------
class Proc:
    """A `gongzhi` subprocess in its own session (stopped as a group), output in a temp file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"gongzhi-load-{name}-", suffix=".log",
                                               delete=False)
        self.proc = subprocess.Popen([sys.executable, "-m", "gongzhi.cli", *args], cwd=ROOT,
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


def rss_mb(p: psutil.Process) -> float:
    try:
        return p.memory_info().rss / 2**20
    except psutil.Error:
        return float("nan")


def memory_sample(web: Proc, worker: Proc, phase: str, t0: float) -> dict:
    """RSS of the serve supervisor, each web worker process (uvicorn's spawned children; not the
    multiprocessing resource tracker) and the queue worker with any children."""
    sample: dict = {"t": round(time.monotonic() - t0, 1), "phase": phase,
                    "loadavg": [round(x, 2) for x in os.getloadavg()]}
    try:
        master = psutil.Process(web.proc.pid)
        kids = [k for k in master.children(recursive=True)
                if "resource_tracker" not in " ".join(k.cmdline())]
        sample["web_master_mb"] = round(rss_mb(master), 1)
        sample["web_workers_mb"] = {str(k.pid): round(rss_mb(k), 1) for k in kids}
    except psutil.Error:
        sample["web_master_mb"], sample["web_workers_mb"] = None, {}
    try:
        wp = psutil.Process(worker.proc.pid)
        sample["worker_mb"] = round(rss_mb(wp) + sum(rss_mb(k) for k in wp.children(True)), 1)
    except psutil.Error:
        sample["worker_mb"] = None
    return sample


# --- the world ---------------------------------------------------------------------------------
async def create_database(admin: str) -> str:
    import asyncpg

    name = f"gongzhi_load_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunparse(urlparse(admin)._replace(path="/" + name))


async def drop_database(admin: str, url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path[1:]}" WITH (FORCE)')
    finally:
        await conn.close()


async def drop_redis_namespace(redis_url: str, namespace: str) -> int:
    import redis.asyncio as aioredis

    r = aioredis.from_url(redis_url)
    n = 0
    try:
        async for key in r.scan_iter(match=f"*{namespace}*", count=1000):
            n += await r.delete(key)
    finally:
        await r.aclose()
    return n


async def database_facts(url: str) -> dict:
    """What the run left behind: cases by status, photos, and events the worker has not yet
    published from the outbox (should be ~0: the worker keeps up)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        statuses = {r["status"]: r["n"] for r in await conn.fetch(
            "SELECT status, count(*) AS n FROM case_record GROUP BY status ORDER BY status")}
        return {"cases_by_status": statuses,
                "photos": await conn.fetchval("SELECT count(*) FROM case_attachment"),
                "outbox_unpublished": await conn.fetchval(
                    "SELECT count(*) FROM outbox_event WHERE published_at IS NULL"),
                "outbox_total": await conn.fetchval("SELECT count(*) FROM outbox_event")}
    finally:
        await conn.close()


async def wait_up(client: httpx.AsyncClient, web: Proc) -> None:
    for _ in range(300):
        if not web.alive():
            raise RuntimeError(f"gongzhi serve exited:\n{web.output()}")
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"gongzhi serve did not answer /health:\n{web.output()}")


# --- measuring ---------------------------------------------------------------------------------
def pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i] * 1000


class Stats:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str]] = []
        self.dropped = 0
        self.started = time.monotonic()
        self.ended: float | None = None

    def record(self, step: str, latency: float, outcome: str) -> None:
        self.rows.append((step, latency, outcome))

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @staticmethod
    def summary_of(latencies: list[float]) -> dict:
        s = sorted(latencies)
        return {"n": len(s), "p50_ms": round(pct(s, 50), 1), "p95_ms": round(pct(s, 95), 1),
                "p99_ms": round(pct(s, 99), 1), "max_ms": round(s[-1] * 1000, 1) if s else None}

    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for step, _lat, outcome in self.rows:
            if outcome != "ok":
                out[f"{outcome} @ {step}"] = out.get(f"{outcome} @ {step}", 0) + 1
        return out

    def summary(self) -> dict:
        by_step: dict[str, list[float]] = {}
        for step, lat, _o in self.rows:
            by_step.setdefault(step, []).append(lat)
        overall = self.summary_of([r[1] for r in self.rows])
        errors = self.errors()
        return {"requests": len(self.rows), "seconds": round(self.elapsed, 1),
                "rate_rps": round(len(self.rows) / self.elapsed, 2) if self.elapsed else 0,
                **{k: overall[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")},
                "errors": sum(errors.values()), "errors_by_kind": errors,
                "dropped_journeys": self.dropped,
                "steps": {k: self.summary_of(v) for k, v in sorted(by_step.items())}}


class Driver:
    """Starts journeys at Poisson instants for a phase; keeps the request mix on the weights."""

    def __init__(self, client: httpx.AsyncClient, world: sc.World, weights: dict[str, float],
                 max_inflight: int, seed: int = 11) -> None:
        self.client, self.world, self.weights = client, world, weights
        self.max_inflight = max_inflight
        self.rng = random.Random(seed)
        self.journeys = {g: 0 for g in sc.GROUPS}
        self.requests = {g: 0 for g in sc.GROUPS}
        self.tasks: set[asyncio.Task] = set()
        self.samples: dict[str, str] = {}

    def mean_requests(self, g: str) -> float:
        if self.journeys[g] < 20:
            return sc.PRIOR_REQUESTS[g]
        return max(0.5, self.requests[g] / self.journeys[g])

    def journey_rate(self, rps: float) -> float:
        """Journeys/s that make `rps` requests/s with the current mix."""
        share = self.shares()
        return rps / sum(share[g] * self.mean_requests(g) for g in sc.GROUPS)

    def shares(self) -> dict[str, float]:
        raw = {g: self.weights[g] / self.mean_requests(g) for g in sc.GROUPS}
        total = sum(raw.values())
        return {g: v / total for g, v in raw.items()}

    async def _journey(self, group: str, stats: Stats) -> None:
        ctx = sc.Ctx(self.client, self.world, random.Random(self.rng.random()), stats.record,
                     self.samples)
        try:
            await sc.JOURNEYS[group](ctx)
        except Exception as e:  # noqa: BLE001 - a bug in a journey is reported, not fatal
            stats.record(f"{group}: journey", 0.0, f"journey crashed: {type(e).__name__}")
            self.samples.setdefault(f"{group} crash", repr(e)[:400])
        finally:
            self.journeys[group] += 1
            self.requests[group] += ctx.requests

    async def run(self, rps: float, seconds: float, stats: Stats) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        at = start
        stats.started = time.monotonic()
        while True:
            at += self.rng.expovariate(self.journey_rate(rps))
            if at >= start + seconds:
                break
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(self.tasks) >= self.max_inflight:
                stats.dropped += 1
                continue
            share = self.shares()
            group = self.rng.choices(sc.GROUPS, [share[g] for g in sc.GROUPS])[0]
            task = asyncio.create_task(self._journey(group, stats))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await asyncio.sleep(max(0.0, start + seconds - loop.time()))
        stats.ended = time.monotonic()

    async def drain(self, timeout: float = 60) -> None:
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)


def passes(s: dict, offered: float) -> tuple[bool, str]:
    if s["errors"]:
        return False, f"{s['errors']} errors"
    if s["dropped_journeys"]:
        return False, f"{s['dropped_journeys']} journeys dropped (too many in flight)"
    if s["p95_ms"] >= P95_GOAL_MS:
        return False, f"p95 {s['p95_ms']} ms >= {P95_GOAL_MS:.0f} ms"
    # A saturated server shows in p95 first (arrivals do not wait for it); this catches a server
    # (or a load generator) that stalls outright. Poisson arrivals over a short step vary ~20 %.
    if s["rate_rps"] < 0.6 * offered:
        return False, f"achieved {s['rate_rps']} req/s < 60 % of offered {offered:.1f}"
    return True, "ok"


# --- the run -----------------------------------------------------------------------------------
async def measure(args: argparse.Namespace, client: httpx.AsyncClient, world: sc.World,
                  web: Proc, worker: Proc, report: dict) -> None:
    weights = args.weights
    driver = Driver(client, world, weights, args.max_inflight)
    t0 = time.monotonic()
    mem: list[dict] = report["memory"]["samples"]
    phase = {"name": "start"}
    mem.append(memory_sample(web, worker, "start", t0))

    async def sampler() -> None:
        while True:
            await asyncio.sleep(30)
            mem.append(memory_sample(web, worker, phase["name"], t0))
            if not (web.alive() and worker.alive()):
                log("a server process exited!")

    sampler_task = asyncio.create_task(sampler())
    try:
        log(f"warm-up {args.warmup:.0f} s at {args.start_rps} req/s")
        await driver.run(args.start_rps, args.warmup, Stats())
        await driver.drain()
        best: float | None = args.rps
        if args.rps is None:
            phase["name"] = "ramp"
            rate, step, retried = args.start_rps, 0, False
            while step < args.max_steps:
                step += 1
                stats = Stats()
                await driver.run(rate, args.step_seconds, stats)
                s = stats.summary()
                ok, why = passes(s, rate)
                report["ramp"].append({"offered_rps": round(rate, 2), "passed": ok, "why": why,
                                       "loadavg_1m": round(os.getloadavg()[0], 2),
                                       **{k: s[k] for k in ("requests", "rate_rps", "p50_ms",
                                                            "p95_ms", "p99_ms", "errors")}})
                log(f"ramp step {step}: offered {rate:.1f} req/s -> {s['rate_rps']} req/s, p50 "
                    f"{s['p50_ms']} p95 {s['p95_ms']} p99 {s['p99_ms']} ms, errors {s['errors']}"
                    f" ({why}; load {os.getloadavg()[0]:.1f})")
                if ok:
                    best, retried = rate, False
                    rate *= args.step_factor
                elif best is None and rate > 1.0:  # even the first rate is too much: step down
                    await driver.drain()
                    rate /= args.step_factor
                elif not retried and not (s["errors"] or s["dropped_journeys"]) and \
                        s["p95_ms"] < 2 * P95_GOAL_MS:
                    # The machine is shared: a neighbour's burst should not end the ramp. A
                    # step that only just misses the latency goal is run once more.
                    retried = True
                    await driver.drain()
                else:
                    break
            await driver.drain()
        if best is None:
            best = 1.0
            log("no ramp step met the goal; holding 1 req/s")
        else:
            best *= args.hold_fraction if args.rps is None else 1.0
        report["best_step_rps"] = max((x["offered_rps"] for x in report["ramp"] if x["passed"]),
                                      default=args.rps)
        report["hold_offered_rps"] = round(best, 2)
        await asyncio.sleep(5)  # let the server settle after the ramp's last (failed) step
        phase["name"] = "hold"
        mem.append(memory_sample(web, worker, "hold start", t0))
        log(f"hold: {best:.1f} req/s for {args.duration:.0f} s")
        cpu0, stats = psutil.Process().cpu_times(), Stats()
        hold = asyncio.create_task(driver.run(best, args.duration, stats))
        seen, last_t, progress = 0, 0.0, report.setdefault("hold_minutes", [])
        while not hold.done():
            await asyncio.wait([hold], timeout=60)
            rows, seen = stats.rows[seen:], len(stats.rows)
            if not rows:
                continue
            lat = sorted(r[1] for r in rows)
            span, last_t = stats.elapsed - last_t, stats.elapsed
            minute = {"t_s": round(stats.elapsed), "requests": len(rows),
                      "rate_rps": round(len(rows) / span, 2), "p50_ms": round(pct(lat, 50), 1),
                      "p95_ms": round(pct(lat, 95), 1), "p99_ms": round(pct(lat, 99), 1),
                      "errors": sum(r[2] != "ok" for r in rows),
                      "loadavg_1m": round(os.getloadavg()[0], 2)}
            progress.append(minute)
            log(f"  {minute['t_s']:5d} s: {minute['requests']} requests since the last line "
                f"({minute['rate_rps']} req/s), p50 {minute['p50_ms']} p95 {minute['p95_ms']} "
                f"p99 {minute['p99_ms']} ms, errors {minute['errors']}, load "
                f"{minute['loadavg_1m']}")
        await driver.drain()
        cpu1 = psutil.Process().cpu_times()
        report["hold"] = stats.summary()
        report["load_generator_cpu_percent"] = round(
            100 * ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) / stats.elapsed, 1)
        mix = {g: 0 for g in sc.GROUPS}
        for step, _lat, _o in stats.rows:
            mix[step.split(":")[0]] = mix.get(step.split(":")[0], 0) + 1
        report["request_mix"] = mix
        report["error_samples"] = driver.samples
        phase["name"] = "end"
    finally:
        sampler_task.cancel()
        mem.append(memory_sample(web, worker, "end", t0))


def memory_growth(samples: list[dict]) -> dict:
    def total_web(s: dict) -> float:
        return sum(s.get("web_workers_mb", {}).values())

    first = next((s for s in samples if s["phase"] == "hold start"), samples[0])
    last = samples[-1]
    out = {"from": first["phase"], "web_workers_mb": [round(total_web(first), 1),
                                                      round(total_web(last), 1)],
           "worker_mb": [first.get("worker_mb"), last.get("worker_mb")],
           "per_web_worker_mb": {pid: [first.get("web_workers_mb", {}).get(pid), mb]
                                 for pid, mb in last.get("web_workers_mb", {}).items()}}
    out["web_growth_mb"] = round(out["web_workers_mb"][1] - out["web_workers_mb"][0], 1)
    if None not in out["worker_mb"]:
        out["worker_growth_mb"] = round(out["worker_mb"][1] - out["worker_mb"][0], 1)
    out["since_start"] = {"web_workers_mb": [round(total_web(samples[0]), 1),
                                             round(total_web(last), 1)],
                          "worker_mb": [samples[0].get("worker_mb"), last.get("worker_mb")]}
    return out


def print_report(r: dict) -> None:
    h = r.get("hold")
    print("\n=== Gongzhi load test ===")
    print(f"{r['started']} .. {r['finished']} UTC; {r['cpus']} CPUs (shared); web workers "
          f"{r['config']['web_workers']}, 1 queue worker; weights {r['config']['weights']}")
    print("ramp (offered req/s -> achieved, p50/p95/p99 ms, errors, load average):")
    for s in r["ramp"]:
        print(f"  {s['offered_rps']:7.1f} -> {s['rate_rps']:7.1f}  {s['p50_ms']:7.1f} "
              f"{s['p95_ms']:7.1f} {s['p99_ms']:7.1f}  {s['errors']:4d}  {s['loadavg_1m']:5.1f}"
              f"  {'PASS' if s['passed'] else 'stop: ' + s['why']}")
    if not h:
        print("no hold phase")
        return
    print(f"best ramp step {r.get('best_step_rps')} req/s; hold at {r['hold_offered_rps']} req/s "
          f"offered for {h['seconds']} s: {h['requests']} requests, sustained {h['rate_rps']} "
          f"req/s; p50 {h['p50_ms']} ms, p95 {h['p95_ms']} ms, p99 {h['p99_ms']} ms, max "
          f"{h['max_ms']} ms; errors {h['errors']}; dropped journeys {h['dropped_journeys']}")
    mix = r["request_mix"]
    total = sum(mix.values()) or 1
    print("request mix (hold): " + ", ".join(f"{g} {100 * n / total:.0f} %"
                                                   for g, n in mix.items()))
    print(f"{'step':58} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for name, s in h["steps"].items():
        print(f"{name:58} {s['n']:6d} {s['p50_ms']:7.1f} {s['p95_ms']:7.1f} {s['p99_ms']:7.1f} "
              f"{s['max_ms']:7.1f}")
    for kind, n in h["errors_by_kind"].items():
        print(f"  error {n:5d} x {kind}")
    for kind, body in r.get("error_samples", {}).items():
        print(f"  sample {kind}: {body[:200]}")
    g = r["memory"]["growth"]
    print(f"memory RSS over the hold: web workers (sum) {g['web_workers_mb'][0]} -> "
          f"{g['web_workers_mb'][1]} MB ({g['web_growth_mb']:+} MB); queue worker "
          f"{g['worker_mb'][0]} -> {g['worker_mb'][1]} MB ({g.get('worker_growth_mb', 'n/a'):+})")
    print("memory samples (s, phase, web master, web workers, worker MB, load 1/5/15):")
    for s in r["memory"]["samples"]:
        print(f"  {s['t']:7.1f} {s['phase']:10} {s.get('web_master_mb')} "
              f"{list(s.get('web_workers_mb', {}).values())} {s.get('worker_mb')} {s['loadavg']}")
    if r.get("database_at_end"):
        print(f"database at the end: {r['database_at_end']}")
    for m in r.get("hold_minutes", []):
        print(f"  hold until {m['t_s']:4d} s: {m['rate_rps']:6.2f} req/s, p50 {m['p50_ms']:6.1f} "
              f"p95 {m['p95_ms']:6.1f} p99 {m['p99_ms']:6.1f} ms, errors {m['errors']}, load "
              f"{m['loadavg_1m']}")
    print(f"load generator CPU during the hold: {r['load_generator_cpu_percent']} % of one core")


async def main(args: argparse.Namespace) -> dict:
    admin = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    namespace = f"gongzhi-load-{secrets.token_hex(3)}"
    data_dir = Path(tempfile.mkdtemp(prefix="gongzhi-load-"))
    report: dict = {"started": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S}",
                    "cpus": os.cpu_count(), "config": {
                        "web_workers": args.web_workers, "weights": args.weights,
                        "duration_s": args.duration, "step_seconds": args.step_seconds,
                        "step_factor": args.step_factor, "start_rps": args.start_rps,
                        "hold_fraction": args.hold_fraction,
                        "residents": args.residents, "seed_cases": args.seed_cases,
                        "p95_goal_ms": P95_GOAL_MS},
                    "loadavg_before": list(os.getloadavg()), "ramp": [],
                    "memory": {"samples": []}}
    url = await create_database(admin)
    log(f"database {urlparse(url).path[1:]}, redis namespace {namespace}")
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url,
           "REDIS_NAMESPACE": namespace, "LOG_LEVEL": "WARNING", "DATA_DIR": str(data_dir),
           "STORAGE_DIR": str(data_dir / "files"), "WEB_WORKERS": str(args.web_workers),
           "RATE_LIMIT_PER_MINUTE": "100000000", "LOGIN_ATTEMPTS_PER_MINUTE_PER_IP": "100000",
           "WORKER_IN_PROCESS": "false", "PYTHONUNBUFFERED": "1"}
    procs: list[Proc] = []
    try:
        log("seeding the demo district (gongzhi demo --no-serve)")
        seeded = subprocess.run([sys.executable, "-m", "gongzhi.cli", "demo", "--no-serve"],
                                env=env, cwd=ROOT, capture_output=True, text=True)
        if seeded.returncode:
            raise RuntimeError(f"demo seeding failed:\n{seeded.stdout[-2000:]}"
                               f"{seeded.stderr[-3000:]}")
        port = free_port()
        web = Proc("serve", ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                             str(args.web_workers)], env)
        procs.append(web)
        worker = Proc("worker", ["worker"], env)
        procs.append(worker)
        # Idle connections expire before uvicorn's 5 s keep-alive timeout closes them: reusing
        # one the server is closing would be a client-made ReadError.
        limits = httpx.Limits(max_connections=args.max_inflight, max_keepalive_connections=256,
                              keepalive_expiry=3.0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                     limits=limits) as client:
            await wait_up(client, web)
            log("building the world (logins, resident accounts, documents, campaigns)")
            world = await sc.build_world(client, args.residents)
            log(f"{len(world.residents)} resident logins in estates {world.estates}; documents "
                f"{world.documents}; campaigns with results {world.campaigns}; photo "
                f"{len(world.photo) // 1024} KiB; seeding {args.seed_cases} cases")
            await sc.seed_cases(client, world, args.seed_cases)
            await measure(args, client, world, web, worker, report)
        report["memory"]["growth"] = memory_growth(report["memory"]["samples"])
        report["database_at_end"] = await database_facts(url)
        report["processes_alive_at_end"] = {p.name: p.alive() for p in procs}
    finally:
        for p in procs:
            if not p.alive():
                log(f"{p.name} had exited:\n{p.output()}")
            p.stop()
        await drop_database(admin, url)
        try:
            await drop_redis_namespace(redis_url, namespace)
        except Exception as e:  # noqa: BLE001
            log(f"could not clean the redis namespace: {e!r}")
        shutil.rmtree(data_dir, ignore_errors=True)
        report["finished"] = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S}"
        report["loadavg_after"] = list(os.getloadavg())
    return report


def parse_weights(text: str) -> dict[str, float]:
    out = {g: 0.0 for g in sc.GROUPS}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name.strip() not in out:
            raise argparse.ArgumentTypeError(f"unknown group {name!r} (use {', '.join(sc.GROUPS)})")
        out[name.strip()] = float(value)
    if sum(out.values()) <= 0:
        raise argparse.ArgumentTypeError("weights must not all be zero")
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=600, help="hold seconds (default 600)")
    p.add_argument("--quick", action="store_true", help="smoke run: 10 s steps, 60 s hold")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", 2)))
    p.add_argument("--weights", type=parse_weights, default="resident=30,manager=50,reader=20",
                   help="shares of requests per group (default resident=30,manager=50,reader=20)")
    p.add_argument("--start-rps", type=float, default=5.0)
    p.add_argument("--step-factor", type=float, default=1.3)
    p.add_argument("--step-seconds", type=float, default=20.0)
    p.add_argument("--max-steps", type=int, default=10)
    p.add_argument("--rps", type=float, default=None, help="skip the ramp; hold this rate")
    p.add_argument("--warmup", type=float, default=8.0)
    p.add_argument("--hold-fraction", type=float, default=0.9,
                   help="hold this fraction of the best ramp step's rate (default 0.9: steps are "
                        "short, the hold is long)")
    p.add_argument("--residents", type=int, default=30, help="extra resident logins")
    p.add_argument("--seed-cases", type=int, default=200)
    p.add_argument("--max-inflight", type=int, default=200, help="journeys in flight at most")
    args = p.parse_args(argv)
    if isinstance(args.weights, str):
        args.weights = parse_weights(args.weights)
    if args.quick:
        args.duration = min(args.duration, 60.0)
        args.step_seconds = min(args.step_seconds, 10.0)
        args.max_steps = min(args.max_steps, 6)
        args.warmup = min(args.warmup, 4.0)
    return args


if __name__ == "__main__":
    arguments = parse_args()
    result = asyncio.run(main(arguments))
    print_report(result)
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))
        print(f"JSON report: {arguments.json}")
