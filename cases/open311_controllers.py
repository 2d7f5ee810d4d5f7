"""Open311 GeoReport v2 endpoints (cases.open311) and the administration of their API keys.

Every Open311 resource exists as `<name>.json` and `<name>.xml`; a resource with an id takes
the extension on the id (`requests/42.xml`; no extension: JSON). Errors under /open311 use the
spec's format (see `_error`); the key administration under /api/v1 answers problem documents.
"""
from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.exceptions import HTTPException

from cases import open311
from cases.open311 import KeyIn, KeyOut, Open311Error
from core.problems import AppError
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]


def _format(request: Request) -> str:
    return open311.split_format(request.url.path.rsplit("/", 1)[-1])[1]


def _media(fmt: str) -> str:
    # Litestar adds "; charset=utf-8" to text/* types itself.
    return open311.FORMATS[fmt].split(";")[0] if fmt == "xml" else open311.FORMATS[fmt]


def _answer(request: Request, body: Any, root: str, item: str | None = None,
            status: int = 200) -> Response:
    fmt = _format(request)
    return Response(open311.render(body, fmt, root, item), status_code=status,
                    media_type=_media(fmt))


def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Open311Error):
        err = exc
    elif isinstance(exc, AppError):
        err = open311.from_app_error(exc)
    elif isinstance(exc, HTTPException):
        err = Open311Error(exc.status_code, str(exc.detail))
    else:
        raise exc
    fmt = _format(request)
    return Response(open311.render_error(err, fmt), status_code=err.code,
                    media_type=_media(fmt))


def _paths(name: str) -> list[str]:
    return [f"/{name}.{fmt}" for fmt in open311.FORMATS]


async def _key(request: Request, form: dict[str, str] | None = None) -> open311.ApiKey:
    return await open311.authenticate((form or {}).get("api_key")
                                      or request.query_params.get("api_key"))


async def _jurisdiction(request: Request) -> None:
    """Services need no key; when one is sent it names the jurisdiction."""
    key = await _key(request) if request.query_params.get("api_key") else None
    await open311.check_jurisdiction(request.query_params.get("jurisdiction_id"), key)


class Open311Controller(Controller):
    """GeoReport v2. discovery and services are open (they describe our fixed categories);
    requests and tokens need the `api_key` (query string, or the form for POST)."""

    path = "/open311/v2"
    tags = ["open311"]
    exception_handlers = {Open311Error: _error, AppError: _error, HTTPException: _error}

    @get(_paths("discovery"), summary="Open311 discovery: the endpoint, its formats and keys")
    async def discovery(self, request: Request) -> Response:
        return _answer(request, open311.discovery(str(request.base_url)), "discovery")

    @get(_paths("services"), summary="Open311 services: our case categories")
    async def services(self, request: Request, tx: object) -> Response:
        await _jurisdiction(request)
        return _answer(request, open311.services(), "services", "service")

    @get("/services/{service_code:str}", summary="Open311 service definition (`repair.xml`)")
    async def service_definition(self, request: Request, service_code: str, tx: object) -> Response:
        await _jurisdiction(request)
        code, _fmt = open311.split_format(service_code)
        return _answer(request, open311.service_definition(code), "service_definition")

    @post(_paths("requests"), summary="Open311: file a service request (form-encoded, api_key)")
    async def create_request(self, request: Request, tx: object) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        key = await _key(request, form)
        await open311.check_jurisdiction(form.get("jurisdiction_id")
                                         or request.query_params.get("jurisdiction_id"), key)
        body = await open311.create_request(key, form)
        return _answer(request, body, "service_requests", "request", status=201)

    @get(_paths("requests"), summary="Open311: service requests of the key's estates, filtered")
    async def list_requests(self, request: Request, tx: object) -> Response:
        key = await _key(request)
        body = await open311.list_requests(key, dict(request.query_params))
        return _answer(request, body, "service_requests", "request")

    @get("/requests/{service_request_id:str}", summary="Open311: one service request (`42.xml`)")
    async def get_request(self, request: Request, service_request_id: str, tx: object) -> Response:
        key = await _key(request)
        body = await open311.get_request(key, open311.split_format(service_request_id)[0])
        return _answer(request, body, "service_requests", "request")

    @get("/tokens/{token:str}", summary="Open311: the request id of a token (`42.json`)")
    async def token(self, request: Request, token: str, tx: object) -> Response:
        key = await _key(request)
        body = await open311.token(key, open311.split_format(token)[0])
        return _answer(request, body, "service_requests", "request")


class Open311KeyController(Controller):
    """An organisation's Open311 API keys: its administrators (or the housing bureau's) create,
    list and revoke them; a new key is shown once and stored hashed."""

    path = "/api/v1"
    guards = [authenticated]
    tags = ["open311"]

    @post("/organizations/{organization_id:int}/open311-keys",
          summary="Create an Open311 API key for the organisation (the key is shown once)")
    async def create(self, request: Req, organization_id: int, data: KeyIn, tx: object) -> KeyOut:
        return await open311.create_key(request.user, organization_id, data.name)

    @get("/organizations/{organization_id:int}/open311-keys",
         summary="The organisation's Open311 API keys (without the keys themselves)")
    async def list_keys(self, request: Req, organization_id: int, tx: object) -> list[KeyOut]:
        return await open311.list_keys(request.user, organization_id)

    @delete("/open311-keys/{key_id:int}", summary="Revoke an Open311 API key")
    async def revoke(self, request: Req, key_id: int, tx: object) -> None:
        await open311.revoke_key(request.user, key_id)
