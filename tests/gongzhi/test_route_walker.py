"""Route walker: every route of the app is attacked from outside the victim side.

The victim side is everything under street 1 of tenant A (`world.a1`). The attackers are
tenant B's bureau admin (the strongest role of another tenant) and the admins of the
organisations of street 2 of tenant A. For every route, method and parameter variant:

- a request naming a victim resource (a path parameter or body id filled with a victim id)
  must get 403 or 404; the one exception is an id in the body only, which may be refused as
  invalid input (422) if the same body with an id that does not exist gets the very same
  answer (the service's `referenced` convention: the caller learns nothing either way);
- any other request may succeed or fail (< 500), but no response may carry the victim
  marker, the victim person's phone number or its masked form;
- no request may cause a 5xx; after the walk the victim's rows are unchanged.

Routes are read from the app itself, so a route added tomorrow is attacked tomorrow. Path
parameters, query parameters and body fields named `*_id` are filled from `id_sources`; an id
name the walker does not know fails the walk until someone adds it there. Bodies are built
from the handler's declared `data` type so that they pass validation and the authorisation
path is what gets tested. ROUTE_WALKER_VERBOSE=1 prints every request and its status.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import msgspec.inspect as mi
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg, DependencyKwarg, ParameterKwarg
from litestar.routes import HTTPRoute

from core.db import fetch
from tests.factories import PASSWORD, login, world_extensions

# Id names a route may take -> the `tests.factories.Side` field holding that id. Organisations,
# users and memberships are several per side and are chosen in `attackers`.
SIDE_ID_FIELDS = {"street_id": "street", "community_id": "community", "estate_id": "estate",
                  "building_id": "building", "unit_id": "unit", "person_id": "person",
                  "ownership_id": "ownership", "webhook_id": "webhook",
                  "contract_id": "contract", "document_id": "document",
                  "agreement_id": "agreement"}
# Body ids naming an organisation in a particular part (filled like organization_id).
ORGANIZATION_ROLES = ("property_company_id", "counterparty_id", "residents_committee_id",
                      "partner_organization_id")
ID_NAMES = (*SIDE_ID_FIELDS, "organization_id", "user_id", "membership_id", *ORGANIZATION_ROLES)
# Cases: the side's case, and the ids a case action's body carries (filled from what they name).
SIDE_ID_FIELDS["case_id"] = "case"
SIDE_ID_FIELDS["attachment_id"] = "attachment"
CASE_ACTION_IDS = {"assignee_user_id": "user_id", "target_organization_id": "organization_id",
                   "duplicate_of_case_id": "case_id"}
ID_NAMES = (*ID_NAMES, "case_id", *CASE_ACTION_IDS, "attachment_id")
# Open311 (cases.open311): an organisation's API key; a service request id is a case id.
SIDE_ID_FIELDS["key_id"] = "open311_key"
SIDE_ID_FIELDS["service_request_id"] = "case"
ID_NAMES = (*ID_NAMES, "key_id", "service_request_id")
# Domain packages' world hooks (tests/<package>/world.py): WALKER_IDS maps an id name to the key
# of `side.extra` that holds it; WALKER_ALIASES maps a body id name to the id name it is filled
# like (as CASE_ACTION_IDS does). An id name may be bound to a path prefix instead, as
# "/api/v1/documents:document_id", when the same name means different things on different routes.
EXTRA_ID_FIELDS: dict[str, str] = {}
for _module in world_extensions():
    EXTRA_ID_FIELDS.update(getattr(_module, "WALKER_IDS", {}))
    CASE_ACTION_IDS.update(getattr(_module, "WALKER_ALIASES", {}))
ID_NAMES = (*ID_NAMES, *(n for n in EXTRA_ID_FIELDS if ":" not in n),
            *(n for n in CASE_ACTION_IDS if n not in ID_NAMES))
VERBOSE = bool(os.environ.get("ROUTE_WALKER_VERBOSE"))
# Streaming routes end only when told to: the walker asks them to stop after a moment (what an
# attacker's stream carries is tested in tests/cases/test_stream.py).
STREAMING = {"/api/v1/events/stream": {"max_seconds": "0.3"},
             "/events/stream": {"max_seconds": "0.3"}}  # the same stream for web sessions
# Non-id path parameters get a harmless value (anything else gets one chosen by type).
HARMLESS_PATH_VALUES = {"code": "en", "path": "nothing-here", "file_path": "app.css",
                        "day": "2031-01-06",  # a calendar day: the attacker's own tenant's
                        "action": "assign",  # a case action that takes an id in its body
                        "service_code": "repair.xml", "token": "x.json"}  # Open311
# Routes anyone may call without logging in: (method or None for all, path prefix).
PUBLIC = ((None, "/health"), (None, "/metrics"), (None, "/schema*"), (None, "/login"),
          (None, "/lang/*"), (None, "/static/*"), ("POST", "/api/v1/auth/login"),
          # Open311 discovery and services describe our fixed category list (no tenant data),
          # and the spec lets anyone read them; every other /open311 route needs an api_key.
          ("GET", "/open311/v2/discovery*"), ("GET", "/open311/v2/services*"),
          # Anyone may verify a signed PDF, fetch the CA certificate and ask for a timestamp.
          ("POST", "/api/v1/documents/verify"), (None, "/verify"), ("GET", "/api/v1/signing/ca.pem"),
          ("GET", "/api/v1/signing/crl"), ("POST", "/api/v1/tsa"))
RESERVED_KWARGS = {"self", "request", "socket", "state", "scope", "headers", "cookies", "query",
                   "body", "data"}
ATTACKER_PERSONAS = ("street_office:admin", "property_company:admin", "owners_committee:admin",
                     "residents_committee:admin")
PATH_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def is_id_name(name: str) -> bool:
    return name == "id" or name.endswith("_id") or name.endswith("_ids")


def id_key(name: str) -> str:
    return name[:-1] if name.endswith("_ids") else name


def for_path(ids: dict[str, list[int]], path: str) -> dict[str, list[int]]:
    """`ids` with the prefix-bound names ("/prefix:name") applied where `path` starts so."""
    out = {name: v for name, v in ids.items() if ":" not in name}
    for bound, v in ids.items():
        prefix, _, name = bound.rpartition(":")
        if prefix and path.startswith(prefix):
            out[name] = v
    return out


def is_public(method: str, path: str) -> bool:
    return any(m in (None, method) and (path.startswith(p[:-1]) if p.endswith("*") else path == p)
               for m, p in PUBLIC)


# --- the routes -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    path: str  # the route template, e.g. /api/v1/units/{unit_id:int}
    method: str
    handler: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_api(self) -> bool:
        return self.path.startswith(("/api/", "/open311/"))

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return [(m.group(1), m.group(2) or "str") for m in PATH_PARAM.finditer(self.path)]


def endpoints(app) -> tuple[list[Endpoint], list[str]]:
    """Every (route, method) of the app but OPTIONS/HEAD and static files; and the paths of
    routes that are not plain HTTP (websockets, mounted ASGI apps), which are not walked."""
    found, others = [], []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            others.append(route.path)
            continue
        if route.path.startswith("/static"):
            continue
        for handler in route.route_handlers:
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                found.append(Endpoint(route.path, method, handler))
    return sorted(found, key=lambda e: (e.path, e.method)), others


@dataclass
class Signature:
    query: list[tuple[str, Any, Any, bool]] = field(default_factory=list)  # name, type, kwarg, required
    headers: list[tuple[str, Any, Any, bool]] = field(default_factory=list)
    data: Any = None
    media_type: str = RequestEncodingType.JSON.value


def signature(ep: Endpoint) -> Signature:
    sig = Signature()
    path_names = {name for name, _ in ep.path_params}
    dependencies = set(ep.handler.resolve_dependencies())
    for name, fd in ep.handler.parsed_fn_signature.parameters.items():
        kwarg = fd.kwarg_definition
        if name == "data":
            sig.data = fd.annotation
            if isinstance(kwarg, BodyKwarg) and kwarg.media_type:
                sig.media_type = getattr(kwarg.media_type, "value", kwarg.media_type)
            continue
        if name in RESERVED_KWARGS or name in dependencies or name in path_names \
                or isinstance(kwarg, DependencyKwarg):
            continue
        required = not fd.has_default and not fd.is_optional
        if isinstance(kwarg, ParameterKwarg) and (kwarg.header or kwarg.cookie):
            sig.headers.append((kwarg.header or kwarg.cookie, fd.annotation, kwarg, required))
        else:
            alias = kwarg.query if isinstance(kwarg, ParameterKwarg) and kwarg.query else name
            sig.query.append((alias, fd.annotation, kwarg, required))
    return sig


# --- values ------------------------------------------------------------------------------------
class UnknownIdName(AssertionError):
    pass


FILE = object()  # placeholder for an uploaded file in a generated form


class Filler:
    """Builds values that pass validation for a msgspec type, with ids from `ids`.

    Id fields are "slots": required ones always get the first id of their name; optional ones
    are left out unless the variant being built sets them (see `body_variants`)."""

    def __init__(self, ids: dict[str, list[int]], marker: str, where: str) -> None:
        self.ids = ids
        self.marker = marker
        self.where = where
        self.slots: list[tuple[tuple, str]] = []
        self.assignment: dict[tuple, int] = {}
        self.counter = itertools.count(1)

    def id_values(self, name: str) -> list[int]:
        key = id_key(name)
        if key not in self.ids:
            raise UnknownIdName(
                f"{self.where}: the route walker does not know the id name '{name}'. Map it to "
                f"a victim id (SIDE_ID_FIELDS / `id_sources` in tests/gongzhi/test_route_walker.py,"
                f" and the test world in tests/factories.py if it lacks one) so this route is "
                f"attacked with the victim's '{key}'.")
        return self.ids[key]

    def string(self, t: mi.StrType, name: str) -> str:
        n = next(self.counter)
        token = f"{self.marker}{n:04d}"
        candidates = [token, f"{token} 名称", f"Atk-pass-{n:04d}-x9Q7", "13900001111", "zh-CN", "en",
                      "91110108MA01C3DE5F", "2026-01-01", "a"]
        if "password" in name:
            candidates.insert(0, f"Atk-pass-{n:04d}-x9Q7")
        for c in candidates:
            if t.max_length is not None:
                c = c[:t.max_length]
            if t.min_length is not None and len(c) < t.min_length:
                c += "a" * (t.min_length - len(c))
            if t.pattern is None or re.search(t.pattern, c):
                return c
        raise AssertionError(f"{self.where}: no test string matches the pattern {t.pattern!r} of "
                             f"'{name}'; add a candidate to Filler.string")

    @staticmethod
    def number(t, start):
        lo = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else None)
        hi = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else None)
        v = start
        if lo is not None:
            v = max(v, lo)
        if hi is not None:
            v = min(v, hi)
        return v

    def value(self, t: Any, name: str, path: tuple) -> Any:
        if isinstance(t, mi.Metadata):
            return self.value(t.type, name, path)
        if isinstance(t, mi.UnionType):
            options = [x for x in t.types if not isinstance(x, mi.NoneType)]
            return self.value(options[0], name, path) if options else None
        if isinstance(t, (mi.StructType, mi.DataclassType, mi.TypedDictType, mi.NamedTupleType)):
            return self.record(t, path)
        if isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
            return [self.value(t.item_type, name, (*path, 0))]
        if isinstance(t, mi.TupleType):
            return [self.value(x, name, (*path, i)) for i, x in enumerate(t.item_types)]
        if isinstance(t, mi.DictType):
            return {}
        if isinstance(t, mi.EnumType):
            return next(iter(t.cls)).value
        if isinstance(t, mi.LiteralType):
            return t.values[0]
        if isinstance(t, mi.StrType):
            return self.string(t, name)
        if isinstance(t, mi.BoolType):
            return False
        if isinstance(t, mi.IntType):
            return self.number(t, 1)
        if isinstance(t, mi.FloatType):
            return float(self.number(t, 1))
        if isinstance(t, mi.DecimalType):
            return "50.00"
        if isinstance(t, mi.DateTimeType):
            return dt.datetime.now(dt.timezone.utc).isoformat()
        if isinstance(t, mi.DateType):
            return dt.date.today().isoformat()
        if isinstance(t, mi.TimeType):
            return "09:00:00"
        if isinstance(t, mi.UUIDType):
            return str(uuid.uuid4())
        if isinstance(t, (mi.BytesType, mi.ByteArrayType, mi.MemoryViewType)):
            return "eA=="
        if isinstance(t, mi.NoneType):
            return None
        if isinstance(t, mi.AnyType):
            return f"{self.marker}-any"
        if isinstance(t, mi.CustomType) and t.cls.__name__ == "UploadFile":
            return FILE
        raise AssertionError(f"{self.where}: the route walker cannot build a value of {t!r} for "
                             f"'{name}'; teach Filler.value this type")

    def record(self, t: Any, path: tuple) -> dict:
        out: dict[str, Any] = {}
        # "An existing thing by id, or a new one": when an optional id is set, optional nested
        # records beside it are left out, so the body asks for the id alone.
        id_chosen = any((*path, getattr(f, "encode_name", f.name)) in self.assignment
                        for f in t.fields if not f.required)
        for f in t.fields:
            key = getattr(f, "encode_name", f.name)
            slot = (*path, key)
            if id_chosen and not f.required and _is_record(f.type) and not is_id_name(f.name):
                continue
            if is_id_name(f.name) and not _is_record(f.type):
                values = self.id_values(f.name)
                self.slots.append((slot, f.name))
                if slot in self.assignment:
                    chosen = self.assignment[slot]
                elif f.required:
                    chosen = values[0]
                else:
                    continue  # an optional id is set by its own variant only
                out[key] = [chosen] if _is_list(f.type) else chosen
            else:
                out[key] = self.value(f.type, f.name, slot)
        return out


def _unwrap(t: Any) -> Any:
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.UnionType):
        options = [x for x in t.types if not isinstance(x, mi.NoneType)]
        return _unwrap(options[0]) if options else t
    return t


def _is_record(t: Any) -> bool:
    t = _unwrap(t)
    if isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return _is_record(t.item_type)
    return isinstance(t, (mi.StructType, mi.DataclassType, mi.TypedDictType, mi.NamedTupleType))


def _is_list(t: Any) -> bool:
    return isinstance(_unwrap(t), (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType))


GHOST_ID = 2_000_000_000  # an id nothing has: the victim's ids must look exactly like it


def body_variants(annotation: Any, ids: dict[str, list[int]], marker: str,
                  where: str) -> tuple[list[tuple[Any, Any]], bool]:
    """Bodies for `annotation`: one per (id slot, id value), so every id field is tried with
    every id of its name; a single body when there are no id fields. Each comes with its
    "ghost": the same body with the ids replaced by GHOST_ID. Returns (pairs, has_ids)."""
    if annotation is None:
        return [(None, None)], False
    t = mi.type_info(annotation)
    probe = Filler(ids, marker, where)
    base = probe.value(t, "data", ())
    if not probe.slots:
        return [(base, None)], False
    ghost_ids = {name: [GHOST_ID] for name in ids}
    pairs = []
    for slot, name in dict.fromkeys(probe.slots):
        for value in probe.id_values(name):
            real, ghost = Filler(ids, marker, where), Filler(ghost_ids, marker, where)
            real.assignment, ghost.assignment = {slot: value}, {slot: GHOST_ID}
            pairs.append((real.value(t, "data", ()), ghost.value(t, "data", ())))
    return pairs, True


def check_body_is_valid(annotation: Any, body: Any, where: str) -> None:
    """The generated body must pass the handler's own validation, or the walk tests nothing."""
    try:
        msgspec.json.decode(msgspec.json.encode(body), type=annotation, strict=False)
    except msgspec.ValidationError as exc:
        raise AssertionError(f"{where}: the walker built an invalid body {body!r}: {exc}") from exc


def param_value(annotation: Any, kwarg: Any, name: str, marker: str, where: str) -> str:
    t = _unwrap(mi.type_info(annotation))
    if isinstance(t, mi.StrType) and isinstance(kwarg, ParameterKwarg):
        t = mi.StrType(min_length=kwarg.min_length, max_length=kwarg.max_length,
                       pattern=kwarg.pattern)
    if isinstance(t, mi.IntType) and isinstance(kwarg, ParameterKwarg):
        t = mi.IntType(ge=kwarg.ge, gt=kwarg.gt, le=kwarg.le, lt=kwarg.lt)
    value = Filler({}, marker, where).value(t, name, ())
    return json.dumps(value) if isinstance(value, bool) else str(value)


# --- requests -----------------------------------------------------------------------------------
@dataclass
class Probe:
    endpoint: Endpoint
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any
    path_names_victim: bool  # a path parameter is the victim's
    body_names_victim: bool  # an id in the body is the victim's
    ghost_body: Any = None  # the body with GHOST_ID in place of the victim's ids

    @property
    def names_victim(self) -> bool:
        return self.path_names_victim or self.body_names_victim

    def ghost(self) -> Probe:
        return Probe(self.endpoint, self.url, self.params, self.headers, self.ghost_body,
                     self.path_names_victim, False)


def probes(ep: Endpoint, victim_ids: dict[str, list[int]], own_ids: dict[str, list[int]],
           marker: str) -> list[Probe]:
    victim_ids, own_ids = for_path(victim_ids, ep.path), for_path(own_ids, ep.path)
    sig = signature(ep)
    where = str(ep)
    bodies, body_has_ids = body_variants(sig.data, victim_ids, marker, where)
    if sig.data is not None and sig.media_type == RequestEncodingType.JSON.value:
        for b, _ghost in bodies:
            check_body_is_valid(sig.data, b, where)

    id_params = [n for n, _ in ep.path_params if is_id_name(n)]
    filler = Filler(victim_ids, marker, where)
    for n in id_params:
        filler.id_values(n)  # fails for an unknown id name
    fixed = {n: HARMLESS_PATH_VALUES.get(n, "1" if kind == "int" else "x")
             for n, kind in ep.path_params if not is_id_name(n)}

    def own(n: str) -> int:
        return own_ids[id_key(n)][0]

    path_sets: list[tuple[dict[str, int], bool]] = []  # (values, names the victim)
    for combo in itertools.product(*(victim_ids[id_key(n)] for n in id_params)):
        path_sets.append((dict(zip(id_params, combo)), bool(id_params)))
    if len(id_params) > 1:  # one victim id among the attacker's own: the classic IDOR
        for n in id_params:
            for v in victim_ids[id_key(n)]:
                path_sets.append(({**{m: own(m) for m in id_params}, n: v}, True))
    if id_params and body_has_ids:  # the attacker's own resource, with the victim's ids inside
        path_sets.append(({n: own(n) for n in id_params}, False))

    query_base: dict[str, str] = {}
    query_sets: list[dict[str, str]] = []
    for name, annotation, kwarg, required in sig.query:
        if is_id_name(name):
            values = filler.id_values(name)
            if required:
                query_base[name] = str(values[0])
            query_sets += [{name: str(v)} for v in values]
        elif required:
            query_base[name] = param_value(annotation, kwarg, name, marker, where)
    headers = {name: param_value(annotation, kwarg, name, marker, where)
               for name, annotation, kwarg, required in sig.headers if required}

    out = []
    for (values, path_names_victim), (body, ghost) in itertools.product(
            path_sets or [({}, False)], bodies):
        url = PATH_PARAM.sub(lambda m: str({**fixed, **values}[m.group(1)]), ep.path)
        for extra in [{}, *query_sets]:
            out.append(Probe(ep, url, {**query_base, **extra}, headers, body, path_names_victim,
                             body_has_ids, ghost))
    return out


async def send(c: httpx.AsyncClient, p: Probe, media_type: str, headers: dict[str, str]) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": {**p.params, **STREAMING.get(p.endpoint.path, {})},
                              "headers": {**p.headers, **headers}}
    if p.body is not None or p.endpoint.method in ("POST", "PUT", "PATCH"):
        if media_type == RequestEncodingType.JSON.value:
            kwargs["json"] = p.body
        else:
            fields = p.body if isinstance(p.body, dict) else ({"data": p.body} if p.body is not None else {})
            form = {k: (json.dumps(v) if isinstance(v, bool) else str(v)) for k, v in fields.items()
                    if v is not None and v is not FILE and not isinstance(v, (list, dict))}
            files = {k: ("ledger.csv", b"building,unit\n", "text/csv") for k, v in fields.items()
                     if v is FILE}
            if media_type == RequestEncodingType.MULTI_PART.value:
                kwargs["files"] = files or {"file": ("ledger.csv", b"building,unit\n", "text/csv")}
                kwargs["data"] = form
            else:
                kwargs["data"] = form
    return await c.request(p.endpoint.method, p.url, **kwargs)


# --- attackers and the victim -----------------------------------------------------------------------
def id_sources(side, *, orgs: list[int], users: list[int], memberships: list[int]) -> dict[str, list[int]]:
    ids = {name: [getattr(side, attr)] for name, attr in SIDE_ID_FIELDS.items()}
    ids.update({name: [side.extra[key]] for name, key in EXTRA_ID_FIELDS.items()})
    ids.update(organization_id=orgs, user_id=users, membership_id=memberships)
    ids.update({name: orgs for name in ORGANIZATION_ROLES})
    ids.update({name: ids[source] for name, source in CASE_ACTION_IDS.items()})
    assert {n for n in ids if ":" not in n} == set(ID_NAMES)
    return ids


@dataclass
class Attacker:
    label: str
    username: str
    own: dict[str, list[int]]
    victim: dict[str, list[int]]
    api: httpx.AsyncClient | None = None
    web: httpx.AsyncClient | None = None
    bearer: dict[str, str] = field(default_factory=dict)
    open311_api_key: str = ""  # /open311 takes no bearer token: the attacker's own API key


def make_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.8.8", 40001)),
                             base_url="http://testserver.local")


async def api_login(c: httpx.AsyncClient, username: str) -> dict[str, str]:
    """A fresh token (not the shared cache): the walk may log it out."""
    r = await c.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def web_login(c: httpx.AsyncClient, username: str | None) -> None:
    """A CSRF cookie, and (for a username) a web session cookie, in `c`'s cookie jar."""
    c.cookies.clear()
    await c.get("/login")
    assert c.cookies.get("gz_csrf"), "GET /login sets no CSRF cookie"
    if username:
        r = await c.post("/login", data={"username": username, "password": PASSWORD, "next": "/"},
                         headers=csrf(c))
        assert r.status_code in (301, 302, 303), r.text
        assert c.cookies.get("gz_session")


def csrf(c: httpx.AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": c.cookies.get("gz_csrf") or ""}


async def still_logged_in(a: Attacker) -> None:
    """The walk may call logout (API or web): log in again so the next probe runs as the attacker."""
    if (await a.api.get("/api/v1/me", headers=a.bearer)).status_code == 401:
        a.bearer = await api_login(a.api, a.username)
    if not a.web.cookies.get("gz_session") or (await a.web.get("/")).status_code != 200:
        await web_login(a.web, a.username)


def attackers(world) -> list[Attacker]:
    a1, a2, b = world.a1, world.a2, world.b
    victim_users = [a1.user_ids["residents_committee:grid_worker"], a1.user_ids["bureau:admin"]]
    victim_members = [a1.memberships["owners_committee:member"], a1.memberships["bureau:admin"]]
    same_tenant_victim = id_sources(a1, orgs=list(a1.orgs.values()), users=victim_users,
                                    memberships=victim_members)
    out = [Attacker(
        "tenant B bureau admin", b.users["bureau:admin"],
        id_sources(b, orgs=[world.bureau_b], users=[b.user_ids["bureau:admin"]],
                   memberships=[b.memberships["bureau:admin"]]),
        {**same_tenant_victim, "organization_id": [*a1.orgs.values(), world.bureau_a]},
        open311_api_key=b.open311_api_key)]
    for persona in ATTACKER_PERSONAS:
        kind = persona.split(":")[0]
        out.append(Attacker(
            f"tenant A street 2 {persona}", a2.users[persona],
            id_sources(a2, orgs=[a2.orgs[kind]], users=[a2.user_ids[persona]],
                       memberships=[a2.memberships[persona]]),
            same_tenant_victim, open311_api_key=a2.open311_api_key))
    return out


async def refused_like_a_ghost(c: httpx.AsyncClient, p: Probe, r: httpx.Response, media_type: str,
                               headers: dict[str, str]) -> bool:
    """A body naming the victim's id may be refused as invalid input (422: "does not exist or
    you may not see it") if the same body with an id nothing has gets the very same answer:
    then the caller learns nothing about the victim and nothing was done."""
    if r.status_code != 422:
        return False
    g = await send(c, p.ghost(), media_type, headers)

    def fields(resp: httpx.Response) -> list[Any]:
        try:
            return [e.get("field") for e in resp.json().get("errors") or []]
        except ValueError:
            return []
    return g.status_code == r.status_code and fields(g) == fields(r) and bool(fields(r))


def report(capsys, line: str) -> None:
    """A summary line on the terminal even when output is captured (pytest -q)."""
    with capsys.disabled():
        print(line)


def leaks(r: httpx.Response, needles: list[str]) -> list[str]:
    text = r.content.decode("utf-8", "replace") + " " + " ".join(
        f"{k}: {v}" for k, v in r.headers.items())
    return [n for n in needles if n in text]


# --- the victim's rows ----------------------------------------------------------------------------
async def victim_api_view(client, world) -> dict[str, Any]:
    """What the victim tenant's bureau admin reads of the victim side through the API."""
    a1 = world.a1
    h = await login(client, a1.users["bureau:admin"])
    urls = [f"/api/v1/streets/{a1.street}", f"/api/v1/communities?street_id={a1.street}",
            f"/api/v1/communities/{a1.community}", f"/api/v1/estates?community_id={a1.community}",
            f"/api/v1/estates/{a1.estate}", f"/api/v1/estates/{a1.estate}/buildings",
            f"/api/v1/buildings/{a1.building}", f"/api/v1/buildings/{a1.building}/units",
            f"/api/v1/units/{a1.unit}", f"/api/v1/units/{a1.unit}/owners",
            f"/api/v1/persons/{a1.person}", "/api/v1/tenant", "/api/v1/calendar?year=2031",
            *(f"/api/v1/organizations/{o}" for o in [*a1.orgs.values(), world.bureau_a]),
            *(f"/api/v1/organizations/{o}/memberships" for o in [*a1.orgs.values(), world.bureau_a]),
            *(f"/api/v1/users/{u}" for u in a1.user_ids.values()),
            f"/api/v1/organizations/{a1.orgs['property_company']}/webhooks",
            f"/api/v1/webhooks/{a1.webhook}/deliveries",
            f"/api/v1/contracts/{a1.contract}", f"/api/v1/contracts?estate_id={a1.estate}",
            f"/api/v1/contracts/{a1.contract}/documents/{a1.document}",
            f"/api/v1/co-building-agreements/{a1.agreement}"]
    urls += [f"/api/v1/cases/{a1.case}", f"/api/v1/cases/{a1.case}/events"]
    urls += [f"/api/v1/organizations/{a1.orgs['property_company']}/open311-keys",
             f"/open311/v2/requests/{a1.case}.json?api_key={a1.open311_api_key}"]
    urls += [f"/api/v1/cases/{a1.case}/attachments", f"/api/v1/attachments/{a1.attachment}",
             f"/api/v1/attachments/{a1.attachment}/thumbnail"]
    view = {}
    for url in urls:
        r = await client.get(url, headers=h)
        view[url] = (r.status_code, r.text)
    return view


async def victim_rows(world) -> dict[str, Any]:
    """The victim side's rows straight from the database (what the API may not show)."""
    a1 = world.a1
    orgs = [*a1.orgs.values(), world.bureau_a]
    users = list(a1.user_ids.values())
    queries = {
        "tenant": ("SELECT * FROM tenant WHERE id = $1", world.tenant_a),
        "street": ("SELECT * FROM street WHERE id = $1", a1.street),
        "communities": ("SELECT * FROM community WHERE street = $1 OR id = $2 ORDER BY id",
                        a1.street, a1.community),
        "estates": ("SELECT * FROM estate WHERE community = $1 OR id = $2 ORDER BY id",
                    a1.community, a1.estate),
        "buildings": ("SELECT * FROM building WHERE estate = $1 ORDER BY id", a1.estate),
        "units": ("SELECT * FROM unit WHERE estate = $1 ORDER BY id", a1.estate),
        "ownerships": ("SELECT * FROM ownership WHERE estate = $1 OR person = $2 ORDER BY id",
                       a1.estate, a1.person),
        "person": ("SELECT * FROM person WHERE id = $1", a1.person),
        "organizations": ("SELECT * FROM organization WHERE id = ANY($1::int[]) ORDER BY id", orgs),
        "coverage": ("SELECT * FROM organization_coverage WHERE organization = ANY($1::int[])"
                     " OR street = $2 OR community = $3 OR estate = $4 ORDER BY id",
                     orgs, a1.street, a1.community, a1.estate),
        "users": ("SELECT * FROM app_user WHERE id = ANY($1::int[]) OR person = $2 ORDER BY id",
                  users, a1.person),
        "memberships": ("SELECT * FROM membership WHERE \"user\" = ANY($1::int[])"
                        " OR organization = ANY($2::int[]) ORDER BY id", users, orgs),
        "tokens": ("SELECT id, revoked_at, expires_at FROM auth_token WHERE \"user\" = ANY($1::int[])"
                   " ORDER BY id", users),
        "contact_views": ("SELECT * FROM contact_view WHERE person = $1 ORDER BY id", a1.person),
        "webhooks": ("SELECT * FROM webhook_subscription WHERE organization_id = ANY($1::int[])"
                     " ORDER BY id", orgs),
        "webhook_tests": ("SELECT id FROM outbox_event WHERE topic = 'webhook.test'"
                          " AND payload->>'webhook_id' = $1 ORDER BY id", str(a1.webhook)),
        "calendar": ("SELECT * FROM calendar_day WHERE tenant = $1 ORDER BY date", world.tenant_a),
        "contracts": ("SELECT * FROM service_contract WHERE estate = $1 OR id = $2 ORDER BY id",
                      a1.estate, a1.contract),
        "contract_documents": ("SELECT * FROM contract_document WHERE contract = $1 ORDER BY id",
                               a1.contract),
        "agreements": ("SELECT * FROM co_building_agreement WHERE community = $1 OR id = $2"
                       " ORDER BY id", a1.community, a1.agreement),
    }
    queries["cases"] = ("SELECT * FROM case_record WHERE estate = $1 ORDER BY id", a1.estate)
    queries["case_events"] = ("SELECT * FROM case_event WHERE \"case\" IN (SELECT id FROM"
                              " case_record WHERE estate = $1) ORDER BY id", a1.estate)
    queries["case_attachments"] = ("SELECT * FROM case_attachment WHERE \"case\" IN (SELECT id"
                                   " FROM case_record WHERE estate = $1) ORDER BY id", a1.estate)
    queries["case_followers"] = ("SELECT * FROM case_follower WHERE \"case\" IN (SELECT id"
                                 " FROM case_record WHERE estate = $1) ORDER BY id", a1.estate)
    queries["open311_keys"] = ("SELECT * FROM open311_api_key WHERE organization = ANY($1::int[])"
                               " ORDER BY id", orgs)
    queries["routing_rules"] = ("SELECT * FROM routing_rule WHERE tenant = $1 ORDER BY id",
                                world.tenant_a)
    queries["signing_credentials"] = ("SELECT * FROM signing_credential WHERE \"user\" ="
                                      " ANY($1::int[]) OR organization = ANY($2::int[])"
                                      " ORDER BY id", users, orgs)
    return {name: await fetch(sql, *args) for name, (sql, *args) in queries.items()}


# --- the tests ---------------------------------------------------------------------------------------
def test_every_id_name_in_a_route_has_a_victim_mapping(app):
    """Fails as soon as a route takes an id the walker cannot fill, before anything is sent."""
    known = {n: [1] for n in ID_NAMES}
    problems = []
    for ep in endpoints(app)[0]:
        try:
            probes(ep, known, known, "ATK")
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


async def test_attackers_get_403_or_404_and_no_victim_data_on_every_route(app, client, world, capsys):
    eps, not_walked = endpoints(app)
    assert len(eps) >= 40, f"the walker found only {len(eps)} endpoints: is route discovery broken?"
    needles = [world.a1.marker, "13811112222", "138****2222"]
    api_before, rows_before = await victim_api_view(client, world), await victim_rows(world)
    unread = [url for url, (status, _) in api_before.items() if status != 200]
    assert not unread, f"the victim's bureau admin cannot read {unread}: are the world's ids right?"

    failures: list[str] = []
    counts: Counter[str] = Counter()
    outcome: Counter[int] = Counter()
    for a in attackers(world):
        a.api, a.web = make_client(app), make_client(app)
        a.bearer = await api_login(a.api, a.username)
        await web_login(a.web, a.username)
        marker = "ATK" + uuid.uuid4().hex[:6]
        try:
            for ep in eps:
                media_type = signature(ep).media_type
                for p in probes(ep, a.victim, a.own, marker):
                    if ep.path.startswith("/open311/"):
                        p.params = {**p.params, "api_key": a.open311_api_key}
                    c = a.api if ep.is_api else a.web
                    headers = a.bearer if ep.is_api else csrf(c)
                    r = await send(c, p, media_type, headers)
                    counts[a.label] += 1
                    outcome[r.status_code] += 1
                    if VERBOSE:
                        print(f"[{a.label}] {ep.method} {p.url} {p.params or ''} -> {r.status_code}")
                    what = f"[{a.label}] {ep.method} {p.url} {p.params or ''} body={p.body!r}"
                    if r.status_code >= 500:
                        failures.append(f"{what} -> {r.status_code} (server error): {r.text[:300]}")
                    elif p.names_victim and r.status_code not in (403, 404):
                        if not (p.body_names_victim and not p.path_names_victim
                                and await refused_like_a_ghost(c, p, r, media_type, headers)):
                            failures.append(f"{what} names a victim resource but got "
                                            f"{r.status_code}: {r.text[:300]}")
                    if found := leaks(r, needles):
                        failures.append(f"{what} -> {r.status_code} shows victim data {found}: "
                                        f"{r.text[:300]}")
                    if ep.method != "GET":
                        await still_logged_in(a)
        finally:
            await a.api.aclose()
            await a.web.aclose()

    api_after, rows_after = await victim_api_view(client, world), await victim_rows(world)
    changed = [k for k in rows_before if rows_before[k] != rows_after[k]]
    changed += [k for k in api_before if api_before[k] != api_after[k]]
    if changed:
        failures.append(f"the walk changed the victim's data: {changed}")
    report(capsys, f"\nroute walker: {len(eps)} endpoints x {len(counts)} attackers = "
           f"{sum(counts.values())} requests; statuses {dict(sorted(outcome.items()))}"
           + (f"; not walked (not HTTP): {not_walked}" if not_walked else ""))
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:80])


async def test_anonymous_callers_are_refused_on_every_route_that_is_not_public(app, client, world,
                                                                              capsys):
    eps, _ = endpoints(app)
    a1 = world.a1
    victim = id_sources(a1, orgs=list(a1.orgs.values()), users=list(a1.user_ids.values())[:1],
                        memberships=list(a1.memberships.values())[:1])
    needles = [a1.marker, "13811112222", "138****2222"]
    failures = []
    async with make_client(app) as c:
        await web_login(c, None)  # a CSRF cookie only: pages must then send anonymous users to /login
        for ep in eps:
            media_type = signature(ep).media_type
            public = is_public(ep.method, ep.path)
            for p in probes(ep, victim, victim, "ANON" + uuid.uuid4().hex[:6])[:1]:
                r = await send(c, p, media_type, {} if ep.is_api else csrf(c))
                what = f"[anonymous] {ep.method} {p.url}"
                location = r.headers.get("location", "")
                if r.status_code >= 500:
                    failures.append(f"{what} -> {r.status_code} (server error)")
                elif not public and ep.is_api and r.status_code != 401:
                    failures.append(f"{what} -> {r.status_code}, expected 401")
                elif not public and not ep.is_api and not (
                        r.status_code == 401 or (300 <= r.status_code < 400
                                                 and location.split("?")[0].endswith("/login"))):
                    failures.append(f"{what} -> {r.status_code} {location}, expected 401 or a "
                                    f"redirect to /login")
                if found := leaks(r, needles):
                    failures.append(f"{what} shows victim data {found}")
    report(capsys, f"\nroute walker: {len(eps)} endpoints called anonymously, "
                    f"{sum(not is_public(e.method, e.path) for e in eps)} of them not public")
    assert not failures, "\n".join(failures)


def test_public_route_list_matches_only_what_it_should():
    assert is_public("GET", "/health") and is_public("GET", "/schema/openapi.json")
    assert is_public("POST", "/api/v1/auth/login") and is_public("GET", "/lang/{code:str}")
    assert not is_public("POST", "/api/v1/auth/logout") and not is_public("GET", "/")
    assert not is_public("GET", "/loginx") and not is_public("GET", "/api/v1/me")
