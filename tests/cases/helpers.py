"""Shared steps of the case API tests."""
from __future__ import annotations

from tests.factories import login


async def headers(client, world, persona: str, side: str = "a1") -> dict[str, str]:
    return await login(client, getattr(world, side).users[persona])


async def report(client, world, **body) -> dict:
    """A case reported by the a1 resident (repair by default)."""
    h = await headers(client, world, "resident")
    payload = {"estate_id": world.a1.estate, "category": "repair", "description": "水管漏水",
               **body}
    r = await client.post("/api/v1/cases", json=payload, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, world, persona: str, case_id: int, action: str, expect: int = 200,
              **body) -> dict:
    h = await headers(client, world, persona)
    r = await client.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body, headers=h)
    assert r.status_code == expect, r.text
    return r.json()


async def walk(client, world, case_id: int, *steps: str) -> dict:
    """Run the usual steps as the usual people: accept/assign (manager), acknowledge/start
    (handler)."""
    who = {"accept": "property_company:manager", "assign": "property_company:manager",
           "acknowledge": "property_company:handler", "start": "property_company:handler"}
    out: dict = {}
    for step in steps:
        out = await act(client, world, who[step], case_id, step)
    return out
