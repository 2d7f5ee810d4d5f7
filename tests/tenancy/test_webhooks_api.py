"""The webhooks API: only the organisation's admins and the tenant admin manage its webhooks,
and the signing secret is shown once."""
from __future__ import annotations

import pytest

from core.db import fetch
from core.i18n import gettext
from core.settings import get_settings
from tests.factories import login

EN = {"Accept-Language": "en"}
URL = "http://127.0.0.1:1/gongzhi"  # nothing listens there: deliveries fail fast


@pytest.fixture
def allow_private(monkeypatch):
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)


async def _as(client, world, side: str, persona: str) -> dict[str, str]:
    return {**await login(client, getattr(world, side).users[persona]), **EN}


async def _create(client, headers, org: int, topics=("case.*",), url: str = URL):
    return await client.post(f"/api/v1/organizations/{org}/webhooks",
                             json={"url": url, "topics": list(topics)}, headers=headers)


async def test_an_org_admin_subscribes_and_sees_the_secret_only_in_the_creation_answer(
        client, world, allow_private):
    org = world.a1.orgs["owners_committee"]
    h = await _as(client, world, "a1", "owners_committee:admin")
    r = await _create(client, h, org, ["case.*", "meeting.minutes_sealed", "case.*"])
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created.pop("secret")
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["organization_id"] == org and created["url"] == URL and created["active"]
    assert created["topics"] == ["case.*", "meeting.minutes_sealed"]

    listed = await client.get(f"/api/v1/organizations/{org}/webhooks", headers=h)
    assert listed.status_code == 200
    assert created in listed.json()
    hook = created["id"]
    test = await client.post(f"/api/v1/webhooks/{hook}/test", headers=h)
    assert test.status_code == 202 and test.json()["event_id"] > 0
    log = await client.get(f"/api/v1/webhooks/{hook}/deliveries", headers=h)
    assert log.status_code == 200 and log.json() == []  # nothing published yet
    for later in (listed, test, log):
        assert secret not in later.text and "secret" not in later.text
    stored = await fetch("SELECT * FROM webhook_subscription WHERE id = $1", hook)
    assert secret not in repr(stored)
    audit = await fetch("SELECT data FROM audit_entry WHERE tenant_id = $1 AND action = 'webhook.created'"
                        " AND subject_id = $2", world.tenant_a, str(hook))
    assert len(audit) == 1 and secret not in repr(audit)


async def test_the_tenant_admin_manages_any_organisations_webhooks(client, world, allow_private):
    h = await _as(client, world, "a1", "bureau:admin")
    r = await _create(client, h, world.a1.orgs["property_company"], ["*"])
    assert r.status_code == 201, r.text
    hook = r.json()["id"]
    assert (await client.delete(f"/api/v1/webhooks/{hook}", headers=h)).status_code == 204
    assert (await client.get(f"/api/v1/webhooks/{hook}/deliveries", headers=h)).status_code == 404
    listed = await client.get(f"/api/v1/organizations/{world.a1.orgs['property_company']}/webhooks",
                              headers=h)
    assert hook not in [w["id"] for w in listed.json()]


async def test_a_plain_member_is_forbidden_and_outsiders_are_told_nothing(client, world, allow_private):
    org = world.a1.orgs["property_company"]
    admin = await _as(client, world, "a1", "property_company:admin")
    r = await _create(client, admin, org)
    assert r.status_code == 201, r.text
    hook = r.json()["id"]
    callers = {403: [await _as(client, world, "a1", "property_company:handler"),
                     await _as(client, world, "a1", "property_company:manager")],
               404: [await _as(client, world, "b", "bureau:admin"),
                     await _as(client, world, "a2", "property_company:admin")]}
    for status, headers in callers.items():
        for h in headers:
            answers = [await _create(client, h, org),
                       await client.get(f"/api/v1/organizations/{org}/webhooks", headers=h),
                       await client.get(f"/api/v1/webhooks/{hook}/deliveries", headers=h),
                       await client.post(f"/api/v1/webhooks/{hook}/test", headers=h),
                       await client.delete(f"/api/v1/webhooks/{hook}", headers=h)]
            assert [a.status_code for a in answers] == [status] * 5, [a.text for a in answers]
            assert all(URL not in a.text for a in answers)
    listed = await client.get(f"/api/v1/organizations/{org}/webhooks", headers=admin)
    assert hook in [w["id"] for w in listed.json()]


async def test_private_addresses_are_refused_unless_allowed(client, world):
    h = await _as(client, world, "a1", "street_office:admin")
    org = world.a1.orgs["street_office"]
    r = await _create(client, h, org, url="http://192.168.0.10/hook")
    assert r.status_code == 422, r.text
    message = gettext("Webhooks may not be sent to private, loopback or link-local addresses.", "en")
    assert r.json()["errors"] == [{"field": "url", "message": message}]
    r = await _create(client, h, org, url="gopher://93.184.215.14/hook")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url"


@pytest.mark.parametrize("topics", [[], ["Case.*"], ["case.*.x"], ["case..x"], ["*.created"]])
async def test_malformed_topic_patterns_are_refused(client, world, allow_private, topics):
    h = await _as(client, world, "a1", "street_office:admin")
    r = await _create(client, h, world.a1.orgs["street_office"], topics)
    assert r.status_code in (400, 422), r.text


async def test_webhook_secret_is_never_kept_in_the_idempotency_store(client, world, allow_private):
    from core.db import fetch

    h = {**await _as(client, world, "a1", "property_company:admin"), "Idempotency-Key": "wh-1"}
    r = await _create(client, h, world.a1.orgs["property_company"])
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    for row in await fetch("SELECT body FROM idempotency_record WHERE body IS NOT NULL"):
        assert secret.encode() not in bytes(row["body"])
