"""Places and people: the rules for reading and maintaining the jurisdiction's ledger.

Other packages reach tenancy through this module (and `accounts`), never its tables.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from asyncpg.exceptions import UniqueViolationError

from core import audit
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid, NotFound
from tenancy import repository as repo
from tenancy.guards import manages_places, reads_contacts
from tenancy.masking import mask_name, mask_phone
from tenancy.principal import Principal
from tenancy.schemas import (
    BuildingOut,
    CommunityOut,
    EstateOut,
    OwnershipOut,
    PersonOut,
    StreetOut,
    UnitOut,
)


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def forbidden() -> Forbidden:
    return Forbidden(_("Your role does not allow this action here."))


async def log(p: Principal, action: str, subject_type: str, subject_id: Any, **data: Any) -> None:
    await audit.record(p.tenant_id, action, subject_type=subject_type, subject_id=subject_id,
                       actor_user_id=p.user_id, data=data)


async def unique(coro, message: str):
    """Turn a unique-constraint violation into a 409 the user understands."""
    try:
        return await coro
    except UniqueViolationError as exc:
        raise Conflict(message) from exc


async def referenced(coro, field: str):
    """An item named in the request body (not the URL): if it is unknown or out of the caller's
    sight, the body is invalid (422 on that field) rather than the addressed resource missing."""
    try:
        return await coro
    except NotFound as exc:
        message = _("This item does not exist or you may not see it.")
        raise Invalid(message, errors=[{"field": field, "message": message}]) from exc


def street_out(r: dict) -> StreetOut:
    return StreetOut(id=r["id"], name=r["name"], code=r["code"])


def community_out(r: dict) -> CommunityOut:
    return CommunityOut(id=r["id"], street_id=r["street"], name=r["name"], code=r["code"])


def estate_out(r: dict) -> EstateOut:
    return EstateOut(id=r["id"], community_id=r["community"], street_id=r["street"], name=r["name"],
                     address=r["address"], developer=r["developer"])


def building_out(r: dict) -> BuildingOut:
    return BuildingOut(id=r["id"], estate_id=r["estate"], name=r["name"], floors=r["floors"])


def unit_out(r: dict) -> UnitOut:
    return UnitOut(id=r["id"], estate_id=r["estate"], building_id=r["building"], number=r["number"],
                   floor=r["floor"], exclusive_area=r["exclusive_area"],
                   developer_unsold=r["developer_unsold"])


def person_out(r: dict, *, masked: bool = True) -> PersonOut:
    if masked:
        return PersonOut(id=r["id"], name=mask_name(r["name"]) or "", phone=mask_phone(r["phone"]),
                         masked=True)
    return PersonOut(id=r["id"], name=r["name"], phone=r["phone"], masked=False)


# --- streets and communities ----------------------------------------------------------------
async def get_street(p: Principal, street_id: int) -> dict:
    return await repo.Streets(p).get(street_id) or _raise(not_found())


async def create_street(p: Principal, name: str, code: str | None) -> dict:
    if not manages_places(p, level="street"):
        raise forbidden()
    row = await unique(repo.Streets(p).create(name=name, code=code),
                       _("A street with this name already exists."))
    await log(p, "street.created", "street", row["id"], name=name)
    return row


async def update_street(p: Principal, street_id: int, values: dict) -> dict:
    await get_street(p, street_id)
    if not manages_places(p, level="street"):
        raise forbidden()
    row = await unique(repo.Streets(p).update(street_id, values),
                       _("A street with this name already exists."))
    await log(p, "street.updated", "street", street_id, **values)
    return row


async def get_community(p: Principal, community_id: int) -> dict:
    return await repo.Communities(p).get(community_id) or _raise(not_found())


async def create_community(p: Principal, street_id: int, name: str, code: str | None) -> dict:
    await referenced(get_street(p, street_id), "street_id")
    if not manages_places(p, street=street_id, level="community"):
        raise forbidden()
    row = await unique(repo.Communities(p).create(street=street_id, name=name, code=code),
                       _("A community with this name already exists in this street."))
    await log(p, "community.created", "community", row["id"], name=name, street=street_id)
    return row


async def update_community(p: Principal, community_id: int, values: dict) -> dict:
    c = await get_community(p, community_id)
    if not manages_places(p, street=c["street"], level="community"):
        raise forbidden()
    row = await unique(repo.Communities(p).update(community_id, values),
                       _("A community with this name already exists in this street."))
    await log(p, "community.updated", "community", community_id, **values)
    return row


# --- estates, buildings, units ----------------------------------------------------------------
async def get_estate(p: Principal, estate_id: int) -> dict:
    return await repo.Estates(p).get_with_street(estate_id) or _raise(not_found())


async def create_estate(p: Principal, community_id: int, **values: Any) -> dict:
    c = await referenced(get_community(p, community_id), "community_id")
    if not manages_places(p, community=community_id, level="estate"):
        raise forbidden()
    row = await unique(repo.Estates(p).create(community=community_id, **values),
                       _("An estate with this name already exists in this community."))
    await log(p, "estate.created", "estate", row["id"], community=community_id, **values)
    return {**row, "street": c["street"]}


async def update_estate(p: Principal, estate_id: int, values: dict) -> dict:
    e = await get_estate(p, estate_id)
    if not manages_places(p, community=e["community"], level="estate"):
        raise forbidden()
    await unique(repo.Estates(p).update(estate_id, values),
                 _("An estate with this name already exists in this community."))
    await log(p, "estate.updated", "estate", estate_id, **values)
    return await get_estate(p, estate_id)


async def require_estate_manager(p: Principal, estate_id: int) -> dict:
    estate = await get_estate(p, estate_id)
    if not manages_places(p, estate=estate_id):
        raise forbidden()
    return estate


async def get_building(p: Principal, building_id: int) -> dict:
    return await repo.Buildings(p).get(building_id) or _raise(not_found())


async def create_building(p: Principal, estate_id: int, name: str, floors: int | None) -> dict:
    await require_estate_manager(p, estate_id)
    row = await unique(repo.Buildings(p).create(estate=estate_id, name=name, floors=floors),
                       _("A building with this name already exists in this estate."))
    await log(p, "building.created", "building", row["id"], estate=estate_id, name=name)
    return row


async def update_building(p: Principal, building_id: int, values: dict) -> dict:
    b = await get_building(p, building_id)
    await require_estate_manager(p, b["estate"])
    row = await unique(repo.Buildings(p).update(building_id, values),
                       _("A building with this name already exists in this estate."))
    await log(p, "building.updated", "building", building_id, **values)
    return row


async def get_unit(p: Principal, unit_id: int) -> dict:
    return await repo.Units(p).get(unit_id) or _raise(not_found())


MAX_AREA = Decimal(100000)


def check_area(area: Decimal) -> Decimal:
    """A register area: 0 < area <= 100000 m², at most two decimals (the column's scale)."""
    try:
        ok = area.is_finite() and 0 < area <= MAX_AREA and area == area.quantize(Decimal("0.01"))
    except InvalidOperation:
        ok = False
    if not ok:
        message = _("The exclusive area must be more than 0 and at most 100000 m², "
                    "with at most two decimals.")
        raise Invalid(message, errors=[{"field": "exclusive_area", "message": message}])
    return area


async def create_unit(p: Principal, building_id: int, **values: Any) -> dict:
    check_area(values["exclusive_area"])
    b = await get_building(p, building_id)
    await require_estate_manager(p, b["estate"])
    row = await unique(repo.Units(p).create(building=building_id, estate=b["estate"], **values),
                       _("A unit with this number already exists in this building."))
    await log(p, "unit.created", "unit", row["id"], building=building_id, **values)
    return row


async def update_unit(p: Principal, unit_id: int, values: dict) -> dict:
    if "exclusive_area" in values:
        check_area(values["exclusive_area"])
    u = await get_unit(p, unit_id)
    await require_estate_manager(p, u["estate"])
    row = await unique(repo.Units(p).update(unit_id, values),
                       _("A unit with this number already exists in this building."))
    await log(p, "unit.updated", "unit", unit_id, **values)
    return row


# --- people and ownership ---------------------------------------------------------------------
async def get_person(p: Principal, person_id: int) -> dict:
    return await repo.People(p).get(person_id) or _raise(not_found())


async def person_contact(p: Principal, person_id: int, purpose: str) -> dict:
    """The unmasked person, for those whose work needs it; every view is logged."""
    person = await get_person(p, person_id)
    if not reads_contacts(p, await repo.People(p).estates_of(person_id), person_id):
        raise forbidden()
    await repo.People(p).log_contact_view(person_id, purpose)
    await log(p, "person.contact_viewed", "person", person_id, purpose=purpose)
    return person


async def update_person(p: Principal, person_id: int, values: dict) -> dict:
    await get_person(p, person_id)
    estates = await repo.People(p).estates_of(person_id)
    if not (estates and all(manages_places(p, estate=e) for e in estates)):
        raise forbidden()
    row = await repo.People(p).update(person_id, values)
    await log(p, "person.updated", "person", person_id, fields=sorted(values))
    return row


async def owners_of(p: Principal, unit_id: int) -> list[OwnershipOut]:
    await get_unit(p, unit_id)
    return [OwnershipOut(id=r["id"], unit_id=r["unit"],
                         person=person_out({"id": r["person"], "name": r["name"], "phone": r["phone"]}))
            for r in await repo.Ownerships(p).with_people(unit_id)]


async def add_owner(p: Principal, unit_id: int, person_id: int | None,
                    person: dict | None) -> OwnershipOut:
    unit = await get_unit(p, unit_id)
    await require_estate_manager(p, unit["estate"])
    if (person_id is None) == (person is None):
        raise Invalid(_("Give either an existing person or a new person, not both."))
    if person_id is not None:
        row = await referenced(get_person(p, person_id), "person_id")
    else:
        row = await repo.People(p).create(**person)
        await log(p, "person.created", "person", row["id"])
    own = await unique(repo.Ownerships(p).create(person=row["id"], unit=unit_id,
                                                 estate=unit["estate"]),
                       _("This person already owns this unit."))
    await log(p, "ownership.created", "unit", unit_id, person=row["id"])
    return OwnershipOut(id=own["id"], unit_id=unit_id, person=person_out(row))


async def remove_owner(p: Principal, ownership_id: int) -> None:
    own = await repo.Ownerships(p).get(ownership_id) or _raise(not_found())
    await require_estate_manager(p, own["estate"])
    await repo.Ownerships(p).delete(ownership_id)
    await log(p, "ownership.deleted", "unit", own["unit"], person=own["person"])


def _raise(exc: Exception):
    raise exc


# --- for other packages (cases): places, organisations and members by explicit tenant -----------
# These answer facts, not permissions: the caller decides what the principal may do with them.
async def estate_place(tenant_id: int, estate_id: int) -> dict | None:
    """{id, community, street} of the estate, or None when the tenant has no such estate."""
    return await repo.estate_place(tenant_id, estate_id)


async def place_in_estate(tenant_id: int, estate_id: int, building_id: int | None,
                          unit_id: int | None) -> bool:
    return await repo.place_in_estate(tenant_id, estate_id, building_id, unit_id)


async def organizations_covering_estate(tenant_id: int, estate_id: int,
                                        kinds: list[str]) -> list[int]:
    """Organisations of `kinds` covering the estate (directly, or via its community or street)."""
    return await repo.organizations_covering_estate(tenant_id, estate_id, kinds)


async def owned_estates(tenant_id: int, person_id: int) -> list[int]:
    """Estates where the person owns a unit."""
    return await repo.owned_estates(tenant_id, person_id)


async def organization_members(tenant_id: int, org_id: int,
                               roles: tuple[str, ...] | None = None) -> list[int]:
    """Active users acting for the organisation (with one of `roles`, when given)."""
    return await repo.organization_members(tenant_id, org_id, roles)


async def user_contact(tenant_id: int, user_id: int) -> dict | None:
    """{name, phone} of an account (its linked resident's when linked), for case intake."""
    return await repo.user_contact(tenant_id, user_id)


async def owned_units(tenant_id: int, person_id: int, estate_id: int | None = None) -> list[dict]:
    """Units the person owns ({unit, estate, number, building, developer_unsold}), in one
    estate or all."""
    return await repo.owned_units(tenant_id, person_id, estate_id)


async def household_counts(tenant_id: int, estate_ids: list[int]) -> dict[int, int]:
    """Households per estate: its units, leaving out the developer's unsold ones (estates
    without any such unit are absent)."""
    return await repo.household_counts(tenant_id, estate_ids)
