"""Helpers of the contract tests: a fresh estate per test (so activations never clash across
tests), contract bodies, and personas' bearer headers."""
from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from core.db import db
from tenancy import repository as repo
from tenancy import system_repository as sysrepo
from tests.factories import login

EN = {"Accept-Language": "en"}
SLA = {"emergency": {"acknowledge": {"amount": 0.25, "unit": "natural_hours"},
                     "resolve": {"amount": 12.0, "unit": "natural_hours"}},
       "urgent": {"acknowledge": {"amount": 1.0, "unit": "natural_hours"},
                  "resolve": {"amount": 24.0, "unit": "natural_hours"}},
       "normal": {"acknowledge": {"amount": 0.5, "unit": "working_days"},
                  "resolve": {"amount": 2.0, "unit": "working_days"}}}


async def headers(client, world, persona: str, side: str = "a1") -> dict[str, str]:
    return {**await login(client, getattr(world, side).users[persona]), **EN}


async def fresh_estate(world) -> tuple[int, int]:
    """A new estate in the victim community of tenant A, with its own owners' committee.
    Returns (estate id, owners' committee id)."""
    tag = secrets.token_hex(3)
    async with db().transaction():
        estate = (await sysrepo.insert(repo.Estate, tenant=world.tenant_a,
                                       community=world.a1.community, name=f"新小区 {tag}"))["id"]
        oc = (await sysrepo.insert(repo.Organization, tenant=world.tenant_a,
                                   kind="owners_committee", name=f"业委会 {tag}"))["id"]
        await sysrepo.insert(repo.OrganizationCoverage, tenant=world.tenant_a, organization=oc,
                             estate=estate)
    return estate, oc


def body(world, estate: int, counterparty: int | None = None, **extra: Any) -> dict[str, Any]:
    today = date.today()
    out = {"estate_id": estate, "property_company_id": world.a1.orgs["property_company"],
           "counterparty_id": counterparty, "number": f"HT-{secrets.token_hex(2)}",
           "starts_on": (today - timedelta(days=10)).isoformat(),
           "ends_on": (today + timedelta(days=730)).isoformat(),
           "fee_per_m2_month": "2.80", "service_level": "level_1", "sla": SLA,
           "scope_items": ["保洁", "绿化", "秩序维护"]}
    if counterparty is None:
        out.update(kind="preliminary", counterparty_name="某房地产开发有限公司")
    return {**out, **extra}


async def create(client, world, estate: int, h: dict[str, str], **extra: Any) -> dict:
    r = await client.post("/api/v1/contracts", json=body(world, estate, **extra), headers=h)
    assert r.status_code == 201, r.text
    return r.json()


async def create_active(client, world, h: dict[str, str] | None = None, **extra: Any) -> dict:
    h = h or await headers(client, world, "bureau:admin")
    estate, oc = await fresh_estate(world)
    contract = await create(client, world, estate, h, counterparty=oc, **extra)
    r = await client.post(f"/api/v1/contracts/{contract['id']}/activate", headers=h)
    assert r.status_code == 200, r.text
    return r.json()
