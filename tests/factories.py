"""Builds the test world through the same repository the app uses (no HTTP, one transaction).

Tenant A has two streets; everything under street 1 is the "victim" side that the
cross-tenant and unrelated-organisation tests attack from street 2 and from tenant B.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from cases import open311
from contracts.tables import CoBuildingAgreement, ContractDocument, ServiceContract
from core import webhooks
from core.db import db, fetch
from core.storage import key_for, storage
from tenancy import auth
from tenancy import repository as repo
from tenancy import system_repository as sysrepo

PASSWORD = "Test-password-2026"
_HASH: str | None = None


@dataclass
class Side:
    street: int = 0
    community: int = 0
    estate: int = 0
    building: int = 0
    unit: int = 0
    person: int = 0
    ownership: int = 0
    orgs: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # persona -> username
    user_ids: dict[str, int] = field(default_factory=dict)
    memberships: dict[str, int] = field(default_factory=dict)
    marker: str = ""
    case: int = 0  # a repair case reported by `resident` (the owner's own account)
    attachment: int = 0  # a photo of that case
    webhook: int = 0  # the property company's
    contract: int = 0  # the estate's active service contract
    document: int = 0  # its scanned PDF
    agreement: int = 0  # the residents' committee's co-building agreement with the company
    open311_key: int = 0  # the property company's Open311 API key (cases.open311)
    open311_api_key: str = ""  # ... and the key itself
    # Ids seeded by the domain packages' world hooks (WORLD_EXTENSIONS), by name.
    extra: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    tenant_a: int
    tenant_b: int
    bureau_a: int
    bureau_b: int
    a1: Side  # victim side: street 1 of tenant A
    a2: Side  # unrelated side: street 2 of tenant A
    b: Side   # the other tenant
    users: dict[str, str]  # persona -> username (all of them)


def _password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = auth.hash_password(PASSWORD)
    return _HASH


async def _user(tenant: int, username: str, org: int, role: str, side: Side, persona: str) -> None:
    u = await sysrepo.insert(repo.User, tenant=tenant, username=username, password_hash=_password_hash(),
                          display_name=f"{persona} {side.marker}", phone="13900000000")
    m = await sysrepo.insert(repo.Membership, tenant=tenant, user=u["id"], organization=org, role=role)
    side.users[persona] = username
    side.user_ids[persona] = u["id"]
    side.memberships[persona] = m["id"]


async def _side(tenant: int, tag: str, marker: str, phone: str) -> Side:
    s = Side(marker=marker)
    s.street = (await sysrepo.insert(repo.Street, tenant=tenant, name=f"{marker} 街道"))["id"]
    s.community = (await sysrepo.insert(repo.Community, tenant=tenant, street=s.street,
                                     name=f"{marker} 社区"))["id"]
    s.estate = (await sysrepo.insert(repo.Estate, tenant=tenant, community=s.community,
                                  name=f"{marker} 小区", address=f"{marker} 路 1 号"))["id"]
    s.building = (await sysrepo.insert(repo.Building, tenant=tenant, estate=s.estate, name=f"{marker}-1"))["id"]
    s.unit = (await sysrepo.insert(repo.Unit, tenant=tenant, estate=s.estate, building=s.building,
                                number=f"{marker}-101", floor=1, exclusive_area=Decimal("88.50")))["id"]
    s.person = (await sysrepo.insert(repo.Person, tenant=tenant, name=f"{marker}业主", phone=phone))["id"]
    s.ownership = (await sysrepo.insert(repo.Ownership, tenant=tenant, person=s.person, unit=s.unit,
                                     estate=s.estate))["id"]
    coverage = {"street_office": {"street": s.street}, "residents_committee": {"community": s.community},
                "owners_committee": {"estate": s.estate}, "property_company": {"estate": s.estate}}
    for kind, place in coverage.items():
        org = await sysrepo.insert(repo.Organization, tenant=tenant, kind=kind, name=f"{marker} {kind}")
        await sysrepo.insert(repo.OrganizationCoverage, tenant=tenant, organization=org["id"], **place)
        s.orgs[kind] = org["id"]
    s.webhook = (await webhooks.create_subscription(
        tenant, s.orgs["property_company"], f"http://127.0.0.1:1/hooks/{marker}", ["case.*"]))[0]["id"]
    await _contract(tenant, s)
    roles = {"street_office": ["admin", "staff"], "residents_committee": ["admin", "grid_worker"],
             "owners_committee": ["admin", "chair", "member"],
             "property_company": ["admin", "manager", "handler"]}
    for kind, kind_roles in roles.items():
        for role in kind_roles:
            await _user(tenant, f"{tag}_{kind}_{role}", s.orgs[kind], role, s, f"{kind}:{role}")
    s.open311_key, s.open311_api_key = await open311.insert_key(
        tenant, s.orgs["property_company"], s.user_ids["property_company:admin"], f"{marker} 12345")
    await _resident_case(tenant, tag, s)
    for module in world_extensions():
        await module.seed(tenant, tag, s)
    return s


# Domain packages extend the world without editing this file: `tests/<package>/world.py`, when it
# exists, has `async def seed(tenant, tag, side)` (runs at the end of each side, inside the
# world's transaction, storing ids in `side.extra`) and `WALKER_IDS` / `WALKER_ALIASES` for the
# route walker (see tests/gongzhi/test_route_walker.py).
WORLD_EXTENSIONS = ("evaluations", "documents", "meetings", "cases")


def world_extensions() -> list:
    import importlib
    import importlib.util

    return [importlib.import_module(f"tests.{name}.world") for name in WORLD_EXTENSIONS
            if importlib.util.find_spec(f"tests.{name}.world") is not None]


async def _resident_case(tenant: int, tag: str, s: Side) -> None:
    """The owner's own account (no membership) and a repair case it reported; the world's
    seeded case events count as already published."""
    from cases.case_service import create_case
    from cases.schemas import CaseIn
    from tenancy.principal import Principal

    u = await sysrepo.insert(repo.User, tenant=tenant, username=f"{tag}_resident",
                             password_hash=_password_hash(), display_name=f"resident {s.marker}",
                             person=s.person)
    s.users["resident"], s.user_ids["resident"] = u["username"], u["id"]
    p = Principal(user_id=u["id"], tenant_id=tenant, tenant_name="", username=u["username"],
                  display_name=u["display_name"], language="zh-CN", person_id=s.person,
                  token_id=0, token_kind="api")
    s.case = (await create_case(p, CaseIn(estate_id=s.estate, category="repair",
                                          description=f"{s.marker} 厨房漏水",
                                          building_id=s.building, unit_id=s.unit))).id
    from cases.attachments import add_photo
    s.attachment = (await add_photo(p, s.case, tiny_jpeg())).id
    await fetch("UPDATE outbox_event SET published_at = now() WHERE tenant_id = $1"
                " AND topic LIKE 'case.%' AND published_at IS NULL", tenant)


def tiny_jpeg(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (8, 8),
              exif: bytes | None = None, fmt: str = "JPEG") -> bytes:
    """A small real image made with Pillow (optionally with EXIF bytes)."""
    import io

    from PIL import Image
    buf = io.BytesIO()
    extra = {"exif": exif} if exif is not None else {}
    Image.new("RGB", size, color).save(buf, fmt, **extra)
    return buf.getvalue()


async def _contract(tenant: int, s: Side) -> None:
    """An active contract between the estate's owners' committee and its property company,
    in force for years (so the daily sweep leaves it alone), with one attached PDF."""
    today = date.today()
    s.contract = (await sysrepo.insert(
        ServiceContract, tenant=tenant, estate=s.estate, property_company=s.orgs["property_company"],
        counterparty=s.orgs["owners_committee"], number=f"{s.marker}-HT-1", status="active",
        starts_on=today - timedelta(days=100), ends_on=today + timedelta(days=3 * 365),
        fee_per_m2_month=Decimal("2.50"), scope_items=[f"{s.marker} 保洁"]))["id"]
    pdf = f"%PDF-1.4\n% {s.marker}\n%%EOF\n".encode()
    digest = hashlib.sha256(pdf).hexdigest()
    stored = await storage().put(key_for("contracts", tenant, digest, "pdf"), pdf, "application/pdf")
    s.document = (await sysrepo.insert(
        ContractDocument, tenant=tenant, contract=s.contract, storage_key=stored.key,
        file_name="contract.pdf", sha256=digest, size=len(pdf)))["id"]
    s.agreement = (await sysrepo.insert(
        CoBuildingAgreement, tenant=tenant, residents_committee=s.orgs["residents_committee"],
        community=s.community, partner_organization=s.orgs["property_company"],
        title=f"{s.marker} 共建协议", items=["志愿服务"], starts_on=today - timedelta(days=30)))["id"]


async def build_world() -> World:
    run = secrets.token_hex(3)
    async with db().transaction():
        ta = (await sysrepo.insert(repo.Tenant, code=f"ta-{run}", name="Tenant A"))["id"]
        tb = (await sysrepo.insert(repo.Tenant, code=f"tb-{run}", name="Tenant B"))["id"]
        ba = (await sysrepo.insert(repo.Organization, tenant=ta, kind="housing_bureau", name="A 住建局"))["id"]
        bb = (await sysrepo.insert(repo.Organization, tenant=tb, kind="housing_bureau", name="B 住建局"))["id"]
        a1 = await _side(ta, f"a1{run}", f"VICTIM{run}", "13811112222")
        a2 = await _side(ta, f"a2{run}", f"OTHER{run}", "13833334444")
        b = await _side(tb, f"b{run}", f"TENANTB{run}", "13855556666")
        for side, tenant, bureau, tag in ((a1, ta, ba, f"a{run}"), (b, tb, bb, f"b{run}")):
            await _user(tenant, f"{tag}_bureau_admin", bureau, "admin", side, "bureau:admin")
            await _user(tenant, f"{tag}_bureau_staff", bureau, "staff", side, "bureau:staff")
    users = {**{f"a1/{k}": v for k, v in a1.users.items()}, **{f"a2/{k}": v for k, v in a2.users.items()},
             **{f"b/{k}": v for k, v in b.users.items()}}
    return World(ta, tb, ba, bb, a1, a2, b, users)


async def login(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers for `username` (cached per username for the session)."""
    if username in _TOKENS:
        return _TOKENS[username]
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 201, r.text
    _TOKENS[username] = {"Authorization": f"Bearer {r.json()['token']}"}
    return _TOKENS[username]


_TOKENS: dict[str, dict[str, str]] = {}
