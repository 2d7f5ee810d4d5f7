"""Request and response types of the tenancy API (msgspec Structs: fast, and OpenAPI-clean)."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType


class OrgKind(str, Enum):
    residents_committee = "residents_committee"
    owners_committee = "owners_committee"
    property_company = "property_company"
    street_office = "street_office"
    housing_bureau = "housing_bureau"


ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    "residents_committee": ("admin", "director", "staff", "grid_worker"),
    "owners_committee": ("admin", "chair", "vice_chair", "secretary", "member"),
    "property_company": ("admin", "manager", "dispatcher", "handler"),
    "street_office": ("admin", "staff"),
    "housing_bureau": ("admin", "staff"),
}
ALL_ROLES = tuple(sorted({r for roles in ROLES_BY_KIND.values() for r in roles}))
Role = Enum("Role", {r: r for r in ALL_ROLES}, type=str)  # type: ignore[misc]

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")

Name = Annotated[str, Meta(min_length=1, max_length=100)]
LongName = Annotated[str, Meta(min_length=1, max_length=200)]
Code = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")]
Phone = Annotated[str, Meta(min_length=7, max_length=20, pattern=r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")]
Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]
# msgspec cannot put numeric bounds on Decimal; service.check_area enforces 0 < area <= 100000
# with at most two decimals (the register's precision). Sent and returned as a JSON string.
Area = Annotated[Decimal, Meta(description="Exclusive floor area in m², e.g. \"88.50\"",
                                examples=["88.50"])]
Floor = Annotated[int, Meta(ge=-10, le=300)]
Username = Annotated[str, Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Password = Annotated[str, Meta(min_length=1, max_length=256)]
CreditCode = Annotated[str, Meta(pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")]


# --- auth -------------------------------------------------------------------------------
class LoginIn(Struct, forbid_unknown_fields=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Password


class PasswordChangeIn(Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class MembershipOut(Struct):
    id: int
    organization_id: int
    organization_name: str
    organization_kind: str
    role: str


class MeOut(Struct):
    id: int
    username: str
    display_name: str
    tenant_id: int
    tenant_name: str
    language: str
    memberships: list[MembershipOut]
    capabilities: dict[str, list[str]]


class TokenOut(Struct):
    token: str
    token_type: str
    expires_at: datetime
    user: MeOut


# --- tenant and places --------------------------------------------------------------------
class TenantOut(Struct):
    id: int
    code: str
    name: str


class TenantUpdate(Struct, forbid_unknown_fields=True):
    name: LongName | UnsetType = UNSET


class StreetIn(Struct, forbid_unknown_fields=True):
    name: Name
    code: Code | None = None


class StreetUpdate(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    code: Code | None | UnsetType = UNSET


class StreetOut(Struct):
    id: int
    name: str
    code: str | None


class CommunityIn(Struct, forbid_unknown_fields=True):
    street_id: Id
    name: Name
    code: Code | None = None


class CommunityUpdate(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    code: Code | None | UnsetType = UNSET


class CommunityOut(Struct):
    id: int
    street_id: int
    name: str
    code: str | None


class EstateIn(Struct, forbid_unknown_fields=True):
    community_id: Id
    name: Name
    address: Annotated[str, Meta(max_length=200)] = ""
    developer: Annotated[str, Meta(max_length=200)] = ""


class EstateUpdate(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    address: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    developer: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET


class EstateOut(Struct):
    id: int
    community_id: int
    street_id: int
    name: str
    address: str
    developer: str


class BuildingIn(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=50)]
    floors: Annotated[int, Meta(ge=1, le=300)] | None = None


class BuildingUpdate(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=50)] | UnsetType = UNSET
    floors: Annotated[int, Meta(ge=1, le=300)] | None | UnsetType = UNSET


class BuildingOut(Struct):
    id: int
    estate_id: int
    name: str
    floors: int | None


class UnitIn(Struct, forbid_unknown_fields=True):
    number: Annotated[str, Meta(min_length=1, max_length=50)]
    exclusive_area: Area
    floor: Floor | None = None
    developer_unsold: bool = False


class UnitUpdate(Struct, forbid_unknown_fields=True):
    number: Annotated[str, Meta(min_length=1, max_length=50)] | UnsetType = UNSET
    exclusive_area: Area | UnsetType = UNSET
    floor: Floor | None | UnsetType = UNSET
    developer_unsold: bool | UnsetType = UNSET


class UnitOut(Struct):
    id: int
    estate_id: int
    building_id: int
    number: str
    floor: int | None
    exclusive_area: Decimal
    developer_unsold: bool


# --- people -----------------------------------------------------------------------------------
class PersonIn(Struct, forbid_unknown_fields=True):
    name: Name
    phone: Phone | None = None


class PersonUpdate(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    phone: Phone | None | UnsetType = UNSET


class PersonOut(Struct):
    """A person as most callers see them: masked unless `masked` is false."""

    id: int
    name: str
    phone: str | None
    masked: bool


class OwnershipIn(Struct, forbid_unknown_fields=True):
    person_id: Id | None = None
    person: PersonIn | None = None


class OwnershipOut(Struct):
    id: int
    unit_id: int
    person: PersonOut


# --- organisations and accounts ------------------------------------------------------------
class CoverageItem(Struct, forbid_unknown_fields=True):
    street_id: Id | None = None
    community_id: Id | None = None
    estate_id: Id | None = None


class OrganizationIn(Struct, forbid_unknown_fields=True):
    kind: OrgKind
    name: LongName
    credit_code: CreditCode | None = None
    phone: Phone | None = None
    coverage: list[CoverageItem] = msgspec.field(default_factory=list)


class OrganizationUpdate(Struct, forbid_unknown_fields=True):
    name: LongName | UnsetType = UNSET
    credit_code: CreditCode | None | UnsetType = UNSET
    phone: Phone | None | UnsetType = UNSET


class OrganizationOut(Struct):
    id: int
    kind: str
    name: str
    credit_code: str | None
    phone: str | None
    coverage: list[CoverageItem]


class UserIn(Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    display_name: Name
    phone: Phone | None = None
    language: Annotated[str, Meta(pattern=r"^(zh-CN|en)$")] = "zh-CN"
    organization_id: Id | None = None
    role: Role | None = None  # type: ignore[valid-type]


class UserUpdate(Struct, forbid_unknown_fields=True):
    display_name: Name | UnsetType = UNSET
    phone: Phone | None | UnsetType = UNSET
    language: Annotated[str, Meta(pattern=r"^(zh-CN|en)$")] | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    # The resident this account belongs to (an owner in the ledger); null unlinks.
    person_id: Id | None | UnsetType = UNSET


class UserOut(Struct):
    id: int
    username: str
    display_name: str
    phone: str | None
    language: str
    is_active: bool
    person_id: int | None = None


class MembershipIn(Struct, forbid_unknown_fields=True):
    user_id: Id
    role: Role  # type: ignore[valid-type]


class MembershipUpdate(Struct, forbid_unknown_fields=True):
    role: Role  # type: ignore[valid-type]


class MemberOut(Struct):
    id: int
    user_id: int
    display_name: str
    role: str


def changes(update: Struct) -> dict:
    """The fields a PATCH body actually sets."""
    return {f: v for f in update.__struct_fields__ if (v := getattr(update, f)) is not UNSET}
