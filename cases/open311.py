"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) on top of the cases service.

- services: our case categories (service_code = category code), the same in every tenant;
  `jurisdiction_id` is the tenant's code (required only when the deployment has several).
- requests: an integration (a 12345 hotline system, a city app …) authenticates with an
  `api_key` owned by one organisation (table open311_api_key, only the SHA-256 stored). It
  files cases only for estates that organisation covers (address_id or attribute[estate_id] =
  our estate id) and reads only the cases of those estates, through every GET requests call
  (the spec leaves GET open; ours needs the key because cases are not public). Cases are
  routed like any other (cases.routing) with channel "open311"; the reporter's name and phone
  are stored on the case and never sent back.
- errors: the spec's list of {code, description} (JSON) or <errors><error> (XML), never our
  RFC 9457 problem documents.
"""
from __future__ import annotations

import hashlib
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

import msgspec

from cases import case_repository as repo
from cases import lifecycle, routing
from cases.case_util import emit, now, record_event
from cases.service import calendar_for
from cases.sla import deadline
from core import audit
from core.db import fetch, require_transaction
from core.i18n import N_
from core.i18n import gettext as _
from core.problems import AppError, Forbidden, NotFound
from tenancy.principal import Principal

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-21T00:00:00Z"
CHANNEL = "open311"
KEY_PREFIX = "o311_"
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90  # the spec's default window for GET requests without dates
CATEGORY_NAMES = {
    "repair": N_("Repairs"), "complaint": N_("Complaint"), "safety_hazard": N_("Safety hazard"),
    "sanitation": N_("Cleaning and sanitation"), "greening": N_("Greening"),
    "order": N_("Public order"), "parking": N_("Parking"),
    "neighbour_dispute": N_("Neighbour dispute"), "fees": N_("Property fees"),
    "suggestion": N_("Suggestion"), "inquiry": N_("Inquiry"), "other": N_("Other"),
}
GROUPS = {routing.PROPERTY: N_("Property services"), routing.RESIDENTS: N_("Community affairs")}
PRIORITIES = {"normal": N_("Normal"), "urgent": N_("Urgent"), "emergency": N_("Emergency")}
CLOSED = lifecycle.TERMINAL | {"resolved"}
# XML element names of the items inside each list-valued field.
XML_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute",
             "values": "value"}


class Open311Error(Exception):
    """An error answered in the spec's format."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found() -> Open311Error:
    return Open311Error(404, _("The requested item does not exist or you may not see it."))


def from_app_error(exc: AppError) -> Open311Error:
    return Open311Error(exc.status, exc.detail or _("The request could not be processed."))


# --- formats ------------------------------------------------------------------------------------
def split_format(value: str) -> tuple[str, str]:
    """"123.xml" -> ("123", "xml"); a value without a known extension is JSON."""
    stem, dot, ext = value.rpartition(".")
    if dot and ext in FORMATS:
        return stem, ext
    return value, "json"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value) or ""
    return str(value)


def _xml_into(parent: ET.Element, tag: str, value: Any) -> None:
    el = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_into(el, k, v)
    elif isinstance(value, list):
        for item in value:
            _xml_into(el, XML_ITEMS.get(tag, "item"), item)
    else:
        el.text = _text(value)


def render(body: Any, fmt: str, root: str, item: str | None = None) -> bytes:
    """JSON as is; XML as <root> with one <item> per list entry (or the dict's fields)."""
    if fmt == "json":
        return msgspec.json.encode(body, enc_hook=_text)
    top = ET.Element(root)
    for entry in (body if isinstance(body, list) else [body]):
        if item is None:
            for k, v in entry.items():
                _xml_into(top, k, v)
        else:
            _xml_into(top, item, entry)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


def render_error(exc: Open311Error, fmt: str) -> bytes:
    return render([{"code": exc.code, "description": exc.description}], fmt, "errors", "error")


def iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


# --- discovery and services ----------------------------------------------------------------------
def discovery(base_url: str) -> dict[str, Any]:
    return {"changeset": CHANGESET, "contact": _("Ask your housing bureau for an Open311 API key."),
            "key_service": _("Organisation administrators create keys under "
                             "/api/v1/organizations/{id}/open311-keys; every call except "
                             "discovery and services needs the api_key."),
            "endpoints": [{"specification": SPEC, "url": base_url.rstrip("/") + "/open311/v2",
                           "changeset": CHANGESET, "type": "production",
                           "formats": ["application/json", "text/xml"]}]}


async def check_jurisdiction(jurisdiction_id: str | None, key: ApiKey | None = None) -> None:
    """The tenant code must be known (and the key's own, with a key); without one, the key
    names the tenant, or else the deployment must have a single tenant."""
    if jurisdiction_id:
        rows = await fetch("SELECT id FROM tenant WHERE code = $1", jurisdiction_id)
        if not rows or (key is not None and rows[0]["id"] != key.tenant_id):
            raise bad_request(_("jurisdiction_id is not a known jurisdiction."))
        return
    if key is not None:
        return
    rows = await fetch("SELECT count(*) AS n FROM tenant")
    if rows[0]["n"] > 1:
        raise bad_request(_("jurisdiction_id is required: this server serves several "
                            "jurisdictions."))


def _service(code: str) -> dict[str, Any]:
    name = _(CATEGORY_NAMES[code])
    group = GROUPS.get(routing.DEFAULT_TARGETS[code], GROUPS[routing.RESIDENTS])
    return {"service_code": code, "service_name": name, "description": name, "metadata": True,
            "type": "realtime", "keywords": code.replace("_", ","), "group": _(group)}


def services() -> list[dict[str, Any]]:
    return [_service(code) for code in CATEGORY_NAMES]


def service_definition(code: str) -> dict[str, Any]:
    if code not in CATEGORY_NAMES:
        raise Open311Error(404, _("service_code is not a known service."))
    return {"service_code": code, "attributes": [
        {"variable": True, "code": "estate_id", "datatype": "number", "required": False,
         "datatype_description": _("Our estate id (or send it as address_id)."), "order": 1,
         "description": _("Estate"), "values": []},
        {"variable": True, "code": "building_id", "datatype": "number", "required": False,
         "datatype_description": _("A building id of the estate."), "order": 2,
         "description": _("Building"), "values": []},
        {"variable": True, "code": "priority", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "", "order": 3, "description": _("Priority"),
         "values": [{"key": k, "name": _(v)} for k, v in PRIORITIES.items()]}]}


# --- API keys --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiKey:
    id: int
    tenant_id: int
    organization_id: int
    organization_kind: str
    created_by: int


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def authenticate(api_key: str | None) -> ApiKey:
    if not api_key:
        raise Open311Error(401, _("api_key is required."))
    rows = await fetch(
        "SELECT k.id, k.tenant, k.organization, k.created_by, o.kind FROM open311_api_key k"
        " JOIN organization o ON o.id = k.organization AND o.tenant = k.tenant"
        " JOIN tenant t ON t.id = k.tenant"
        " WHERE k.key_hash = $1 AND k.revoked_at IS NULL", key_hash(api_key))
    if not rows:
        raise Open311Error(403, _("api_key is not valid or has been revoked."))
    r = rows[0]
    return ApiKey(r["id"], r["tenant"], r["organization"], r["kind"], r["created_by"])


def _covered_estates_sql(n: int) -> str:
    """Estates (of tenant $n) the organisation $n+1 covers; a housing bureau covers them all."""
    return (f"(SELECT e.id FROM estate e JOIN community cm ON cm.id = e.community"
            f" WHERE e.tenant = ${n} AND (EXISTS (SELECT 1 FROM organization o WHERE o.id = ${n + 1}"
            f" AND o.tenant = ${n} AND o.kind = 'housing_bureau') OR EXISTS (SELECT 1 FROM"
            f" organization_coverage oc WHERE oc.organization = ${n + 1} AND (oc.estate = e.id"
            f" OR oc.community = cm.id OR oc.street = cm.street))))")


async def key_covers(key: ApiKey, estate_id: int) -> bool:
    rows = await fetch(f"SELECT 1 WHERE $3 IN {_covered_estates_sql(1)}",
                       key.tenant_id, key.organization_id, estate_id)
    return bool(rows)


# --- POST requests ---------------------------------------------------------------------------------
def _int(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)  # type: ignore[arg-type]
    except ValueError:
        raise bad_request(_("{name} must be a whole number.").format(name=name)) from None
    if not 1 <= number <= 2_147_483_647:
        raise bad_request(_("{name} must be a whole number.").format(name=name))
    return number


def _float(value: str | None, name: str, limit: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except ValueError:
        raise bad_request(_("{name} must be a number.").format(name=name)) from None
    if not -limit <= number <= limit:
        raise bad_request(_("{name} is out of range.").format(name=name))
    return number


def _text_field(form: dict[str, str], name: str, limit: int) -> str:
    value = (form.get(name) or "").strip()
    if len(value) > limit:
        raise bad_request(_("{name} is too long (at most {n} characters).").format(
            name=name, n=limit))
    return value


async def create_request(key: ApiKey, form: dict[str, str]) -> list[dict[str, Any]]:
    require_transaction()
    code = form.get("service_code") or ""
    if not code:
        raise bad_request(_("service_code is required."))
    if code not in CATEGORY_NAMES:
        raise Open311Error(404, _("service_code is not a known service."))
    description = _text_field(form, "description", 4000)
    if not description:
        raise bad_request(_("description is required."))
    estate_id = _int(form.get("address_id"), "address_id") or _int(
        form.get("attribute[estate_id]"), "attribute[estate_id]")
    if estate_id is None:
        raise bad_request(_("address_id (our estate id) or attribute[estate_id] is required."))
    if not await key_covers(key, estate_id):
        raise Open311Error(403, _("This api_key may not file requests for this address."))
    building_id = _int(form.get("attribute[building_id]"), "attribute[building_id]")
    if building_id is not None and not (await fetch(
            "SELECT 1 FROM building WHERE tenant = $1 AND estate = $2 AND id = $3",
            key.tenant_id, estate_id, building_id)):
        raise bad_request(_("attribute[building_id] is not a building of this estate."))
    priority = form.get("attribute[priority]") or "normal"
    if priority not in PRIORITIES:
        raise bad_request(_("attribute[priority] is not one of the allowed values."))
    lat, lon = _float(form.get("lat"), "lat", 90), _float(form.get("long"), "long", 180)
    name = " ".join(x for x in (_text_field(form, "last_name", 50),
                                _text_field(form, "first_name", 50)) if x)
    phone = _text_field(form, "phone", 20) or None
    address = _text_field(form, "address_string", 200)

    org = await routing.responsible_organization(key.tenant_id, estate_id, code)
    targets, source = await routing.sla_targets(key.tenant_id, estate_id)
    calendar, at = await calendar_for(key.tenant_id), now()
    goal = targets.for_priority(priority)
    case = await repo.insert_case({
        "tenant": key.tenant_id, "estate": estate_id, "building": building_id, "unit": None,
        "location": address, "latitude": lat, "longitude": lon, "category": code,
        "priority": priority, "description": description, "channel": CHANNEL,
        "reporter_user": None, "reporter_name": name or _("Open311 reporter"),
        "reporter_phone": phone, "created_by": key.created_by, "responsible_org": org,
        "sla_targets": targets.to_dict(), "sla_source": source, "routed_at": at,
        "created_at": at, "updated_at": at,
        "ack_due_at": deadline(at, goal.acknowledge, calendar),
        "resolve_due_at": deadline(at, goal.resolve, calendar)})
    actor = Principal(user_id=key.created_by, tenant_id=key.tenant_id, tenant_name="",
                      username="", display_name="", language="zh-CN", person_id=None,
                      token_id=0, token_kind="open311")
    event = await record_event(actor, case, "create", None, actor_org=key.organization_id,
                               data={"channel": CHANNEL, "responsible_organization_id": org,
                                     "open311_key_id": key.id})
    await emit(case, event)
    return [{"service_request_id": str(case["id"]), "service_notice": _notice(case),
             "account_id": None}]


def _notice(case: dict) -> str:
    return _("To be resolved by {due}.").format(
        due=case["resolve_due_at"].astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


# --- GET requests ------------------------------------------------------------------------------------
def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(_("{name} must be a w3 date-time, e.g. 2026-01-31T08:00:00Z.").format(
            name=name)) from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


async def _requests(key: ApiKey, where: str, args: list[Any], limit: int) -> list[dict[str, Any]]:
    rows = await fetch(
        "SELECT c.id, c.status, c.category, c.description, c.location, c.latitude, c.longitude,"
        " c.created_at, c.updated_at, c.resolve_due_at, c.estate, o.name AS agency,"
        " e.address AS estate_address, e.name AS estate_name,"
        " (SELECT n.note FROM (SELECT ev.seq, COALESCE(NULLIF(ev.reason, ''), CASE ev.action"
        "   WHEN 'comment' THEN ev.data->>'text' WHEN 'resolve' THEN ev.data->>'comment' END)"
        "   AS note FROM case_event ev WHERE ev.\"case\" = c.id AND ev.visibility = 'public'"
        "   AND ev.action <> 'rate' AND ev.actor_user IS DISTINCT FROM c.reporter_user) n"
        "   WHERE COALESCE(n.note, '') <> '' ORDER BY n.seq DESC LIMIT 1) AS notes"
        " FROM case_record c JOIN organization o ON o.id = c.responsible_org"
        " JOIN estate e ON e.id = c.estate"
        f" WHERE c.tenant = $1 AND c.estate IN {_covered_estates_sql(1)} AND {where}"
        f" ORDER BY c.id DESC LIMIT {int(limit)}",
        key.tenant_id, key.organization_id, *args)
    return [_request_out(r) for r in rows]


def _request_out(r: dict) -> dict[str, Any]:
    """The spec's fields; nothing about the reporter. status_notes: the latest public reason,
    comment or resolution not written by the reporter (who may have put contact details in)."""
    closed = r["status"] in CLOSED
    return {"service_request_id": str(r["id"]), "status": "closed" if closed else "open",
            "status_notes": r["notes"] or "", "service_name": _(CATEGORY_NAMES.get(
                r["category"], "Other")), "service_code": r["category"],
            "description": r["description"], "agency_responsible": r["agency"],
            "service_notice": "" if closed else _notice(r),
            "requested_datetime": iso(r["created_at"]), "updated_datetime": iso(r["updated_at"]),
            "expected_datetime": iso(r["resolve_due_at"]),
            "address": r["location"] or f"{r['estate_name']} {r['estate_address'] or ''}".strip(),
            "address_id": str(r["estate"]), "zipcode": None, "lat": r["latitude"],
            "long": r["longitude"], "media_url": None}


async def list_requests(key: ApiKey, query: dict[str, str]) -> list[dict[str, Any]]:
    args: list[Any] = []
    conds: list[str] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args) + 2}"

    if query.get("service_request_id"):
        ids = [_int(x.strip(), "service_request_id") for x in
               query["service_request_id"].split(",") if x.strip()]
        conds.append(f"c.id = ANY({arg(ids)}::int[])")
        return await _requests(key, " AND ".join(conds), args, MAX_REQUESTS)
    if query.get("service_code"):
        codes = [x.strip() for x in query["service_code"].split(",") if x.strip()]
        conds.append(f"c.category = ANY({arg(codes)}::text[])")
    status = query.get("status")
    if status:
        wanted = {x.strip() for x in status.split(",")}
        if not wanted <= {"open", "closed"}:
            raise bad_request(_("status must be open or closed."))
        if wanted == {"open"}:
            conds.append(f"NOT (c.status = ANY({arg(sorted(CLOSED))}::text[]))")
        elif wanted == {"closed"}:
            conds.append(f"c.status = ANY({arg(sorted(CLOSED))}::text[])")
    start = _parse_time(query.get("start_date"), "start_date")
    end = _parse_time(query.get("end_date"), "end_date")
    if start is None and end is None:
        conds.append(f"c.created_at >= now() - make_interval(days => {arg(DEFAULT_DAYS)}::int)")
    if start is not None:
        conds.append(f"c.created_at >= {arg(start)}")
    if end is not None:
        conds.append(f"c.created_at <= {arg(end)}")
    return await _requests(key, " AND ".join(conds) or "TRUE", args, MAX_REQUESTS)


async def get_request(key: ApiKey, request_id: str) -> list[dict[str, Any]]:
    case_id = _id_or_404(request_id)
    found = await _requests(key, "c.id = $3", [case_id], 1)
    if not found:
        raise not_found()
    return found


async def token(key: ApiKey, value: str) -> list[dict[str, Any]]:
    """Requests are created synchronously: a token is the request id itself."""
    found = await get_request(key, value)
    return [{"service_request_id": found[0]["service_request_id"], "token": value}]


def _id_or_404(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 2_147_483_647:
        raise not_found()
    return int(value)


# --- key administration (RFC 9457 errors: this is our own API) -----------------------------------
class KeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "Open311"


class KeyOut(msgspec.Struct):
    id: int
    organization_id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    key: str | None = None  # only in the answer to POST: it is never shown again


def _key_out(r: dict, key: str | None = None) -> KeyOut:
    return KeyOut(id=r["id"], organization_id=r["organization"], name=r["name"],
                  created_at=r["created_at"], revoked_at=r["revoked_at"], key=key)


async def _admin_org(p: Principal, organization_id: int) -> dict:
    rows = await fetch("SELECT id, kind FROM organization WHERE tenant = $1 AND id = $2",
                       p.tenant_id, organization_id)
    if not rows or not (p.is_tenant_admin or organization_id in p.organization_ids):
        raise NotFound(_("The requested item does not exist or you may not see it."))
    seat = p.seat_in(organization_id)
    if not (p.is_tenant_admin or (seat is not None and seat.role == "admin")):
        raise Forbidden(_("Only the organisation's administrators (or the housing bureau's) "
                          "may manage its Open311 keys."))
    return rows[0]


async def create_key(p: Principal, organization_id: int, name: str) -> KeyOut:
    require_transaction()
    await _admin_org(p, organization_id)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    rows = await fetch(
        "INSERT INTO open311_api_key (tenant, organization, key_hash, name, created_by)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING *",
        p.tenant_id, organization_id, key_hash(key), name.strip() or "Open311", p.user_id)
    await audit.record(p.tenant_id, "open311_key.created", subject_type="open311_api_key",
                       subject_id=rows[0]["id"], actor_user_id=p.user_id,
                       actor_org_id=organization_id, data={"name": rows[0]["name"]})
    return _key_out(rows[0], key)


async def list_keys(p: Principal, organization_id: int) -> list[KeyOut]:
    await _admin_org(p, organization_id)
    rows = await fetch("SELECT * FROM open311_api_key WHERE tenant = $1 AND organization = $2"
                       " ORDER BY id", p.tenant_id, organization_id)
    return [_key_out(r) for r in rows]


async def revoke_key(p: Principal, key_id: int) -> None:
    require_transaction()
    rows = await fetch("SELECT * FROM open311_api_key WHERE tenant = $1 AND id = $2 FOR UPDATE",
                       p.tenant_id, key_id)
    if not rows:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    await _admin_org(p, rows[0]["organization"])
    if rows[0]["revoked_at"] is None:
        await fetch("UPDATE open311_api_key SET revoked_at = now() WHERE id = $1", key_id)
        await audit.record(p.tenant_id, "open311_key.revoked", subject_type="open311_api_key",
                           subject_id=key_id, actor_user_id=p.user_id,
                           actor_org_id=rows[0]["organization"])


async def insert_key(tenant_id: int, organization_id: int, created_by: int, name: str) -> tuple[int, str]:
    """A key without the permission check (test worlds, the demo); returns (id, key)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    rows = await fetch(
        "INSERT INTO open311_api_key (tenant, organization, key_hash, name, created_by)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
        tenant_id, organization_id, key_hash(key), name, created_by)
    return rows[0]["id"], key
