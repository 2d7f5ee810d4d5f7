"""Who may do what: Litestar guards for coarse checks, predicates for object-level checks.

Everything here derives from memberships (kind of organisation, role, covered places).
"""
from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from core.i18n import N_
from tenancy.principal import Principal, Seat

PLACE_MANAGERS = {  # kind -> roles that maintain the ledger of the places the body covers
    "street_office": ("admin",),
    "residents_committee": ("admin", "director"),
    "owners_committee": ("admin", "chair"),
}
CONTACT_READERS = {  # kind -> roles whose work needs residents' full name and phone
    "residents_committee": ("admin", "director", "staff", "grid_worker"),
    "owners_committee": ("admin", "chair", "vice_chair", "secretary"),
    "property_company": ("admin", "manager", "dispatcher"),
}
OWNER_READERS = ("residents_committee", "owners_committee", "property_company", "housing_bureau",
                 "street_office")

# Capability codes shown on the home page, per seat. Labels live in the catalogues.
CAPABILITY_LABELS = {
    "manage_tenant": N_("Manage the jurisdiction: places, organisations and accounts"),
    "manage_places": N_("Maintain buildings, units and owners of the places you cover"),
    "import_ledgers": N_("Import building, unit and owner ledgers from spreadsheets"),
    "view_places": N_("See the streets, communities and estates you cover"),
    "view_owners": N_("See owners of units (masked)"),
    "reveal_contacts": N_("See residents' full names and phone numbers (every view is logged)"),
    "manage_members": N_("Manage the accounts and roles of your organisation"),
}


# Route guards are coroutines: Litestar runs a plain function guard in its thread pool, which
# would cost every request a thread hop for a dictionary lookup.
async def authenticated(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.scope.get("user") is None:
        raise NotAuthorizedException()


async def tenant_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    await authenticated(connection, _)
    if not connection.scope["user"].is_tenant_admin:
        raise PermissionDeniedException()


def manages_places(p: Principal, *, street: int | None = None, community: int | None = None,
                   estate: int | None = None, level: str = "unit") -> bool:
    """May `p` edit a place at `level` (street/community/estate/building/unit) here?"""
    if p.is_tenant_admin:
        return True
    allowed_kinds = {"street": (), "community": ("street_office",),
                     "estate": ("street_office", "residents_committee")}.get(
        level, tuple(PLACE_MANAGERS))
    return any(s.kind in allowed_kinds and s.role in PLACE_MANAGERS[s.kind]
               and s.covers(street=street, community=community, estate=estate) for s in p.seats)


def reads_contacts(p: Principal, estates: list[int], person_id: int) -> bool:
    if p.person_id == person_id:
        return True
    return any(s.kind in CONTACT_READERS and s.role in CONTACT_READERS[s.kind]
               and any(s.covers(estate=e) for e in estates) for s in p.seats)


def administers(p: Principal, organization_id: int) -> bool:
    if p.is_tenant_admin:
        return True
    seat = p.seat_in(organization_id)
    return seat is not None and seat.role == "admin"


def capabilities(seat: Seat) -> list[str]:
    caps = ["view_places"]
    if seat.kind in OWNER_READERS:
        caps.append("view_owners")
    if seat.kind in CONTACT_READERS and seat.role in CONTACT_READERS[seat.kind]:
        caps.append("reveal_contacts")
    if seat.kind in PLACE_MANAGERS and seat.role in PLACE_MANAGERS[seat.kind]:
        caps += ["manage_places", "import_ledgers"]
    if seat.kind == "housing_bureau" and seat.role == "admin":
        caps = ["manage_tenant", "manage_places", "import_ledgers", *caps]
    if seat.role == "admin":
        caps.append("manage_members")
    return list(dict.fromkeys(caps))
