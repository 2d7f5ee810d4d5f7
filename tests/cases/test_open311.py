"""Open311 GeoReport v2 conformance (JSON and XML), API keys, scoping and privacy."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from core.db import fetch
from tests.cases.helpers import headers, report

BASE = "/open311/v2"
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url"}
REPORTER = {"first_name": "小明", "last_name": "王", "phone": "13977776666",
            "email": "wang@example.com"}


def xml(r) -> ET.Element:
    assert r.headers["content-type"] == "text/xml; charset=utf-8", r.headers["content-type"]
    return ET.fromstring(r.content)


def assert_json(r) -> list | dict:
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    return r.json()


def assert_spec_error(r, code: int, fmt: str = "json") -> str:
    assert r.status_code == code, r.text
    if fmt == "xml":
        root = xml(r)
        assert root.tag == "errors"
        error = root.find("error")
        assert error is not None and error.findtext("code") == str(code)
        return error.findtext("description") or ""
    body = assert_json(r)
    assert isinstance(body, list) and body[0]["code"] == code and body[0]["description"]
    return body[0]["description"]


async def file_request(client, world, fmt: str = "json", key: str | None = None, **form) -> object:
    data = {"api_key": key or world.a1.open311_api_key, "service_code": "repair",
            "address_id": str(world.a1.estate), "description": "楼道灯坏了",
            "lat": "31.2304", "long": "121.4737", "address_string": "3号楼2单元", **REPORTER,
            **form}
    return await client.post(f"{BASE}/requests.{fmt}", data=data)


async def jurisdiction(client, world) -> str:
    h = await headers(client, world, "bureau:admin")
    return (await client.get("/api/v1/tenant", headers=h)).json()["code"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_discovery(client, fmt):
    r = await client.get(f"{BASE}/discovery.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        body = assert_json(r)
        assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert body["endpoints"][0]["url"].endswith("/open311/v2")
    else:
        root = xml(r)
        assert root.tag == "discovery"
        formats = [f.text for f in root.iterfind("endpoints/endpoint/formats/format")]
        assert formats == ["application/json", "text/xml"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_services_and_definition(client, world, fmt):
    code = await jurisdiction(client, world)
    r = await client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": code,
                                                           "lang": "zh-CN"})
    assert r.status_code == 200, r.text
    if fmt == "json":
        services = assert_json(r)
        repair = next(s for s in services if s["service_code"] == "repair")
        assert repair["type"] == "realtime" and repair["metadata"] is True
        assert repair["service_name"] == "维修" and repair["group"]
    else:
        root = xml(r)
        assert root.tag == "services"
        codes = [s.findtext("service_code") for s in root.findall("service")]
        assert "repair" in codes and "neighbour_dispute" in codes
        assert root.find("service/metadata").text == "true"

    r = await client.get(f"{BASE}/services/repair.{fmt}", params={"jurisdiction_id": code})
    assert r.status_code == 200, r.text
    if fmt == "json":
        body = assert_json(r)
        assert body["service_code"] == "repair"
        priority = next(a for a in body["attributes"] if a["code"] == "priority")
        assert priority["datatype"] == "singlevaluelist"
        assert {v["key"] for v in priority["values"]} == {"normal", "urgent", "emergency"}
    else:
        root = xml(r)
        assert root.tag == "service_definition" and root.findtext("service_code") == "repair"
        keys = [v.findtext("key") for v in root.iterfind("attributes/attribute/values/value")]
        assert keys == ["normal", "urgent", "emergency"]

    assert_spec_error(await client.get(f"{BASE}/services/nothing.{fmt}",
                                       params={"jurisdiction_id": code}), 404, fmt)
    assert_spec_error(await client.get(f"{BASE}/services.{fmt}",
                                       params={"jurisdiction_id": "no-such-city"}), 400, fmt)
    # several tenants in the test database: the jurisdiction (or a key naming it) is required
    assert_spec_error(await client.get(f"{BASE}/services.{fmt}"), 400, fmt)
    key = world.a1.open311_api_key
    assert (await client.get(f"{BASE}/services.{fmt}", params={"api_key": key})).status_code == 200
    other = (await client.get("/api/v1/tenant",
                              headers=await headers(client, world, "bureau:admin", "b"))).json()
    assert_spec_error(await client.get(f"{BASE}/services.{fmt}",
                                       params={"api_key": key, "jurisdiction_id": other["code"]}),
                      400, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_post_request_then_read_it_back(client, world, fmt):
    r = await file_request(client, world, fmt, description=f"open311 {fmt} 路灯不亮",
                           **{"attribute[priority]": "urgent"})
    assert r.status_code == 201, r.text
    if fmt == "json":
        answer = assert_json(r)[0]
        assert set(answer) == {"service_request_id", "service_notice", "account_id"}
        request_id = answer["service_request_id"]
    else:
        root = xml(r)
        assert root.tag == "service_requests"
        request_id = root.findtext("request/service_request_id")
        assert root.find("request/service_notice").text
    for secret in ("13977776666", "小明", "wang@example.com"):
        assert secret not in r.text

    # the case went through the normal intake: channel, routing, deadlines, the reporter
    h = await headers(client, world, "bureau:admin")
    case = (await client.get(f"/api/v1/cases/{request_id}", headers=h)).json()
    assert case["channel"] == "open311" and case["priority"] == "urgent"
    assert case["responsible_organization_id"] in world.a1.orgs.values()  # routed as usual
    agency = (await client.get(f"/api/v1/organizations/{case['responsible_organization_id']}",
                               headers=h)).json()["name"]
    stored = (await fetch("SELECT reporter_name, reporter_phone, reporter_user FROM case_record"
                          " WHERE id = $1", int(request_id)))[0]
    assert stored == {"reporter_name": "王 小明", "reporter_phone": "13977776666",
                      "reporter_user": None}

    key = world.a1.open311_api_key
    r = await client.get(f"{BASE}/requests/{request_id}.{fmt}", params={"api_key": key})
    assert r.status_code == 200, r.text
    if fmt == "json":
        one = assert_json(r)[0]
        assert set(one) == REQUEST_FIELDS
        assert one["status"] == "open" and one["service_code"] == "repair"
        assert one["agency_responsible"] == agency
        assert one["expected_datetime"] and one["expected_datetime"].endswith("Z")
        assert one["address"] == "3号楼2单元" and abs(one["lat"] - 31.2304) < 1e-3
    else:
        root = xml(r)
        request = root.find("request")
        assert root.tag == "service_requests" and request is not None
        assert {child.tag for child in request} == REQUEST_FIELDS
        assert request.findtext("status") == "open"
    for secret in ("13977776666", "小明", "wang@example.com", "139****6666"):
        assert secret not in r.text

    r = await client.get(f"{BASE}/tokens/{request_id}.{fmt}", params={"api_key": key})
    assert r.status_code == 200, r.text
    if fmt == "json":
        assert assert_json(r) == [{"service_request_id": request_id, "token": request_id}]
    else:
        assert xml(r).findtext("request/service_request_id") == request_id


async def test_list_filters_and_status_notes(client, world):
    key = world.a1.open311_api_key
    first = (await file_request(client, world, service_code="greening",
                                description="草坪枯了")).json()[0]["service_request_id"]
    second = (await file_request(client, world, service_code="sanitation",
                                 description="垃圾未清")).json()[0]["service_request_id"]

    async def ids(**params) -> list[str]:
        r = await client.get(f"{BASE}/requests.json", params={"api_key": key, **params})
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    listed = await ids()
    assert first in listed and second in listed
    assert str(world.a1.case) in listed  # the resident's app case of the same estate
    assert await ids(service_request_id=f"{first},{second}") == [second, first]
    by_code = await ids(service_code="greening")
    assert first in by_code and second not in by_code
    assert first in await ids(status="open") and first not in await ids(status="closed")
    assert await ids(start_date="2000-01-01T00:00:00Z", end_date="2000-01-02T00:00:00Z") == []
    assert first in await ids(start_date="2000-01-01T00:00:00Z")
    assert_spec_error(await client.get(f"{BASE}/requests.json",
                                       params={"api_key": key, "status": "pending"}), 400)
    assert_spec_error(await client.get(f"{BASE}/requests.json",
                                       params={"api_key": key, "start_date": "yesterday"}), 400)

    # a public comment becomes the status notes; an internal one never shows
    h = await headers(client, world, "bureau:admin")
    r = await client.post(f"/api/v1/cases/{first}/comments", headers=h,
                          json={"text": "已安排园林工人", "visibility": "public"})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/cases/{first}/comments", headers=h,
                          json={"text": "内部：供应商缺货", "visibility": "internal"})
    assert r.status_code == 201, r.text
    r = await client.get(f"{BASE}/requests/{first}.xml", params={"api_key": key})
    assert xml(r).findtext("request/status_notes") == "已安排园林工人"
    assert "供应商" not in r.text


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_errors_in_spec_format(client, world, fmt):
    # no key
    assert_spec_error(await client.get(f"{BASE}/requests.{fmt}"), 401, fmt)
    assert_spec_error(await client.post(f"{BASE}/requests.{fmt}",
                                        data={"service_code": "repair"}), 401, fmt)
    assert_spec_error(await client.get(f"{BASE}/requests.{fmt}", params={"api_key": "o311_nope"}),
                      403, fmt)
    # unknown service code, missing fields
    assert_spec_error(await file_request(client, world, fmt, service_code="teleport"), 404, fmt)
    assert_spec_error(await file_request(client, world, fmt, description=""), 400, fmt)
    assert_spec_error(await file_request(client, world, fmt, jurisdiction_id="elsewhere"), 400, fmt)
    assert_spec_error(await file_request(client, world, fmt, address_id=""), 400, fmt)
    assert_spec_error(await file_request(client, world, fmt, address_id="abc"), 400, fmt)
    # an estate outside the key's organisation's coverage (same tenant, street 2)
    assert_spec_error(await file_request(client, world, fmt, address_id=str(world.a2.estate)),
                      403, fmt)
    assert_spec_error(await file_request(client, world, fmt, address_id="",
                                         **{"attribute[estate_id]": str(world.b.estate)}), 403, fmt)
    # a building of another estate
    assert_spec_error(await file_request(client, world, fmt,
                                         **{"attribute[building_id]": str(world.a2.building)}),
                      400, fmt)
    assert_spec_error(await client.get(f"{BASE}/requests/999999999.{fmt}",
                                       params={"api_key": world.a1.open311_api_key}), 404, fmt)


async def test_xml_escapes_text(client, world):
    r = await file_request(client, world, "xml", description='<b>"漏水" & 停电</b>')
    request_id = xml(r).findtext("request/service_request_id")
    r = await client.get(f"{BASE}/requests/{request_id}.xml",
                         params={"api_key": world.a1.open311_api_key})
    assert xml(r).findtext("request/description") == '<b>"漏水" & 停电</b>'


async def test_other_keys_see_nothing_of_this_side(client, world):
    mine = (await file_request(client, world)).json()[0]["service_request_id"]
    for other in (world.a2.open311_api_key, world.b.open311_api_key):
        r = await client.get(f"{BASE}/requests.json",
                             params={"api_key": other, "start_date": "2000-01-01T00:00:00Z"})
        assert r.status_code == 200
        assert world.a1.marker not in r.text
        assert mine not in [x["service_request_id"] for x in r.json()]
        for path in (f"requests/{mine}.json", f"tokens/{mine}.json", f"requests/{world.a1.case}"):
            assert_spec_error(await client.get(f"{BASE}/{path}", params={"api_key": other}), 404)


async def test_key_administration_and_revocation(client, world):
    org = world.a1.orgs["property_company"]
    admin = await headers(client, world, "property_company:admin")
    r = await client.post(f"/api/v1/organizations/{org}/open311-keys", headers=admin,
                          json={"name": "12345 热线"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["key"].startswith("o311_")
    listed = (await client.get(f"/api/v1/organizations/{org}/open311-keys", headers=admin)).json()
    assert created["id"] in [k["id"] for k in listed]
    assert all(k["key"] is None for k in listed)  # shown once only

    r = await file_request(client, world, key=created["key"])
    assert r.status_code == 201, r.text

    # not an administrator of the organisation; another tenant
    manager = await headers(client, world, "property_company:manager")
    r = await client.post(f"/api/v1/organizations/{org}/open311-keys", headers=manager, json={})
    assert r.status_code == 403
    other = await headers(client, world, "bureau:admin", side="b")
    assert (await client.delete(f"/api/v1/open311-keys/{created['id']}", headers=other)
            ).status_code == 404
    # the tenant's bureau admin may revoke it; the key stops working at once
    bureau = await headers(client, world, "bureau:admin")
    assert (await client.delete(f"/api/v1/open311-keys/{created['id']}", headers=bureau)
            ).status_code == 204
    assert_spec_error(await file_request(client, world, key=created["key"]), 403)
    assert_spec_error(await client.get(f"{BASE}/requests.xml", params={"api_key": created["key"]}),
                      403, "xml")


async def test_status_notes_never_quote_the_reporter(client, world):
    case = await report(client, world, description="阳台渗水")
    resident = await headers(client, world, "resident")
    r = await client.post(f"/api/v1/cases/{case['id']}/comments", headers=resident,
                          json={"text": "请打我电话 13900001234", "visibility": "public"})
    assert r.status_code == 201, r.text
    r = await client.get(f"{BASE}/requests/{case['id']}.json",
                         params={"api_key": world.a1.open311_api_key})
    assert r.status_code == 200, r.text
    assert r.json()[0]["status_notes"] == "" and "13900001234" not in r.text


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_request_placed_only_by_lat_long_gets_a_clear_spec_error(client, world, fmt):
    r = await file_request(client, world, fmt, address_id="")
    text = assert_spec_error(r, 400, fmt)
    assert "address_id" in text and "lat/long" in text


async def test_get_requests_near_a_point_filters_by_radius_and_needs_both_coordinates(client, world):
    key = world.a1.open311_api_key
    near = assert_json(await file_request(client, world, lat="31.100000", long="121.300000",
                                          description="附近：路灯"))[0]["service_request_id"]
    far = assert_json(await file_request(client, world, lat="31.120000", long="121.300000",
                                         description="远处：路灯"))[0]["service_request_id"]
    found = assert_json(await client.get(f"{BASE}/requests.json", params={
        "api_key": key, "lat": "31.1001", "long": "121.3001", "radius": "300"}))
    ids = {r["service_request_id"] for r in found}
    assert near in ids and far not in ids  # 0.02° of latitude is about 2.2 km
    wide = assert_json(await client.get(f"{BASE}/requests.json", params={
        "api_key": key, "lat": "31.1001", "long": "121.3001", "radius": "5000"}))
    assert {near, far} <= {r["service_request_id"] for r in wide}
    assert_spec_error(await client.get(f"{BASE}/requests.json", params={
        "api_key": key, "lat": "31.1"}), 400)
    # another organisation's key never sees them, however close it asks
    other = assert_json(await client.get(f"{BASE}/requests.json", params={
        "api_key": world.a2.open311_api_key, "lat": "31.1001", "long": "121.3001",
        "radius": "5000"}))
    assert not {near, far} & {r["service_request_id"] for r in other}
