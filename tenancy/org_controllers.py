"""Admin API for organisations, their coverage, users and memberships."""
from __future__ import annotations

from litestar import Controller, delete, get, patch, post, put
from litestar.status_codes import HTTP_204_NO_CONTENT

from tenancy import accounts
from tenancy import repository as repo
from tenancy.guards import authenticated
from tenancy.place_controllers import Limit, Offset, Req
from tenancy.schemas import (
    CoverageItem,
    MemberOut,
    MembershipIn,
    MembershipUpdate,
    OrganizationIn,
    OrganizationOut,
    OrganizationUpdate,
    OrgKind,
    UserIn,
    UserOut,
    UserUpdate,
    changes,
)


def member_out(r: dict) -> MemberOut:
    return MemberOut(id=r["id"], user_id=r["user"], display_name=r.get("display_name", ""),
                     role=r["role"])


class OrganizationController(Controller):
    path = "/api/v1/organizations"
    guards = [authenticated]
    tags = ["organisations"]

    @get("/")
    async def list_organizations(self, request: Req, kind: OrgKind | None = None, limit: Limit = 100,
                                 offset: Offset = 0) -> list[OrganizationOut]:
        return await accounts.organizations(request.user, kind.value if kind else None, limit, offset)

    @post("/")
    async def create_organization(self, request: Req, data: OrganizationIn, tx: object) -> OrganizationOut:
        return await accounts.create_organization(request.user, data.kind.value, data.name,
                                                  data.credit_code, data.phone, data.coverage)

    @get("/{organization_id:int}")
    async def get_organization(self, request: Req, organization_id: int) -> OrganizationOut:
        return await accounts.get_organization(request.user, organization_id)

    @patch("/{organization_id:int}")
    async def update_organization(self, request: Req, organization_id: int, data: OrganizationUpdate,
                                  tx: object) -> OrganizationOut:
        return await accounts.update_organization(request.user, organization_id, changes(data))

    @put("/{organization_id:int}/coverage")
    async def set_coverage(self, request: Req, organization_id: int, data: list[CoverageItem],
                           tx: object) -> OrganizationOut:
        return await accounts.set_coverage(request.user, organization_id, data)

    @get("/{organization_id:int}/memberships")
    async def list_members(self, request: Req, organization_id: int) -> list[MemberOut]:
        return [member_out(r) for r in await accounts.members(request.user, organization_id)]

    @post("/{organization_id:int}/memberships")
    async def add_member(self, request: Req, organization_id: int, data: MembershipIn,
                         tx: object) -> MemberOut:
        row = await accounts.add_member(request.user, organization_id, data.user_id, data.role.value)
        return member_out(row)


class AccountController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["accounts"]

    @patch("/memberships/{membership_id:int}")
    async def update_member(self, request: Req, membership_id: int, data: MembershipUpdate,
                            tx: object) -> MemberOut:
        return member_out(await accounts.update_member(request.user, membership_id, data.role.value))

    @delete("/memberships/{membership_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def remove_member(self, request: Req, membership_id: int, tx: object) -> None:
        await accounts.remove_member(request.user, membership_id)

    @get("/users")
    async def list_users(self, request: Req, limit: Limit = 100, offset: Offset = 0) -> list[UserOut]:
        return [accounts.user_out(r) for r in await repo.Users(request.user).list(limit=limit, offset=offset)]

    @post("/users")
    async def create_user(self, request: Req, data: UserIn, tx: object) -> UserOut:
        values = {"username": data.username, "password": data.password,
                  "display_name": data.display_name, "phone": data.phone, "language": data.language}
        row = await accounts.create_user(request.user, values, data.organization_id,
                                         data.role.value if data.role else None)
        return accounts.user_out(row)

    @get("/users/{user_id:int}")
    async def get_user(self, request: Req, user_id: int) -> UserOut:
        return accounts.user_out(await accounts.get_user(request.user, user_id))

    @patch("/users/{user_id:int}")
    async def update_user(self, request: Req, user_id: int, data: UserUpdate, tx: object) -> UserOut:
        return accounts.user_out(await accounts.update_user(request.user, user_id, changes(data)))
