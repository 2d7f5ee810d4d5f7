"""The operator CLI, run as a real subprocess against the test database."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def gongzhi(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gongzhi.cli", *args], cwd=ROOT, env=os.environ,
                          capture_output=True, text=True, timeout=120, input=input)


async def test_migrate_is_idempotent(client):
    r = gongzhi("migrate")
    assert r.returncode == 0, r.stderr
    assert "migrations applied" in r.stdout


async def test_create_tenant_then_its_admin_logs_in_and_creates_a_user(client):
    r = gongzhi("create-tenant", "--code", "cli-test", "--name", "命令行测试区", "--admin-username",
                "cli.admin", "--admin-password", "Cli-admin-2026")
    assert r.returncode == 0, r.stderr
    login = await client.post("/api/v1/auth/login",
                              json={"username": "cli.admin", "password": "Cli-admin-2026"})
    assert login.status_code == 201
    me = login.json()["user"]
    assert me["tenant_name"] == "命令行测试区"
    assert me["memberships"][0]["organization_kind"] == "housing_bureau"
    assert me["memberships"][0]["role"] == "admin"
    bureau = me["memberships"][0]["organization_id"]

    r = gongzhi("create-user", "--tenant", "cli-test", "--username", "cli.staff", "--display-name",
                "王五", "--password", "Cli-staff-2026", "--organization-id", str(bureau),
                "--role", "staff")
    assert r.returncode == 0, r.stderr
    login = await client.post("/api/v1/auth/login",
                              json={"username": "cli.staff", "password": "Cli-staff-2026"})
    assert login.json()["user"]["memberships"][0]["role"] == "staff"


async def test_create_tenant_refuses_a_duplicate_code_and_a_weak_password(client):
    gongzhi("create-tenant", "--code", "cli-dup", "--name", "A", "--admin-username", "dup.admin",
            "--admin-password", "Dup-admin-2026")
    again = gongzhi("create-tenant", "--code", "cli-dup", "--name", "A", "--admin-username",
                    "dup.admin2", "--admin-password", "Dup-admin-2026")
    assert again.returncode != 0
    weak = gongzhi("create-tenant", "--code", "cli-weak", "--name", "A", "--admin-username",
                   "weak.admin", "--admin-password", "short")
    assert weak.returncode != 0
