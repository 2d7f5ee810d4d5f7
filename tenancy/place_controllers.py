"""Admin API for places (streets … units), owners and people."""
from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from tenancy import repository as repo
from tenancy import service as svc
from tenancy.guards import authenticated
from tenancy.principal import Principal
from tenancy.schemas import (
    BuildingIn,
    BuildingOut,
    BuildingUpdate,
    CommunityIn,
    CommunityOut,
    CommunityUpdate,
    EstateIn,
    EstateOut,
    EstateUpdate,
    OwnershipIn,
    OwnershipOut,
    PersonOut,
    PersonUpdate,
    StreetIn,
    StreetOut,
    StreetUpdate,
    UnitIn,
    UnitOut,
    UnitUpdate,
    changes,
)

Req = Request[Principal, str, object]
Limit = Annotated[int, Parameter(ge=1, le=repo.MAX_PAGE)]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000)]


class PlaceController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["places"]

    # streets
    @get("/streets")
    async def list_streets(self, request: Req, limit: Limit = 100, offset: Offset = 0) -> list[StreetOut]:
        return [svc.street_out(r) for r in await repo.Streets(request.user).list(limit=limit, offset=offset)]

    @post("/streets")
    async def create_street(self, request: Req, data: StreetIn, tx: object) -> StreetOut:
        return svc.street_out(await svc.create_street(request.user, data.name, data.code))

    @get("/streets/{street_id:int}")
    async def get_street(self, request: Req, street_id: int) -> StreetOut:
        return svc.street_out(await svc.get_street(request.user, street_id))

    @patch("/streets/{street_id:int}")
    async def update_street(self, request: Req, street_id: int, data: StreetUpdate, tx: object) -> StreetOut:
        return svc.street_out(await svc.update_street(request.user, street_id, changes(data)))

    # communities
    @get("/communities")
    async def list_communities(self, request: Req, street_id: int | None = None, limit: Limit = 100,
                               offset: Offset = 0) -> list[CommunityOut]:
        where = [repo.Community.street == street_id] if street_id else []
        rows = await repo.Communities(request.user).list(*where, limit=limit, offset=offset)
        return [svc.community_out(r) for r in rows]

    @post("/communities")
    async def create_community(self, request: Req, data: CommunityIn, tx: object) -> CommunityOut:
        return svc.community_out(
            await svc.create_community(request.user, data.street_id, data.name, data.code))

    @get("/communities/{community_id:int}")
    async def get_community(self, request: Req, community_id: int) -> CommunityOut:
        return svc.community_out(await svc.get_community(request.user, community_id))

    @patch("/communities/{community_id:int}")
    async def update_community(self, request: Req, community_id: int, data: CommunityUpdate,
                               tx: object) -> CommunityOut:
        return svc.community_out(await svc.update_community(request.user, community_id, changes(data)))

    # estates
    @get("/estates")
    async def list_estates(self, request: Req, community_id: int | None = None, limit: Limit = 100,
                           offset: Offset = 0) -> list[EstateOut]:
        where = [repo.Estate.community == community_id] if community_id else []
        rows = await repo.Estates(request.user).list_with_street(*where, limit=limit, offset=offset)
        return [svc.estate_out(r) for r in rows]

    @post("/estates")
    async def create_estate(self, request: Req, data: EstateIn, tx: object) -> EstateOut:
        return svc.estate_out(await svc.create_estate(
            request.user, data.community_id, name=data.name, address=data.address,
            developer=data.developer))

    @get("/estates/{estate_id:int}")
    async def get_estate(self, request: Req, estate_id: int) -> EstateOut:
        return svc.estate_out(await svc.get_estate(request.user, estate_id))

    @patch("/estates/{estate_id:int}")
    async def update_estate(self, request: Req, estate_id: int, data: EstateUpdate, tx: object) -> EstateOut:
        return svc.estate_out(await svc.update_estate(request.user, estate_id, changes(data)))

    # buildings
    @get("/estates/{estate_id:int}/buildings")
    async def list_buildings(self, request: Req, estate_id: int, limit: Limit = 100,
                             offset: Offset = 0) -> list[BuildingOut]:
        await svc.get_estate(request.user, estate_id)
        rows = await repo.Buildings(request.user).list(repo.Building.estate == estate_id, limit=limit,
                                                       offset=offset)
        return [svc.building_out(r) for r in rows]

    @post("/estates/{estate_id:int}/buildings")
    async def create_building(self, request: Req, estate_id: int, data: BuildingIn,
                              tx: object) -> BuildingOut:
        return svc.building_out(await svc.create_building(request.user, estate_id, data.name, data.floors))

    @get("/buildings/{building_id:int}")
    async def get_building(self, request: Req, building_id: int) -> BuildingOut:
        return svc.building_out(await svc.get_building(request.user, building_id))

    @patch("/buildings/{building_id:int}")
    async def update_building(self, request: Req, building_id: int, data: BuildingUpdate,
                              tx: object) -> BuildingOut:
        return svc.building_out(await svc.update_building(request.user, building_id, changes(data)))

    # units
    @get("/buildings/{building_id:int}/units")
    async def list_units(self, request: Req, building_id: int, limit: Limit = 100,
                         offset: Offset = 0) -> list[UnitOut]:
        await svc.get_building(request.user, building_id)
        rows = await repo.Units(request.user).list(repo.Unit.building == building_id, limit=limit,
                                                   offset=offset)
        return [svc.unit_out(r) for r in rows]

    @post("/buildings/{building_id:int}/units")
    async def create_unit(self, request: Req, building_id: int, data: UnitIn, tx: object) -> UnitOut:
        return svc.unit_out(await svc.create_unit(
            request.user, building_id, number=data.number, exclusive_area=data.exclusive_area,
            floor=data.floor, developer_unsold=data.developer_unsold))

    @get("/units/{unit_id:int}")
    async def get_unit(self, request: Req, unit_id: int) -> UnitOut:
        return svc.unit_out(await svc.get_unit(request.user, unit_id))

    @patch("/units/{unit_id:int}")
    async def update_unit(self, request: Req, unit_id: int, data: UnitUpdate, tx: object) -> UnitOut:
        return svc.unit_out(await svc.update_unit(request.user, unit_id, changes(data)))


class PeopleController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["people"]

    @get("/units/{unit_id:int}/owners")
    async def list_owners(self, request: Req, unit_id: int) -> list[OwnershipOut]:
        return await svc.owners_of(request.user, unit_id)

    @post("/units/{unit_id:int}/owners")
    async def add_owner(self, request: Req, unit_id: int, data: OwnershipIn, tx: object) -> OwnershipOut:
        person = None
        if data.person is not None:
            person = {"name": data.person.name, "phone": data.person.phone}
        return await svc.add_owner(request.user, unit_id, data.person_id, person)

    @delete("/ownerships/{ownership_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def remove_owner(self, request: Req, ownership_id: int, tx: object) -> None:
        await svc.remove_owner(request.user, ownership_id)

    @get("/persons/{person_id:int}", summary="A person, masked")
    async def get_person(self, request: Req, person_id: int) -> PersonOut:
        return svc.person_out(await svc.get_person(request.user, person_id))

    @get("/persons/{person_id:int}/contact",
         summary="A person's full name and phone, for roles that need them; the view is logged")
    async def person_contact(self, request: Req, person_id: int, tx: object,
                             purpose: Annotated[str, Parameter(min_length=2, max_length=100)]) -> PersonOut:
        return svc.person_out(await svc.person_contact(request.user, person_id, purpose), masked=False)

    @patch("/persons/{person_id:int}")
    async def update_person(self, request: Req, person_id: int, data: PersonUpdate, tx: object) -> PersonOut:
        return svc.person_out(await svc.update_person(request.user, person_id, changes(data)))
