"""Every error the HTTP layer sends is an RFC 9457 problem document that can be traced by its
request id, including the ones Litestar produces before any route handler runs."""
from __future__ import annotations

import re
import secrets

import pytest

from core.i18n import gettext
from tests.factories import login

PROBLEM = "application/problem+json"
MAX_BODY = 20 * 1024 * 1024


def _request_id() -> str:
    return f"test-{secrets.token_hex(8)}"


def _assert_problem(r, status: int, request_id: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert {"type", "title", "status", "instance", "request_id"} <= set(body), body
    assert body["status"] == status
    assert body["type"].startswith("/problems/") and body["title"]
    assert body["instance"] == r.request.url.path
    assert r.headers["x-request-id"] == body["request_id"]
    if request_id is not None:
        assert body["request_id"] == request_id
    assert r.headers["x-content-type-options"] == "nosniff"
    return body


async def test_unknown_route_is_a_404_problem(client, world):
    r = await client.get("/no/such/page", headers={"Accept-Language": "en"})
    body = _assert_problem(r, 404)
    assert body["type"] == "/problems/not-found" and body["title"] == "Not found"
    assert "detail" not in body  # Litestar's English reason phrase is not repeated
    r = await client.get("/api/v1/no-such-thing", headers=await login(client, world.a1.users["bureau:admin"]))
    _assert_problem(r, 404)


async def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(client, world):
    r = await client.delete("/api/v1/streets", headers=await login(client, world.a1.users["bureau:admin"]))
    body = _assert_problem(r, 405)
    assert body["type"] == "/problems/method-not-allowed"
    assert {"GET", "POST"} <= {m.strip() for m in r.headers["allow"].split(",")}


async def test_oversized_body_is_a_413_problem_with_or_without_an_idempotency_key(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    payload = b"x" * (MAX_BODY + 1)
    for extra in ({}, {"Idempotency-Key": f"big-{secrets.token_hex(4)}"}):
        r = await client.post("/api/v1/streets", content=payload,
                              headers={**h, **extra, "Content-Type": "application/json"})
        body = _assert_problem(r, 413)
        assert body["type"] == "/problems/too-large"


async def _requests(client, world):
    """(label, expected status, coroutine factory taking the request id) for many failure kinds."""
    admin = await login(client, world.a1.users["bureau:admin"])
    member = await login(client, world.a1.users["owners_committee:member"])
    street = world.a1.street

    def with_id(headers):
        return lambda rid: {**headers, "X-Request-ID": rid}

    return [
        ("validation", 400, lambda rid: client.post("/api/v1/streets", json={"name": ""},
                                                     headers=with_id(admin)(rid))),
        ("malformed json", 400, lambda rid: client.post("/api/v1/streets", content=b"{",
                                                         headers={**with_id(admin)(rid),
                                                                  "Content-Type": "application/json"})),
        ("no token", 401, lambda rid: client.get("/api/v1/me", headers={"X-Request-ID": rid})),
        ("bad token", 401, lambda rid: client.get("/api/v1/me", headers={"X-Request-ID": rid,
                                                                          "Authorization": "Bearer nope"})),
        ("forbidden", 403, lambda rid: client.post("/api/v1/streets", json={"name": "x"},
                                                    headers=with_id(member)(rid))),
        ("csrf", 403, lambda rid: client.post("/logout", headers={"X-Request-ID": rid})),
        ("not found", 404, lambda rid: client.get("/api/v1/streets/2000000000", headers=with_id(admin)(rid))),
        ("no route", 404, lambda rid: client.get("/nowhere", headers={"X-Request-ID": rid})),
        ("method", 405, lambda rid: client.put("/api/v1/streets", headers={"X-Request-ID": rid})),
        ("conflict", 409, lambda rid: client.post("/api/v1/streets", json={"name": f"{world.a1.marker} 街道"},
                                                   headers=with_id(admin)(rid))),
        ("invalid", 422, lambda rid: client.post("/api/v1/communities", json={"street_id": 2_000_000_000,
                                                                               "name": "x"},
                                                  headers=with_id(admin)(rid))),
        ("bad idempotency key", 400, lambda rid: client.post(
            "/api/v1/streets", json={"name": "x"}, headers={**with_id(admin)(rid), "Idempotency-Key": "k" * 201})),
        ("not a street id", 404, lambda rid: client.get(f"/api/v1/streets/{street}x",
                                                         headers=with_id(admin)(rid))),
    ]


async def test_every_problem_has_the_standard_members_and_echoes_the_request_id(client, world):
    for label, status, send in await _requests(client, world):
        rid = _request_id()
        r = await send(rid)
        try:
            _assert_problem(r, status, rid)
        except AssertionError as exc:
            raise AssertionError(f"{label}: {exc}") from exc


@pytest.mark.parametrize("incoming", ["short", "has spaces in it", "x" * 65, "semi;colon-123456"])
async def test_an_unusable_incoming_request_id_is_replaced(client, world, incoming):
    r = await client.get("/nowhere", headers={"X-Request-ID": incoming})
    body = _assert_problem(r, 404)
    assert body["request_id"] != incoming and re.fullmatch(r"[0-9a-f]{32}", body["request_id"])


async def test_problem_titles_and_details_follow_the_callers_language(client, world):
    h = await login(client, world.a1.users["bureau:admin"])  # profile language: zh-CN
    for lang in ("en", "zh-CN"):
        r = await client.get("/nowhere", headers={"Accept-Language": lang})
        assert _assert_problem(r, 404)["title"] == gettext("Not found", lang)
        # An API client's Accept-Language wins over the profile: it is sent on purpose.
        r = await client.post("/api/v1/streets", content=b"{", headers={**h, "Accept-Language": lang,
                                                                          "Content-Type": "application/json"})
        body = _assert_problem(r, 400)
        assert body["title"] == gettext("Bad request", lang)
        assert body["detail"] == gettext("The request body is not valid JSON.", lang)
    assert (await client.get("/nowhere", headers={"Accept-Language": "en"})).json()["title"] == "Not found"
    # ?lang= beats everything.
    r = await client.get("/nowhere?lang=en", headers={"Accept-Language": "zh-CN"})
    assert r.json()["title"] == "Not found"


async def test_unexpected_errors_are_a_500_problem_without_internals(client, world, monkeypatch):
    from tenancy import accounts

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(accounts, "me", boom)
    r = await client.get("/api/v1/me", headers={**await login(client, world.a1.users["bureau:admin"]),
                                                "Accept-Language": "en"})
    body = _assert_problem(r, 500)
    assert "secret internal detail" not in r.text
    assert body["detail"] == "Something went wrong on our side; it has been logged."


async def test_text_postgresql_cannot_store_is_a_400_problem_not_a_500(client, world):
    from tests.factories import login

    h = await login(client, world.a1.users["bureau:admin"])
    r = await client.get("/api/v1/cases", params={"q": "漏水\x00"}, headers=h)
    assert r.status_code in (200, 400), r.text
    r = await client.post("/api/v1/streets", json={"name": "街道\x00", "code": "NUL1"}, headers=h)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
