"""The demo district as plain data: a pure, seeded plan that `gongzhi.demo` writes.

Everything here is deterministic: `build_plan(seed)` draws every name, phone number, area
and ownership from one `random.Random(seed)`, so two fresh demos are identical. Rows refer
to each other by their index in the plan's lists; the writer maps indexes to database ids.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

SEED = 2026
TENANT_CODE = "demo"
TENANT_NAME = "示范区住房和城乡建设局"
DIVISION_CODE = "990101"  # fictional administrative division code (the district is made up)
CO_OWNED_SHARE = 0.05      # units with two owners (usually a married couple)
EXTRA_UNIT_SHARE = 0.035   # sold units bought by someone who already owns one in the estate
CENT = Decimal("0.01")

# --- name lists ---------------------------------------------------------------------------------
# Common surnames in rough order of frequency (weighted by rank), plus a few compound ones.
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
            "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
            "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "皇甫", "慕容", "司徒", "令狐")
MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林建国志文海峰亮东晨阳睿博轩"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀燕玲桂英红梅琳雪婷慧莉颖倩琴云洁萍佳欣怡晶璐丹晓玉兰月"
MOBILE_PREFIXES = [f"{h}{d}" for h in (13, 15, 18) for d in range(10) if f"{h}{d}" != "154"]
_ALL_SURNAMES = tuple(SURNAMES) + COMPOUND_SURNAMES
_SURNAME_WEIGHTS = [1 / (r + 8) for r in range(len(SURNAMES))] + [0.004] * len(COMPOUND_SURNAMES)
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # alphabet of unified social credit codes

# --- the district -------------------------------------------------------------------------------
STREETS = (("青莲街道", "QL"), ("滨江街道", "BJ"))
COMMUNITIES = (("青莲社区", 0, "QL-01"), ("翠竹社区", 0, "QL-02"),
               ("滨江社区", 1, "BJ-01"), ("望江社区", 1, "BJ-02"))


@dataclass(frozen=True)
class EstateSpec:
    name: str
    community: int
    address: str
    developer: str
    buildings: int
    entrances: int      # 单元 per building
    floors: int
    area: tuple[int, int]                 # exclusive area range, m²
    unsold: tuple[int, int] | None = None  # (building, from floor): the developer's unsold block


ESTATES = (
    EstateSpec("翠湖花园", 0, "示范区青莲路88号", "示范区城市建设开发有限公司", 8, 2, 12, (75, 140)),
    EstateSpec("锦绣华庭", 0, "示范区锦绣路166号", "锦华置业有限公司", 9, 1, 18, (90, 160)),
    EstateSpec("翠竹苑", 1, "示范区翠竹街21号", "示范区房地产开发总公司", 10, 2, 7, (60, 110)),
    EstateSpec("滨江一号", 2, "示范区滨江大道1号", "滨江置地发展有限公司", 6, 2, 18, (110, 160),
               unsold=(6, 15)),
    EstateSpec("望江名邸", 2, "示范区望江路299号", "恒泰房地产开发有限公司", 8, 1, 16, (85, 145),
               unsold=(8, 1)),
    EstateSpec("阳光新村", 3, "示范区向阳路15弄", "示范区住宅建设公司", 12, 2, 6, (55, 90)),
)
# Each property company serves two estates (indexes into ESTATES); the first serves estate 1.
PROPERTY_COMPANIES = (("安居乐物业服务有限公司", (0, 3)), ("恒信物业管理有限公司", (1, 5)),
                      ("嘉和物业服务有限公司", (2, 4)))


@dataclass(frozen=True)
class Persona:
    """A demo login. Without display_name the user is an owner in estate 1 (named as the owner)."""

    username: str
    display_name: str | None
    kind: str | None   # organisation kind (the first of that kind in the plan), None: no membership
    role: str | None
    description: str


PERSONAS = (
    Persona("bureau", "王建国", "housing_bureau", "admin", "Housing bureau administrator"),
    Persona("bureau.staff", "李敏", "housing_bureau", "staff", "Housing bureau staff"),
    Persona("street", "张卫东", "street_office", "admin", "Street office administrator"),
    Persona("rc", "刘桂芳", "residents_committee", "director", "Residents' committee director"),
    Persona("grid", "陈晓磊", "residents_committee", "grid_worker", "Grid worker"),
    Persona("oc.chair", None, "owners_committee", "chair", "Owners' committee chair (an owner)"),
    Persona("oc.member", None, "owners_committee", "member", "Owners' committee member (an owner)"),
    Persona("pm", "黄志强", "property_company", "manager", "Property manager"),
    Persona("dispatcher", "吴倩", "property_company", "dispatcher", "Customer-service dispatcher"),
    Persona("handler", "郑海涛", "property_company", "handler", "Maintenance handler"),
    Persona("resident", None, None, None, "Resident owning a unit"),
)


def person_name(rng: random.Random, female: bool) -> str:
    surname = rng.choices(_ALL_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    chars = FEMALE_CHARS if female else MALE_CHARS
    return surname + "".join(rng.sample(chars, 1 if rng.random() < 0.3 else 2))


def phone_number(rng: random.Random, taken: set[str]) -> str:
    while (phone := rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}") in taken:
        pass
    taken.add(phone)
    return phone


def credit_code(rng: random.Random, prefix: str, division: str) -> str:
    """A well-formed unified social credit code (GB 32100-2015, both check characters valid)."""
    body = [rng.randrange(10) for _ in range(8)]
    check = 11 - sum(d * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    org_code = "".join(map(str, body)) + {10: "X", 11: "0"}.get(check, str(check))
    first17 = prefix + division + org_code
    total = sum(_CODE_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + _CODE_CHARS[(31 - total % 31) % 31]


@dataclass(frozen=True)
class PlaceRow:
    name: str
    parent: int | None = None      # street of a community, community of an estate
    code: str | None = None
    address: str = ""
    developer: str = ""


@dataclass(frozen=True)
class BuildingRow:
    estate: int
    name: str
    floors: int


@dataclass(frozen=True)
class UnitRow:
    estate: int
    building: int
    number: str
    floor: int
    area: Decimal
    unsold: bool


@dataclass(frozen=True)
class PersonRow:
    name: str
    phone: str


@dataclass(frozen=True)
class OwnershipRow:
    person: int
    unit: int


@dataclass(frozen=True)
class OrgRow:
    kind: str
    name: str
    credit_code: str | None
    coverage: tuple[tuple[str, int], ...]  # ("street" | "community" | "estate", place index)


OrgSpec = tuple[str, str, str | None, tuple[tuple[str, int], ...]]


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    phone: str
    organization: int | None
    role: str | None
    person: int | None


@dataclass
class Plan:
    tenant_code: str
    tenant_name: str
    streets: list[PlaceRow] = field(default_factory=list)
    communities: list[PlaceRow] = field(default_factory=list)
    estates: list[PlaceRow] = field(default_factory=list)
    buildings: list[BuildingRow] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    persons: list[PersonRow] = field(default_factory=list)
    ownerships: list[OwnershipRow] = field(default_factory=list)
    organizations: list[OrgRow] = field(default_factory=list)
    users: list[UserRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"streets": len(self.streets), "communities": len(self.communities),
                "estates": len(self.estates), "buildings": len(self.buildings),
                "units": len(self.units), "unsold_units": sum(u.unsold for u in self.units),
                "owners": len(self.persons), "ownerships": len(self.ownerships),
                "organizations": len(self.organizations), "users": len(self.users)}


def build_plan(seed: int = SEED) -> Plan:
    rng = random.Random(seed)
    phones: set[str] = set()
    plan = Plan(TENANT_CODE, TENANT_NAME)
    plan.streets = [PlaceRow(name, code=code) for name, code in STREETS]
    plan.communities = [PlaceRow(name, parent=street, code=code)
                        for name, street, code in COMMUNITIES]
    plan.estates = [PlaceRow(e.name, parent=e.community, address=e.address, developer=e.developer)
                    for e in ESTATES]
    for estate_index in range(len(ESTATES)):
        _buildings_and_units(plan, rng, estate_index)
    owners_by_estate = [_owners(plan, rng, phones, e) for e in range(len(ESTATES))]
    _organizations(plan, rng)
    _users(plan, rng, phones, owners_by_estate[0])
    return plan


def _buildings_and_units(plan: Plan, rng: random.Random, e: int) -> None:
    spec = ESTATES[e]
    lo, hi = spec.area
    block = spec.unsold or (0, 0)
    for b in range(1, spec.buildings + 1):
        plan.buildings.append(BuildingRow(e, f"{b}号楼", spec.floors))
        building = len(plan.buildings) - 1
        # One floor plan (户型) per stack; registered areas vary slightly between floors.
        stacks = {(en, room): rng.uniform(lo + 1, hi - 1)
                  for en in range(1, spec.entrances + 1) for room in (1, 2)}
        for en in range(1, spec.entrances + 1):
            for floor in range(1, spec.floors + 1):
                for room in (1, 2):
                    area = min(hi, max(lo, stacks[en, room] + rng.uniform(-0.6, 0.6)))
                    unsold = b == block[0] and floor >= block[1]
                    plan.units.append(UnitRow(e, building, f"{b}-{en}-{floor}{room:02d}", floor,
                                              Decimal(str(area)).quantize(CENT), unsold))


def _owners(plan: Plan, rng: random.Random, phones: set[str], e: int) -> list[int]:
    """Owners for the estate's sold units; returns the estate's sole owners of exactly one unit."""
    units_owned: Counter[int] = Counter()
    co_owners: set[int] = set()

    def new_person(female: bool) -> int:
        plan.persons.append(PersonRow(person_name(rng, female), phone_number(rng, phones)))
        return len(plan.persons) - 1

    for unit_index, unit in enumerate(plan.units):
        if unit.estate != e or unit.unsold:
            continue
        candidates = sorted(p for p, n in units_owned.items() if n < 3 and p not in co_owners)
        if candidates and rng.random() < EXTRA_UNIT_SHARE:
            owner, female = rng.choice(candidates), None
        else:
            female = rng.random() < 0.45
            owner = new_person(female)
        units_owned[owner] += 1
        plan.ownerships.append(OwnershipRow(owner, unit_index))
        if female is not None and rng.random() < CO_OWNED_SHARE:  # a couple owns it jointly
            spouse = new_person(not female)
            co_owners.update((owner, spouse))
            units_owned[spouse] += 1
            plan.ownerships.append(OwnershipRow(spouse, unit_index))
    return [p for p, n in sorted(units_owned.items()) if n == 1 and p not in co_owners]


def organization_specs() -> list[OrgSpec]:
    """(kind, name, credit-code prefix or None, coverage) of every organisation, in plan order."""
    specs: list[OrgSpec] = [("housing_bureau", TENANT_NAME, "11", ())]
    specs += [("street_office", f"{name}办事处", "11", (("street", s),))
              for s, (name, _code) in enumerate(STREETS)]
    specs += [("residents_committee", f"{name}居民委员会", None, (("community", c),))
              for c, (name, _street, _code) in enumerate(COMMUNITIES)]
    specs += [("owners_committee", f"{e.name}业主委员会", None, (("estate", i),))
              for i, e in enumerate(ESTATES)]
    specs += [("property_company", name, "91", tuple(("estate", e) for e in estates))
              for name, estates in PROPERTY_COMPANIES]
    return specs


def first_organization(kind: str) -> int:
    """Index of the first organisation of `kind`: the one serving street, community, estate 1."""
    return next(i for i, spec in enumerate(organization_specs()) if spec[0] == kind)


def _organizations(plan: Plan, rng: random.Random) -> None:
    for kind, name, prefix, coverage in organization_specs():
        code = credit_code(rng, prefix, DIVISION_CODE) if prefix else None
        plan.organizations.append(OrgRow(kind, name, code, coverage))


def _users(plan: Plan, rng: random.Random, phones: set[str], estate1_owners: list[int]) -> None:
    """One login per persona; the owners' committee members and the resident are owners."""
    owners = iter(rng.sample(estate1_owners, 3))
    for persona in PERSONAS:
        person = next(owners) if persona.display_name is None else None
        name = plan.persons[person].name if person is not None else persona.display_name
        phone = plan.persons[person].phone if person is not None else phone_number(rng, phones)
        org = first_organization(persona.kind) if persona.kind else None
        plan.users.append(UserRow(persona.username, name, phone, org, persona.role, person))
