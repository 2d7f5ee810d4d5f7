"""Helpers for the meetings tests: hand-made estates, committees and owners built with the
system repository (one transaction), and API shortcuts."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from core.db import db
from tenancy import repository as repo
from tenancy import system_repository as sysrepo
from tests.factories import _password_hash, login


def at(days: float = 0, hours: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days, hours=hours)).isoformat()


async def add_user(tenant: int, name: str, *, org: int | None = None, role: str = "member",
                   person: int | None = None, phone: str | None = None) -> tuple[int, str]:
    username = f"mt_{secrets.token_hex(4)}"
    u = await sysrepo.insert(repo.User, tenant=tenant, username=username,
                             password_hash=_password_hash(), display_name=name, phone=phone,
                             person=person)
    if org is not None:
        await sysrepo.insert(repo.Membership, tenant=tenant, user=u["id"], organization=org,
                             role=role)
    return u["id"], username


@dataclass
class Estate:
    """A fresh estate of tenant A under the victim community, with its own owners' committee."""

    id: int = 0
    committee: int = 0
    chair: str = ""  # username
    chair_id: int = 0
    members: list[tuple[int, str]] = field(default_factory=list)  # (user id, username)
    persons: dict[str, int] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # person label -> username
    units: dict[str, int] = field(default_factory=dict)


async def committee_estate(world, *, members: int = 5) -> Estate:
    """An estate whose owners' committee has `members` voting members (the first is chair)."""
    e = Estate()
    tenant, side = world.tenant_a, world.a1
    async with db().transaction():
        e.id = (await sysrepo.insert(repo.Estate, tenant=tenant, community=side.community,
                                     name=f"会议测试小区{secrets.token_hex(2)}"))["id"]
        org = await sysrepo.insert(repo.Organization, tenant=tenant, kind="owners_committee",
                                   name=f"会议测试业委会{secrets.token_hex(2)}")
        await sysrepo.insert(repo.OrganizationCoverage, tenant=tenant, organization=org["id"],
                             estate=e.id)
        e.committee = org["id"]
        for i in range(members):
            uid, username = await add_user(tenant, f"委员{i}", org=org["id"],
                                           role="chair" if i == 0 else "member")
            e.members.append((uid, username))
        e.chair_id, e.chair = e.members[0]
    return e


async def add_register(world, e: Estate) -> None:
    """The hand-made register: 王大 owns two 100 m² units; 李二 and 李三 co-own one; 赵四 and
    孙五 own one each; the developer still holds two 100 m² units. 5 owners, 700 m²."""
    tenant = world.tenant_a
    async with db().transaction():
        building = (await sysrepo.insert(repo.Building, tenant=tenant, estate=e.id,
                                         name="1号楼"))["id"]
        for label, area, unsold in (("u1", "100.00", False), ("u2", "100.00", False),
                                    ("u3", "100.00", False), ("u4", "100.00", False),
                                    ("u5", "100.00", True), ("u6", "100.00", True),
                                    ("u7", "100.00", False)):
            e.units[label] = (await sysrepo.insert(
                repo.Unit, tenant=tenant, estate=e.id, building=building, number=label,
                exclusive_area=Decimal(area), developer_unsold=unsold))["id"]
        for label, name, phone in (("wang", "王大", "13700001111"), ("li2", "李二", "13700002222"),
                                   ("li3", "李三", "13700003333"), ("zhao", "赵四", "13700004444"),
                                   ("sun", "孙五", "13700005555")):
            e.persons[label] = (await sysrepo.insert(repo.Person, tenant=tenant, name=name,
                                                     phone=phone))["id"]
        for person, unit in (("wang", "u1"), ("wang", "u2"), ("li2", "u3"), ("li3", "u3"),
                             ("zhao", "u4"), ("sun", "u7")):
            await sysrepo.insert(repo.Ownership, tenant=tenant, person=e.persons[person],
                                 unit=e.units[unit], estate=e.id)
        for label in ("wang", "li2", "li3", "zhao"):
            _uid, username = await add_user(tenant, f"业主{label}", person=e.persons[label])
            e.owners[label] = username


async def schedule(client, username: str, **body) -> dict:
    r = await client.post("/api/v1/meetings", json=body, headers=await login(client, username))
    assert r.status_code == 201, r.text
    return r.json()


async def post(client, username: str, url: str, json: dict | None = None, status: int = 200):
    r = await client.post(url, json=json or {}, headers=await login(client, username))
    assert r.status_code == status, (url, r.status_code, r.text)
    return r.json() if r.content else None


PIN = "482916"
SEAL_PIN = "739105"


async def principal(tenant: int, user_id: int):
    """The Principal of a user, as the authentication middleware builds it."""
    from tenancy.principal import Principal

    from core.db import fetch

    u = (await fetch("SELECT username, display_name, person FROM app_user WHERE id = $1",
                     user_id))[0]
    return Principal(user_id=user_id, tenant_id=tenant, tenant_name="", username=u["username"],
                     display_name=u["display_name"], language="zh-CN", person_id=u["person"],
                     token_id=0, token_kind="api", seats=await repo.load_seats(user_id, tenant))


async def enroll(tenant: int, user_ids: list[int], pin: str = PIN) -> None:
    """Each user sets their signing PIN (a personal certificate), as on the /signing page; a
    certificate an earlier test gave a shared demo user is revoked first (its PIN is unknown)."""
    from documents import credentials

    async with db().transaction():
        for uid in user_ids:
            p = await principal(tenant, uid)
            if (old := await credentials.my_credential(p)) is not None:
                await credentials.revoke(p, old["id"], "test: a new PIN")
            await credentials.enroll(p, pin)


async def create_seal(tenant: int, admin_user_id: int, org: int, pin: str = SEAL_PIN) -> None:
    from documents import credentials

    async with db().transaction():
        p = await principal(tenant, admin_user_id)
        if (old := await credentials.seal_of(p, org)) is not None:
            await credentials.revoke(p, old["id"], "test: a new seal PIN")
        await credentials.create_seal(p, org, pin)


async def drain_queue() -> None:
    """Run the queued jobs (the minutes' rendering) with a burst worker."""
    import asyncio

    from gongzhi.worker import build_worker

    await asyncio.wait_for(build_worker(manage_pool=False, burst=True).start(), timeout=180)
