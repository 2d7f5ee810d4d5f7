"""The organisations and accounts admin API: coverage rules, users, memberships, idempotent POSTs."""
from __future__ import annotations

import secrets

from core import audit
from core.db import fetch
from core.i18n import gettext
from tests.factories import PASSWORD, login

PROBLEM = "application/problem+json"
EN = {"Accept-Language": "en"}


def _tag() -> str:
    return secrets.token_hex(3)


async def _admin(client, world, side: str = "a1") -> dict[str, str]:
    return {**await login(client, getattr(world, side).users["bureau:admin"]), **EN}


async def _create_org(client, headers, kind: str, coverage: list[dict], **extra) -> dict:
    r = await client.post("/api/v1/organizations", json={"kind": kind, "name": f"{kind} {_tag()}",
                                                         "coverage": coverage, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def _create_user(client, headers, **fields) -> dict:
    body = {"username": f"u{_tag()}", "password": PASSWORD, "display_name": "新用户", **fields}
    r = await client.post("/api/v1/users", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _cov(**place: int) -> dict:
    return {"street_id": None, "community_id": None, "estate_id": None, **place}


# --- organisations ---------------------------------------------------------------------------
async def test_tenant_admin_creates_an_organisation_with_its_coverage(client, world):
    h = await _admin(client, world)
    r = await client.post("/api/v1/organizations", json={
        "kind": "property_company", "name": f"安居物业 {_tag()}", "credit_code": "91310000MA1FL0000X",
        "phone": "021-12345678",
        "coverage": [{"estate_id": world.a1.estate}, {"estate_id": world.a2.estate}]}, headers=h)
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["kind"] == "property_company" and org["credit_code"] == "91310000MA1FL0000X"
    assert org["coverage"] == [_cov(estate_id=world.a1.estate), _cov(estate_id=world.a2.estate)]
    assert (await client.get(f"/api/v1/organizations/{org['id']}", headers=h)).json() == org
    rows = await fetch("SELECT action, subject_id FROM audit_entry WHERE tenant_id = $1 AND subject_id = $2"
                       " AND subject_type = 'organization'", world.tenant_a, str(org["id"]))
    assert [r["action"] for r in rows] == ["organization.created"]


async def test_owners_committee_must_cover_exactly_one_estate(client, world):
    h = await _admin(client, world)
    message = gettext("An owners' committee belongs to exactly one estate.", "en")
    for coverage in ([], [{"estate_id": world.a1.estate}, {"estate_id": world.a2.estate}],
                     [{"community_id": world.a1.community}], [{"street_id": world.a1.street}]):
        r = await client.post("/api/v1/organizations", json={"kind": "owners_committee", "name": f"业委会 {_tag()}",
                                                             "coverage": coverage}, headers=h)
        assert r.status_code == 422, (coverage, r.text)
        assert r.headers["content-type"].startswith(PROBLEM) and r.json()["detail"] == message
    org = await _create_org(client, h, "owners_committee", [{"estate_id": world.a2.estate}])
    assert org["coverage"] == [_cov(estate_id=world.a2.estate)]


async def test_a_covered_place_names_exactly_one_known_place(client, world):
    h = await _admin(client, world)
    for item in ({}, {"street_id": world.a1.street, "estate_id": world.a1.estate}):
        r = await client.post("/api/v1/organizations", json={"kind": "property_company", "name": f"P {_tag()}",
                                                             "coverage": [item]}, headers=h)
        assert r.status_code == 422
    # Another tenant's estate is unknown here.
    r = await client.post("/api/v1/organizations", json={"kind": "property_company", "name": f"P {_tag()}",
                                                         "coverage": [{"estate_id": world.b.estate}]}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "coverage[0].estate_id"
    assert not await fetch("SELECT id FROM organization WHERE tenant = $1 AND name LIKE 'P %'", world.tenant_a)


async def test_housing_bureau_covers_the_whole_jurisdiction_and_takes_no_places(client, world):
    h = await _admin(client, world, "b")
    r = await client.post("/api/v1/organizations", json={"kind": "housing_bureau", "name": f"住建局 {_tag()}",
                                                         "coverage": [{"street_id": world.b.street}]}, headers=h)
    assert r.status_code == 422
    assert r.json()["detail"] == "The housing bureau covers the whole jurisdiction; give no places."
    org = await _create_org(client, h, "housing_bureau", [])
    assert org["coverage"] == []


async def test_put_coverage_replaces_the_places_and_keeps_the_kind_rules(client, world):
    h = await _admin(client, world)
    org = await _create_org(client, h, "residents_committee", [{"community_id": world.a1.community}])
    r = await client.put(f"/api/v1/organizations/{org['id']}/coverage",
                         json=[{"community_id": world.a2.community}, {"estate_id": world.a1.estate}], headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["coverage"] == [_cov(community_id=world.a2.community), _cov(estate_id=world.a1.estate)]
    assert (await client.get(f"/api/v1/organizations/{org['id']}", headers=h)).json()["coverage"] == \
        r.json()["coverage"]

    committee = world.a1.orgs["owners_committee"]
    r = await client.put(f"/api/v1/organizations/{committee}/coverage",
                         json=[{"estate_id": world.a1.estate}, {"estate_id": world.a2.estate}], headers=h)
    assert r.status_code == 422
    # Only the jurisdiction changes coverage, not the organisation's own admin.
    own_admin = await login(client, world.a1.users["owners_committee:admin"])
    r = await client.put(f"/api/v1/organizations/{committee}/coverage", json=[{"estate_id": world.a2.estate}],
                         headers=own_admin)
    assert r.status_code == 403
    current = (await client.get(f"/api/v1/organizations/{committee}", headers=h)).json()
    assert current["coverage"] == [_cov(estate_id=world.a1.estate)]


async def test_organisation_admin_edits_their_own_organisation_and_nobody_else_does(client, world):
    h = await _admin(client, world)
    org = await _create_org(client, h, "property_company", [{"estate_id": world.a1.estate}])
    admin = await _create_user(client, h, organization_id=org["id"], role="admin")
    manager = await _create_user(client, h, organization_id=org["id"], role="manager")
    admin_h = await login(client, admin["username"])
    new_name = f"改名物业 {_tag()}"
    r = await client.patch(f"/api/v1/organizations/{org['id']}", json={"name": new_name, "phone": "13700001111"},
                           headers=admin_h)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["phone"], r.json()["kind"]) == (new_name, "13700001111",
                                                                      "property_company")

    r = await client.patch(f"/api/v1/organizations/{org['id']}", json={"name": "经理改名"},
                           headers=await login(client, manager["username"]))
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    r = await client.patch(f"/api/v1/organizations/{world.a1.orgs['owners_committee']}", json={"name": "x"},
                           headers=admin_h)
    assert r.status_code == 403
    r = await client.patch(f"/api/v1/organizations/{org['id']}", json={"kind": "owners_committee"},
                           headers=admin_h)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "kind"


async def test_only_the_tenant_admin_creates_organisations(client, world):
    for persona in ("owners_committee:member", "street_office:admin", "bureau:staff"):
        h = await login(client, world.a1.users[persona])
        r = await client.post("/api/v1/organizations", json={
            "kind": "property_company", "name": f"越权物业 {_tag()}", "coverage": [{"estate_id": world.a1.estate}]},
            headers=h)
        assert r.status_code == 403, persona


# --- users -----------------------------------------------------------------------------------
async def test_tenant_admin_creates_a_user_with_a_membership_who_can_then_sign_in(client, world):
    h = await _admin(client, world)
    org = world.a1.orgs["residents_committee"]
    user = await _create_user(client, h, organization_id=org, role="grid_worker", phone="13600001111",
                              language="en")
    assert user["is_active"] and user["language"] == "en"
    me = (await client.get("/api/v1/me", headers=await login(client, user["username"]))).json()
    assert [(m["organization_id"], m["role"]) for m in me["memberships"]] == [(org, "grid_worker")]
    rows = await fetch("SELECT action FROM audit_entry WHERE tenant_id = $1 AND ((subject_type = 'user'"
                       " AND subject_id = $2) OR (action = 'membership.created' AND data->>'user' = $2))"
                       " ORDER BY seq", world.tenant_a, str(user["id"]))
    assert [r["action"] for r in rows] == ["user.created", "membership.created", "auth.login"]


async def test_organisation_admin_creates_users_for_their_own_organisation_only(client, world):
    h = {**await login(client, world.a1.users["property_company:admin"]), **EN}
    user = await _create_user(client, h, organization_id=world.a1.orgs["property_company"], role="handler")
    members = (await client.get(f"/api/v1/organizations/{world.a1.orgs['property_company']}/memberships",
                                headers=h)).json()
    assert (user["id"], "handler") in [(m["user_id"], m["role"]) for m in members]

    # Another organisation on the same estate is visible but not theirs; one elsewhere is unknown.
    for org_id, status in ((world.a1.orgs["owners_committee"], 403), (world.a2.orgs["property_company"], 422)):
        r = await client.post("/api/v1/users", json={"username": f"u{_tag()}", "password": PASSWORD,
                                                     "display_name": "x", "organization_id": org_id,
                                                     "role": "member"}, headers=h)
        assert r.status_code == status, r.text
    r = await client.post("/api/v1/users", json={"username": f"u{_tag()}", "password": PASSWORD,
                                                 "display_name": "无单位"}, headers=h)
    assert r.status_code == 403


async def test_password_policy_violations_are_422_with_every_reason(client, world):
    h = await _admin(client, world)
    username = f"pol{_tag()}"
    cases = {
        "short": ["The password must have at least {n} characters.",
                  "The password must contain both letters and digits."],
        "onlyletterslong": ["The password must contain both letters and digits."],
        f"X{username}-2026": ["The password must not contain the username."],
    }
    for password, reasons in cases.items():
        r = await client.post("/api/v1/users", json={"username": username, "password": password,
                                                     "display_name": "x"}, headers=h)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["detail"] == "The password does not meet the policy."
        assert [e["field"] for e in body["errors"]] == ["password"] * len(reasons)
        assert [e["message"] for e in body["errors"]] == [m.format(n=10) for m in reasons]
    assert not await fetch("SELECT id FROM app_user WHERE username = $1", username)


async def test_duplicate_username_is_409(client, world):
    h = await _admin(client, world)
    r = await client.post("/api/v1/users", json={"username": world.a1.users["owners_committee:chair"],
                                                 "password": PASSWORD, "display_name": "重复"}, headers=h)
    assert r.status_code == 409 and r.json()["detail"] == "This username is taken."
    # Usernames are unique across tenants too.
    r = await client.post("/api/v1/users", json={"username": world.b.users["owners_committee:chair"],
                                                 "password": PASSWORD, "display_name": "重复"}, headers=h)
    assert r.status_code == 409


async def test_deactivating_a_user_revokes_their_tokens_at_once(client, world):
    h = await _admin(client, world)
    user = await _create_user(client, h, organization_id=world.a1.orgs["owners_committee"], role="member")
    r = await client.post("/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD})
    token = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.get("/api/v1/me", headers=token)).status_code == 200

    r = await client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=h)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert (await client.get("/api/v1/me", headers=token)).status_code == 401
    rows = await fetch("SELECT revoked_at FROM auth_token WHERE \"user\" = $1", user["id"])
    assert rows and all(r["revoked_at"] is not None for r in rows)
    r = await client.post("/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD})
    assert r.status_code == 401
    # A user cannot deactivate themselves (the tenant would lose its admin).
    r = await client.patch(f"/api/v1/users/{world.a1.user_ids['bureau:admin']}", json={"is_active": False},
                           headers=h)
    assert r.status_code == 422


# --- memberships ------------------------------------------------------------------------------
async def test_membership_is_added_updated_and_removed(client, world):
    h = await _admin(client, world)
    user = await _create_user(client, h)
    org = world.a1.orgs["owners_committee"]
    r = await client.post(f"/api/v1/organizations/{org}/memberships", json={"user_id": user["id"], "role": "member"},
                          headers=h)
    assert r.status_code == 201, r.text
    membership = r.json()
    assert (membership["user_id"], membership["role"]) == (user["id"], "member")
    r = await client.post(f"/api/v1/organizations/{org}/memberships", json={"user_id": user["id"], "role": "chair"},
                          headers=h)
    assert r.status_code == 409

    r = await client.patch(f"/api/v1/memberships/{membership['id']}", json={"role": "secretary"}, headers=h)
    assert r.status_code == 200 and r.json()["role"] == "secretary"
    members = (await client.get(f"/api/v1/organizations/{org}/memberships", headers=h)).json()
    assert {"id": membership["id"], "user_id": user["id"], "display_name": "新用户", "role": "secretary"} in members

    assert (await client.delete(f"/api/v1/memberships/{membership['id']}", headers=h)).status_code == 204
    members = (await client.get(f"/api/v1/organizations/{org}/memberships", headers=h)).json()
    assert membership["id"] not in [m["id"] for m in members]
    assert (await client.delete(f"/api/v1/memberships/{membership['id']}", headers=h)).status_code == 404
    rows = await fetch("SELECT action FROM audit_entry WHERE tenant_id = $1 AND subject_id = $2"
                       " AND action LIKE 'membership.%' AND (data->>'user')::int = $3 ORDER BY seq",
                       world.tenant_a, str(org), user["id"])
    assert [r["action"] for r in rows] == ["membership.created", "membership.updated", "membership.deleted"]
    assert (await audit.verify(world.tenant_a)).ok


async def test_role_must_exist_in_the_kind_of_organisation(client, world):
    h = await _admin(client, world)
    user = await _create_user(client, h)
    company = world.a1.orgs["property_company"]
    r = await client.post(f"/api/v1/organizations/{company}/memberships", json={"user_id": user["id"],
                                                                               "role": "chair"}, headers=h)
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "Role 'chair' does not exist in this kind of organisation."
    assert body["errors"] == [{"field": "role", "message": "admin, manager, dispatcher, handler"}]
    r = await client.post(f"/api/v1/organizations/{company}/memberships", json={"user_id": user["id"],
                                                                               "role": "overlord"}, headers=h)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "role"
    r = await client.post("/api/v1/users", json={"username": f"u{_tag()}", "password": PASSWORD,
                                                 "display_name": "x", "organization_id": company,
                                                 "role": "grid_worker"}, headers=h)
    assert r.status_code == 422
    membership = world.a1.memberships["property_company:handler"]
    r = await client.patch(f"/api/v1/memberships/{membership}", json={"role": "secretary"}, headers=h)
    assert r.status_code == 422
    assert not await fetch("SELECT id FROM membership WHERE \"user\" = $1", user["id"])


async def test_a_non_admin_member_cannot_manage_memberships(client, world):
    h = await login(client, world.a1.users["owners_committee:chair"])
    org = world.a1.orgs["owners_committee"]
    r = await client.post(f"/api/v1/organizations/{org}/memberships",
                          json={"user_id": world.a1.user_ids["owners_committee:member"], "role": "secretary"},
                          headers=h)
    assert r.status_code == 403
    r = await client.patch(f"/api/v1/memberships/{world.a1.memberships['owners_committee:member']}",
                           json={"role": "vice_chair"}, headers=h)
    assert r.status_code == 403
    r = await client.delete(f"/api/v1/memberships/{world.a1.memberships['owners_committee:member']}", headers=h)
    assert r.status_code == 403


async def test_idempotent_membership_post_runs_once_and_replays_the_same_response(client, world):
    h = await _admin(client, world)
    user = await _create_user(client, h)
    org = world.a1.orgs["owners_committee"]
    key = {"Idempotency-Key": f"add-member-{_tag()}"}
    body = {"user_id": user["id"], "role": "member"}
    first = await client.post(f"/api/v1/organizations/{org}/memberships", json=body, headers={**h, **key})
    second = await client.post(f"/api/v1/organizations/{org}/memberships", json=body, headers={**h, **key})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    rows = await fetch("SELECT id FROM membership WHERE \"user\" = $1 AND organization = $2", user["id"], org)
    assert [r["id"] for r in rows] == [first.json()["id"]]

    r = await client.post(f"/api/v1/organizations/{org}/memberships", json={**body, "role": "secretary"},
                          headers={**h, **key})
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["detail"] == "This Idempotency-Key was used with a different request."
    rows = await fetch("SELECT role FROM membership WHERE \"user\" = $1", user["id"])
    assert [r["role"] for r in rows] == ["member"]
    # Another caller's identical key is a different key.
    other = {**await login(client, world.a1.users["owners_committee:admin"]), **EN}
    r = await client.post(f"/api/v1/organizations/{org}/memberships", json=body, headers={**other, **key})
    assert r.status_code == 409 and "idempotent-replayed" not in r.headers


async def test_ledger_managers_link_an_account_to_a_resident_and_nobody_links_themselves(client, world):
    from tests.factories import login as login_as

    rc_admin = await login_as(client, world.a1.users["residents_committee:admin"])
    bureau = await login_as(client, world.a1.users["bureau:admin"])
    r = await client.post("/api/v1/users", headers=bureau, json={
        "username": f"resident-{world.a1.marker}", "password": "Resident-2026x", "display_name": "居民"})
    assert r.status_code == 201, r.text
    resident = r.json()["id"]
    # The residents' committee admin keeps the ledger of the person's estate, but is no admin of
    # the resident's account (it has no organisation), so only the tenant admin may link it.
    r = await client.patch(f"/api/v1/users/{resident}", headers=rc_admin, json={"person_id": world.a1.person})
    assert r.status_code in (403, 404)
    r = await client.patch(f"/api/v1/users/{resident}", headers=bureau, json={"person_id": world.a1.person})
    assert r.status_code == 200, r.text
    assert r.json()["person_id"] == world.a1.person
    r = await client.patch(f"/api/v1/users/{resident}", headers=bureau, json={"person_id": 99999999})
    assert r.status_code == 422
    me = world.a1.user_ids["residents_committee:admin"]
    r = await client.patch(f"/api/v1/users/{me}", headers=rc_admin, json={"person_id": world.a1.person})
    assert r.status_code == 403
