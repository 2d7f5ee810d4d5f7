"""Web shell: login, logout, language switch, and the home page of the signed-in user."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import Struct

from core.i18n import N_, normalize
from core.problems import AppError
from core.settings import get_settings
from tenancy import accounts, auth
from tenancy.auth import SESSION_COOKIE
from tenancy.controllers import client_ip
from tenancy.guards import CAPABILITY_LABELS, capabilities
from tenancy.principal import Principal

KIND_LABELS = {
    "residents_committee": N_("Residents' committee"),
    "owners_committee": N_("Owners' committee"),
    "property_company": N_("Property-service company"),
    "street_office": N_("Street office"),
    "housing_bureau": N_("Housing bureau"),
}
ROLE_LABELS = {
    "admin": N_("Administrator"), "director": N_("Director"), "staff": N_("Staff"),
    "grid_worker": N_("Grid worker"), "chair": N_("Chair"), "vice_chair": N_("Vice-chair"),
    "secretary": N_("Secretary"), "member": N_("Member"), "manager": N_("Project manager"),
    "dispatcher": N_("Dispatcher"), "handler": N_("Handler"),
}


class LoginForm(Struct):
    username: str = ""
    password: str = ""
    next: str = "/"


def safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login form can't be used as an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


@get("/login", include_in_schema=False)
async def login_page(request: Request, next: str = "/") -> Template | Redirect:
    if request.scope.get("user") is not None:
        return Redirect(safe_next(next))
    return Template("login.html", context={"next": safe_next(next), "error": None})


@post("/login", include_in_schema=False)
async def login_submit(request: Request, tx: object,
                       data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                       ) -> Template | Redirect:
    try:
        token, expires, _user = await accounts.login(
            data.username.strip(), data.password, kind="web", ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""))
    except AppError as exc:
        return Template("login.html", status_code=exc.status, headers=exc.headers or None, context={
            "next": safe_next(data.next), "error": exc.detail, "username": data.username})
    settings = get_settings()
    response = Redirect(safe_next(data.next))
    # A fresh random token per login: a session id planted before login is never reused.
    # Litestar's `expires` counts seconds from now (not a timestamp), so give max_age.
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=settings.cookie_secure,
                        samesite="lax", max_age=max(0, int((expires - auth.now()).total_seconds())),
                        path="/")
    return response


@post("/logout", include_in_schema=False)
async def logout_submit(request: Request, tx: object) -> Redirect:
    if request.scope.get("user") is not None:
        await accounts.logout(request.user)
    response = Redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/lang/{code:str}", include_in_schema=False)
async def switch_language(code: str, next: str = "/") -> Redirect:
    response = Redirect(safe_next(next))
    lang = normalize(code)
    if lang:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


@get("/", include_in_schema=False)
async def home(request: Request) -> Template | Redirect:
    p: Principal | None = request.scope.get("user")
    if p is None:
        return Redirect("/login")
    seats = [{"seat": s, "kind_label": KIND_LABELS[s.kind], "role_label": ROLE_LABELS.get(s.role, s.role),
              "capabilities": [CAPABILITY_LABELS[c] for c in capabilities(s)]} for s in p.seats]
    return Template("home.html", context={"me": p, "seats": seats})


PAGES = [login_page, login_submit, logout_submit, switch_language, home]
