"""Evaluations API: schemes and their versions; declared conflicts of interest."""
from __future__ import annotations

from litestar import Controller, Request, delete, get, post

from evaluations import conflicts, scheme_service
from evaluations.schemas import (
    ConflictIn,
    ConflictOut,
    SchemeIn,
    SchemeOut,
    SchemeVersionIn,
    SchemeVersionOut,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]


class SchemeController(Controller):
    path = "/api/v1/evaluation-schemes"
    guards = [authenticated]
    tags = ["evaluations"]

    @get("", summary="The tenant's evaluation schemes with their latest versions (the default "
                     "scheme is created on first use)")
    async def list_schemes(self, request: Req, tx: object) -> list[SchemeOut]:
        return await scheme_service.list_schemes(request.user)

    @post("", summary="Create a scheme with its first version (bureau administrators)")
    async def create_scheme(self, request: Req, data: SchemeIn, tx: object) -> SchemeOut:
        return await scheme_service.create_scheme(request.user, data)

    @post("/{scheme_id:int}/versions",
          summary="Add a version (bureau administrators); campaigns keep the version they use")
    async def add_version(self, request: Req, scheme_id: int, data: SchemeVersionIn,
                          tx: object) -> SchemeVersionOut:
        return await scheme_service.add_version(request.user, scheme_id, data)

    @get("/versions/{scheme_version_id:int}", summary="One scheme version")
    async def get_version(self, request: Req, scheme_version_id: int) -> SchemeVersionOut:
        return await scheme_service.get_version(request.user, scheme_version_id)


class ConflictController(Controller):
    path = "/api/v1/evaluation-conflicts"
    guards = [authenticated]
    tags = ["evaluations"]

    @get("", summary="Declared conflicts of interest (housing bureau)")
    async def list_conflicts(self, request: Req) -> list[ConflictOut]:
        return await conflicts.list_conflicts(request.user)

    @post("", summary="Declare that an organisation may not evaluate a property company "
                      "(bureau administrators)")
    async def declare(self, request: Req, data: ConflictIn, tx: object) -> ConflictOut:
        return await conflicts.declare(request.user, data)

    @delete("/{conflict_id:int}", summary="Withdraw a declared conflict (bureau administrators)")
    async def remove(self, request: Req, conflict_id: int, tx: object) -> None:
        await conflicts.remove(request.user, conflict_id)
