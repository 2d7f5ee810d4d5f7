import re
import secrets

import httpx
import pytest

from core.db import fetch
from core.settings import get_settings
from tests.factories import PASSWORD, login


async def test_login_returns_bearer_token_that_identifies_the_user(client, world):
    username = world.a1.users["owners_committee:chair"]
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201
    token = r.json()["token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == username
    assert [m["organization_kind"] for m in body["memberships"]] == ["owners_committee"]


async def test_wrong_password_is_refused_with_a_problem_document(client, world):
    r = await client.post("/api/v1/auth/login", json={"username": world.a1.users["owners_committee:member"],
                                                      "password": "nope"},
                          headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 401


async def test_api_without_token_is_401(client, world):
    r = await client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["type"] == "/problems/unauthenticated"


async def test_logout_revokes_the_token(client, world):
    username = world.a1.users["property_company:handler"]
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_health_reports_every_component(client, world):
    r = await client.get("/health")
    body = r.json()
    assert set(body["checks"]) == {"database", "redis", "queue"}
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["redis"]["status"] == "up"
    assert r.status_code == 200


# --- helpers for the tests below ---------------------------------------------------------------
EN = {"Accept-Language": "en"}


async def _fresh_user(client, world, **fields) -> dict:
    """A user of tenant A's owners' committee that no other test signs in as."""
    admin = await login(client, world.a1.users["bureau:admin"])
    body = {"username": f"auth{secrets.token_hex(4)}", "password": PASSWORD, "display_name": "测试用户",
            "organization_id": world.a1.orgs["owners_committee"], "role": "member", **fields}
    r = await client.post("/api/v1/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


async def _token(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}", **EN}


@pytest.fixture
async def web(app, client):
    """A browser-like client with its own cookie jar (the shared client keeps none of this)."""
    transport = httpx.ASGITransport(app=app, client=("10.9.8.9", 41000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


async def _login_form(web) -> str:
    r = await web.get("/login")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    match = re.search(r'name="_csrf_token" value="([^"]+)"', r.text)
    assert match, "the login form carries no CSRF token"
    return match.group(1)


def _set_cookie(r, name: str) -> str:
    return next(c for c in r.headers.get_list("set-cookie") if c.startswith(f"{name}="))


def _cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


# --- password change -----------------------------------------------------------------------------
async def test_password_change_needs_the_current_password_and_follows_the_policy(client, world):
    user = await _fresh_user(client, world)
    h = await _token(client, user["username"])
    r = await client.post("/api/v1/auth/password", json={"current_password": "Wrong-password-1",
                                                         "new_password": "Brand-new-pass-2027"}, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == "The current password is wrong."
    assert [e["field"] for e in r.json()["errors"]] == ["current_password"]
    r = await client.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                         "new_password": "short"}, headers=h)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"new_password"}
    # Nothing changed: the old password still signs in.
    await _token(client, user["username"])


async def test_password_change_revokes_other_tokens_but_keeps_the_current_one(client, world):
    user = await _fresh_user(client, world)
    current = await _token(client, user["username"])
    other = await _token(client, user["username"])
    new_password = "Brand-new-pass-2027"
    r = await client.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                         "new_password": new_password}, headers=current)
    assert r.status_code == 204, r.text
    assert (await client.get("/api/v1/me", headers=current)).status_code == 200
    assert (await client.get("/api/v1/me", headers=other)).status_code == 401
    r = await client.post("/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD})
    assert r.status_code == 401
    await _token(client, user["username"], new_password)
    rows = await fetch("SELECT action FROM audit_entry WHERE subject_type = 'user' AND subject_id = $1"
                       " AND action = 'auth.password_changed'", str(user["id"]))
    assert len(rows) == 1


# --- lockout -------------------------------------------------------------------------------------
async def _fail(client, username: str, times: int) -> list[dict]:
    bodies = []
    for _ in range(times):
        r = await client.post("/api/v1/auth/login", json={"username": username, "password": "Not-it-123456"},
                              headers=EN)
        assert r.status_code == 401, r.text
        bodies.append(r.json())
    return bodies


def _shape(r) -> tuple:
    body = r.json()
    return r.status_code, body["type"], body["title"], body.get("detail"), "retry-after" in r.headers


async def test_repeated_failures_lock_the_account_even_for_the_right_password(client, world):
    user = await _fresh_user(client, world)
    failures = get_settings().login_max_failures
    await _fail(client, user["username"], failures)
    r = await client.post("/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD},
                          headers=EN)
    assert r.status_code == 423, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/locked"
    retry_after = int(r.headers["retry-after"])
    assert 0 < retry_after <= get_settings().login_lockout_minutes * 60
    assert "token" not in r.json()


async def test_lockout_does_not_reveal_whether_the_username_exists(client, world):
    user = await _fresh_user(client, world)
    failures = get_settings().login_max_failures
    known = await _fail(client, user["username"], failures)
    unknown_name = f"nobody{secrets.token_hex(4)}"
    unknown = await _fail(client, unknown_name, failures)
    strip = lambda b: {k: v for k, v in b.items() if k not in ("request_id",)}  # noqa: E731
    assert [strip(b) for b in known] == [strip(b) for b in unknown]

    locked_known = await client.post("/api/v1/auth/login", json={"username": user["username"],
                                                                 "password": PASSWORD}, headers=EN)
    locked_unknown = await client.post("/api/v1/auth/login", json={"username": unknown_name,
                                                                   "password": PASSWORD}, headers=EN)
    assert _shape(locked_known) == _shape(locked_unknown)
    assert locked_known.status_code == 423


async def test_locked_account_is_also_refused_by_the_web_form_with_retry_after(client, world, web):
    user = await _fresh_user(client, world)
    await _fail(client, user["username"], get_settings().login_max_failures)
    token = await _login_form(web)
    r = await web.post("/login", data={"username": user["username"], "password": PASSWORD,
                                       "_csrf_token": token})
    assert r.status_code == 423
    assert int(r.headers["retry-after"]) > 0
    assert "gz_session" not in r.headers.get("set-cookie", "")


# --- the web login form ----------------------------------------------------------------------------
async def test_login_form_carries_a_csrf_token_in_cookie_and_hidden_input(web):
    r = await web.get("/login")
    assert r.status_code == 200
    cookie = _set_cookie(r, "gz_csrf")
    assert "samesite=lax" in cookie.lower()
    match = re.search(r'<input type="hidden" name="_csrf_token" value="([^"]+)"', r.text)
    assert match and match.group(1) == _cookie_value(cookie)


async def test_login_post_without_the_csrf_token_is_403(web, world):
    await _login_form(web)
    r = await web.post("/login", data={"username": world.a1.users["owners_committee:chair"],
                                       "password": PASSWORD})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "gz_session" not in r.headers.get("set-cookie", "")


async def test_web_login_sets_an_httponly_session_and_home_lists_the_organisations(web, world):
    token = await _login_form(web)
    username = world.a1.users["owners_committee:chair"]
    r = await web.post("/login", data={"username": username, "password": PASSWORD, "_csrf_token": token})
    assert r.status_code in (302, 303) and r.headers["location"] == "/"
    cookie = _set_cookie(r, "gz_session")
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
    # The cookie lives as long as the session, not for decades.
    max_age = int(next(a for a in attributes if a.startswith("max-age=")).split("=")[1])
    assert 0 < max_age <= get_settings().session_ttl_hours * 3600

    home = await web.get("/")
    assert home.status_code == 200
    assert f"{world.a1.marker} owners_committee" in home.text
    assert 'data-org-kind="owners_committee"' in home.text


async def test_logout_revokes_the_web_session(web, world):
    token = await _login_form(web)
    r = await web.post("/login", data={"username": world.a1.users["residents_committee:grid_worker"],
                                       "password": PASSWORD, "_csrf_token": token})
    session = _cookie_value(_set_cookie(r, "gz_session"))
    assert (await web.get("/")).status_code == 200
    r = await web.post("/logout", data={"_csrf_token": token})
    assert r.status_code in (302, 303) and r.headers["location"] == "/login"
    assert "max-age=0" in _set_cookie(r, "gz_session").lower()
    # The old cookie value is dead on the server, not merely forgotten by the browser.
    web.cookies.clear()
    r = await web.get("/", headers={"Cookie": f"gz_session={session}"})
    assert r.status_code in (302, 303) and r.headers["location"] == "/login"
    rows = await fetch("SELECT revoked_at FROM auth_token WHERE token_hash = encode(sha256($1::bytea), 'hex')",
                       session.encode())
    assert rows and rows[0]["revoked_at"] is not None


async def test_a_session_cookie_planted_before_login_is_not_the_one_issued(web, world):
    planted = secrets.token_urlsafe(32)
    web.cookies.set("gz_session", planted, domain="testserver.local")
    token = await _login_form(web)
    r = await web.post("/login", data={"username": world.a1.users["owners_committee:member"],
                                       "password": PASSWORD, "_csrf_token": token})
    assert r.status_code in (302, 303)
    issued = _cookie_value(_set_cookie(r, "gz_session"))
    assert issued != planted
    web.cookies.clear()
    r = await web.get("/", headers={"Cookie": f"gz_session={planted}"})
    assert r.status_code in (302, 303) and r.headers["location"] == "/login"
    assert (await web.get("/", headers={"Cookie": f"gz_session={issued}"})).status_code == 200


async def test_the_api_ignores_session_cookies_so_cross_site_requests_carry_no_authority(web, world):
    token = await _login_form(web)
    r = await web.post("/login", data={"username": world.a1.users["bureau:admin"], "password": PASSWORD,
                                       "_csrf_token": token})
    session = _cookie_value(_set_cookie(r, "gz_session"))
    web.cookies.clear()
    cookie = {"Cookie": f"gz_session={session}"}
    assert (await web.get("/", headers=cookie)).status_code == 200  # a live, powerful session
    assert (await web.get("/api/v1/me", headers=cookie)).status_code == 401
    name = f"CSRF street {secrets.token_hex(3)}"
    r = await web.post("/api/v1/streets", json={"name": name}, headers={**cookie, "Origin": "https://evil.example"})
    assert r.status_code == 401
    assert not await fetch("SELECT id FROM street WHERE name = $1", name)


async def test_login_with_an_idempotency_key_stores_no_token(client, world):
    username = world.a1.users["owners_committee:member"]
    headers = {"Idempotency-Key": "login-once"}
    first = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD},
                              headers=headers)
    second = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD},
                               headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["token"] != second.json()["token"]
    stored = await fetch("SELECT body FROM idempotency_record WHERE body IS NOT NULL")
    for row in stored:
        assert first.json()["token"].encode() not in bytes(row["body"])


async def test_lockout_is_per_exact_username(client, world):
    username = world.a1.users["residents_committee:grid_worker"]
    for _ in range(5):
        await client.post("/api/v1/auth/login", json={"username": username.upper(), "password": "x"})
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201
