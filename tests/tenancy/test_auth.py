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
