"""Web security across the whole app: every state-changing page route refuses a request that
lacks the CSRF token, even from a logged-in browser session; and the secrets people type or
receive (passwords, API and session tokens, webhook secrets, signing PINs) never reach a log line.

(Session fixation, cookie flags, login throttling and the password policy are proven in
tests/tenancy/test_auth.py; upload limits in tests/core/test_images.py and the attachment tests;
the CSP in tests/gongzhi/test_app.py and the browser journeys, which fail on any CSP report.)
"""
from __future__ import annotations

import logging
import re

import httpx
from litestar.routes import HTTPRoute

from gongzhi.app import CSRF_EXEMPT
from tests.factories import PASSWORD, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def form_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every page route that changes something (CSRF applies to them)."""
    out = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(tuple(CSRF_EXEMPT)):
            continue
        for method in route.methods & UNSAFE:
            out.add((method, route.path))
    return sorted(out)


async def _web_session(app, username: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.8.10", 41001)),
                          base_url="http://testserver.local")
    page = await c.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    r = await c.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                     "_csrf_token": token})
    assert r.status_code in (302, 303), r.text
    assert c.cookies.get("gz_session")
    return c


async def test_every_form_refuses_a_post_without_the_csrf_token(app, world):
    routes = form_routes(app)
    assert len(routes) > 20  # the login form, cases, evaluations, meetings, documents pages ...
    c = await _web_session(app, world.a1.users["owners_committee:chair"])
    try:
        accepted = []
        for method, path in routes:
            url = PARAM.sub("1", path)
            r = await c.request(method, url, data={"anything": "x"})
            if r.status_code != 403:
                accepted.append(f"{method} {path}: {r.status_code}")
        assert accepted == [], "answered without a CSRF token:\n" + "\n".join(accepted)
        # ... while the session itself is valid: a page loads.
        assert (await c.get("/")).status_code == 200
    finally:
        await c.aclose()


async def _fresh_member(world) -> str:
    """A new owners' committee member with no signing certificate yet."""
    import secrets

    from core.db import db
    from tests.factories import _user

    name = f"logtest_{secrets.token_hex(3)}"
    async with db().transaction():
        await _user(world.tenant_a, name, world.a1.orgs["owners_committee"], "member", world.a1,
                    f"owners_committee:{name}")
    return name


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted still must not hide a secret
            self.lines.append(f"{record.msg!r} {record.args!r}")


async def test_passwords_tokens_webhook_secrets_and_pins_never_reach_the_logs(
        client, world, monkeypatch):
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    from core.settings import reset_settings

    reset_settings()
    root = logging.getLogger()
    collect = _Collect()
    collect.setFormatter(next((h.formatter for h in root.handlers if h.formatter), None))
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    secrets_seen: list[str] = [PASSWORD]
    try:
        username = world.a1.users["property_company:admin"]
        r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 201
        token = r.json()["token"]
        secrets_seen.append(token)
        h = {"Authorization": f"Bearer {token}"}
        bad = await client.post("/api/v1/auth/login",
                                json={"username": username, "password": "Wrong-password-2026"})
        assert bad.status_code == 401
        secrets_seen.append("Wrong-password-2026")
        hook = await client.post(
            f"/api/v1/organizations/{world.a1.orgs['property_company']}/webhooks", headers=h,
            json={"url": "http://127.0.0.1:9/hooks/log-test", "topics": ["case.*"]})
        assert hook.status_code == 201, hook.text
        secrets_seen.append(hook.json()["secret"])
        pin = "719364"
        signer = await login(client, await _fresh_member(world))
        enrol = await client.post("/api/v1/signing/me", headers=signer, json={"pin": pin})
        assert enrol.status_code in (200, 201), enrol.text
        secrets_seen.append(pin)
        await client.get("/api/v1/me", headers=h)
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
        monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE")
        reset_settings()
    assert len(collect.lines) >= 3  # the requests above were logged ...
    leaks = [line for line in collect.lines for s in secrets_seen if s in line]
    assert leaks == []  # ... without any secret in them
