"""API fuzzing: Schemathesis generates requests for every operation of the app's own OpenAPI
schema (examples, boundary "coverage" cases and random fuzzing, valid and invalid) and checks
that none answers 5xx and every documented response matches its declared schema.

It runs against a real `gongzhi serve` on its own database seeded with the demo district, as
four demo personas in turn (the bureau's administrator, the property manager, the owners'
committee chair and a resident), each for FUZZ_SECONDS (default 45) of the run's time budget.
Operations that would end the persona's session (logout, password change) and the endless event
stream are left out. One worker thread: CPython 3.11's parser is not thread-safe for the
lambdas Hypothesis describes, and two workers occasionally crash Schemathesis itself. On failure
the message holds Schemathesis' report with a curl line per failing case.
"""
from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.gongzhi.faults import AppServer, Process, fresh_database, gongzhi_env

FUZZ_SECONDS = int(os.environ.get("FUZZ_SECONDS", "45"))
PERSONAS = ("bureau", "pm", "oc.chair", "resident")
DEMO_PASSWORD = "Gongzhi-2026"
# Left out: logging in and out and passwords (they would end the personas' sessions) and the
# never-ending event stream. (The cases XLSX export once broke mid-body here: a fuzzed case
# held a control character XML cannot carry; tests/cases/test_export.py now covers it.)
EXCLUDED = r"/auth/|/logout|password|/events/stream"
ST = str(Path(sys.executable).with_name("st"))


@pytest.fixture
async def demo_app():
    async with fresh_database("gongzhi_fuzz") as url:
        env = gongzhi_env(DATABASE_URL=url, REDIS_NAMESPACE=f"fuzz-{secrets.token_hex(3)}",
                          WORKER_IN_PROCESS="false")
        app = None
        try:
            seed = Process("demo", "--no-serve", env=env)
            assert seed.proc.wait(300) == 0, seed.output()
            seed.stop()
            app = AppServer(env)
            await app.ready(120)
            yield app
        finally:
            if app is not None:
                app.stop()


async def test_no_operation_answers_5xx_or_breaks_its_declared_schema(demo_app, tmp_path):
    generated = {}
    async with httpx.AsyncClient(base_url=demo_app.base_url, timeout=30) as c:
        schema = (await c.get("/schema/openapi.json")).json()
        operations = sum(len(v) for v in schema["paths"].values())
        for persona in PERSONAS:
            r = await c.post("/api/v1/auth/login",
                             json={"username": persona, "password": DEMO_PASSWORD})
            assert r.status_code == 201, r.text
            token = r.json()["token"]
            done = subprocess.run(
                [ST, "run", f"{demo_app.base_url}/schema/openapi.json",
                 "--header", f"Authorization: Bearer {token}",
                 "--checks", "not_a_server_error,response_schema_conformance",
                 "--exclude-path-regex", EXCLUDED,
                 "--phases", "examples,coverage,fuzzing", "--max-examples", "10",
                 "--max-time", str(FUZZ_SECONDS), "--workers", "1", "--seed", "2026",
                 "--request-timeout", "120", "--no-color"],
                capture_output=True, text=True, timeout=FUZZ_SECONDS + 300, cwd=tmp_path)
            summary = done.stdout[done.stdout.rfind("SUMMARY"):]
            assert done.returncode == 0, f"{persona}:\n{done.stdout[-20000:]}\n{done.stderr[-3000:]}"
            found = re.search(r"(\d+) generated", summary)
            assert found, summary
            generated[persona] = int(found.group(1))
    print(f"\nfuzzing: {operations} operations, test cases per persona {generated}, "
          f"{sum(generated.values())} in all, no 5xx, no schema violation")
