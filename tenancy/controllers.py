"""Auth, the caller's own account, and the tenant record."""
from __future__ import annotations

from litestar import Controller, Request, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from core.ratelimit import client_address
from tenancy import accounts, auth
from tenancy import repository as repo
from tenancy.guards import authenticated, tenant_admin
from tenancy.principal import Principal
from tenancy.schemas import LoginIn, MeOut, PasswordChangeIn, TenantOut, TenantUpdate, TokenOut, changes


def client_ip(request: Request) -> str:
    return client_address(request.scope)


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", summary="Log in and receive a bearer token", security=[])
    async def login(self, request: Request, data: LoginIn, tx: object) -> TokenOut:
        token, expires, _user = await accounts.login(
            data.username, data.password, kind="api", ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""))
        principal = await repo.load_principal(auth.token_hash(token), auth.now())
        return TokenOut(token=token, token_type="Bearer", expires_at=expires,
                        user=accounts.me(principal))  # type: ignore[arg-type]

    @post("/logout", guards=[authenticated], status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request[Principal, str, object], tx: object) -> None:
        await accounts.logout(request.user)

    @post("/password", guards=[authenticated], status_code=HTTP_204_NO_CONTENT)
    async def change_password(self, request: Request[Principal, str, object], data: PasswordChangeIn,
                              tx: object) -> None:
        await accounts.change_password(request.user, data.current_password, data.new_password)


class MeController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["auth"]

    @get("/me", summary="The caller, their memberships and what they may do")
    async def me(self, request: Request[Principal, str, object]) -> MeOut:
        return accounts.me(request.user)

    @get("/tenant")
    async def get_tenant(self, request: Request[Principal, str, object]) -> TenantOut:
        row = await repo.tenant(request.user.tenant_id)
        return TenantOut(id=row["id"], code=row["code"], name=row["name"])  # type: ignore[index]

    @patch("/tenant", guards=[tenant_admin])
    async def update_tenant(self, request: Request[Principal, str, object], data: TenantUpdate,
                            tx: object) -> TenantOut:
        row = await accounts.update_tenant(request.user, changes(data))
        return TenantOut(id=row["id"], code=row["code"], name=row["name"])
