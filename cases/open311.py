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
  RFC 9457 problem documents (cases.open311_format); keys: cases.open311_keys.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cases import case_repository as repo
from cases import lifecycle, routing
from cases.case_util import emit, now, record_event
from cases.duplicates import distance_sql
from cases.service import calendar_for
from cases.sla import deadline
from cases.open311_format import (  # noqa: F401  (the controllers read these from here)
    FORMATS,
    Open311Error,
    bad_request,
    from_app_error,
    iso,
    not_found,
    render,
    render_error,
    split_format,
)
from cases.open311_keys import (  # noqa: F401
    ApiKey,
    KeyIn,
    KeyOut,
    _covered_estates_sql,
    authenticate,
    create_key,
    insert_key,
    key_covers,
    list_keys,
    revoke_key,
)
from core.db import fetch, require_transaction
from core.i18n import N_
from core.i18n import gettext as _
from tenancy.principal import Principal

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-21T00:00:00Z"
CHANNEL = "open311"
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90  # the spec's default window for GET requests without dates
# GET requests near a point (lat, long and radius in metres: a common GeoReport extension).
DEFAULT_RADIUS_M, MAX_RADIUS_M = 500.0, 20_000.0
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
        if form.get("lat") or form.get("long") or form.get("address_string"):
            # The spec lets a request name its place by lat/long or address alone; we keep no
            # coordinates or addresses of estates to match them to, so we say so plainly.
            raise bad_request(_("lat/long and address_string cannot name the estate here (no "
                                "estate coordinates are kept): send address_id (our estate id) "
                                "or attribute[estate_id]; lat/long are stored with the request."))
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
    lat, lon = _float(query.get("lat"), "lat", 90), _float(query.get("long"), "long", 180)
    if (lat is None) != (lon is None):
        raise bad_request(_("lat and long go together."))
    if lat is not None:
        radius = _float(query.get("radius"), "radius", MAX_RADIUS_M) or DEFAULT_RADIUS_M
        if radius <= 0:
            raise bad_request(_("{name} is out of range.").format(name="radius"))
        la, lo, r = arg(lat), arg(lon), arg(radius)
        conds.append(f"c.latitude IS NOT NULL AND c.longitude IS NOT NULL"
                     f" AND {distance_sql(la + '::float8', lo + '::float8')} <= {r}::float8")
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


