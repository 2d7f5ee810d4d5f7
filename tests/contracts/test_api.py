"""The contracts API per persona: who sees which contracts, who may draft and manage them,
documents (PDF only, hashed, downloadable), and refusals for other tenants and unrelated
organisations."""
from __future__ import annotations

import hashlib

import pytest

from tests.contracts.helpers import body, create, fresh_estate, headers

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize("persona", ["bureau:admin", "bureau:staff", "street_office:staff",
                                     "residents_committee:grid_worker", "owners_committee:member",
                                     "property_company:handler"])
async def test_everyone_on_the_estate_reads_its_contract(client, world, persona):
    h = await headers(client, world, persona)
    r = await client.get(f"/api/v1/contracts/{world.a1.contract}", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["documents"][0]["id"] == world.a1.document
    listed = await client.get(f"/api/v1/contracts?estate_id={world.a1.estate}", headers=h)
    assert world.a1.contract in [c["id"] for c in listed.json()]


@pytest.mark.parametrize("side,persona", [("a2", "street_office:admin"),
                                          ("a2", "residents_committee:admin"),
                                          ("a2", "owners_committee:admin"),
                                          ("a2", "property_company:admin"), ("b", "bureau:admin")])
async def test_unrelated_organisations_and_other_tenants_see_nothing(client, world, side, persona):
    h = await headers(client, world, persona, side)
    a1 = world.a1
    assert (await client.get(f"/api/v1/contracts/{a1.contract}", headers=h)).status_code == 404
    r = await client.get(f"/api/v1/contracts/{a1.contract}/documents/{a1.document}", headers=h)
    assert r.status_code == 404
    listed = await client.get("/api/v1/contracts", headers=h)
    assert a1.contract not in [c["id"] for c in listed.json()]
    for action in ("activate", "documents"):
        r = await client.post(f"/api/v1/contracts/{a1.contract}/{action}", headers=h,
                              files={"file": ("x.pdf", PDF, "application/pdf")})
        assert r.status_code == 404, r.text


async def test_a_property_company_sees_only_its_own_contracts(client, world):
    admin = await headers(client, world, "bureau:admin")
    other_company = world.a2.orgs["property_company"]
    estate, oc = await fresh_estate(world)
    theirs = await create(client, world, estate, admin, counterparty=oc,
                          property_company_id=other_company)
    own_pm = await headers(client, world, "property_company:manager")
    r = await client.get(f"/api/v1/contracts/{theirs['id']}", headers=own_pm)
    assert r.status_code == 404  # the estate is in its street, but the contract is not its own
    other_pm = await headers(client, world, "property_company:admin", "a2")
    r = await client.get(f"/api/v1/contracts/{theirs['id']}", headers=other_pm)
    assert r.status_code == 200 and r.json()["property_company_id"] == other_company
    # a party to the contract may read it, but not manage it
    r = await client.post(f"/api/v1/contracts/{theirs['id']}/activate", headers=other_pm)
    assert r.status_code == 403


@pytest.mark.parametrize("persona,status", [
    ("bureau:admin", 201), ("street_office:admin", 201), ("owners_committee:chair", 201),
    ("owners_committee:admin", 201), ("owners_committee:member", 403),
    ("residents_committee:admin", 403), ("property_company:admin", 403), ("bureau:staff", 403)])
async def test_who_may_draft_a_contract(client, world, persona, status):
    h = await headers(client, world, persona)
    oc = world.a1.orgs["owners_committee"]
    r = await client.post("/api/v1/contracts", headers=h,
                          json=body(world, world.a1.estate, counterparty=oc))
    assert r.status_code == status, r.text
    if status == 201:
        assert (r.json()["status"], r.json()["counterparty_id"]) == ("draft", oc)


async def test_drafting_for_an_estate_out_of_sight_is_refused_as_invalid(client, world):
    h = await headers(client, world, "street_office:admin", "a2")
    r = await client.post("/api/v1/contracts", headers=h, json=body(world, world.a1.estate))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "estate_id"


async def test_counterparty_must_be_the_estates_owners_committee(client, world):
    h = await headers(client, world, "bureau:admin")
    estate, _oc = await fresh_estate(world)
    for counterparty in (world.a1.orgs["owners_committee"], world.a1.orgs["residents_committee"]):
        r = await client.post("/api/v1/contracts", headers=h,
                              json=body(world, estate, counterparty=counterparty))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "counterparty_id"
    r = await client.post("/api/v1/contracts", headers=h,
                          json={**body(world, estate), "counterparty_name": " "})
    assert r.status_code == 422, r.text


async def test_a_pdf_is_attached_hashed_and_downloaded(client, world):
    h = await headers(client, world, "owners_committee:chair")
    url = f"/api/v1/contracts/{world.a1.contract}/documents"
    r = await client.post(url, headers=h, files={"file": ("合同扫描件.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert (doc["sha256"], doc["size"], doc["file_name"]) == (
        hashlib.sha256(PDF).hexdigest(), len(PDF), "合同扫描件.pdf")
    again = await client.post(url, headers=h, files={"file": ("copy.pdf", PDF, "application/pdf")})
    assert again.status_code == 409
    reader = await headers(client, world, "residents_committee:grid_worker")
    r = await client.get(f"{url}/{doc['id']}", headers=reader)
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"].startswith("application/pdf")
    assert "filename*=UTF-8''%E5%90%88" in r.headers["content-disposition"]


async def test_a_png_is_refused_whatever_its_name(client, world):
    h = await headers(client, world, "bureau:admin")
    r = await client.post(f"/api/v1/contracts/{world.a1.contract}/documents", headers=h,
                          files={"file": ("scan.pdf", PNG, "application/pdf")})
    assert r.status_code == 415, r.text
    member = await headers(client, world, "owners_committee:member")
    r = await client.post(f"/api/v1/contracts/{world.a1.contract}/documents", headers=member,
                          files={"file": ("scan.pdf", PDF, "application/pdf")})
    assert r.status_code == 403
