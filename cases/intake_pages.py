"""Reporting a problem on the web (/cases/new): residents for estates where they own a unit;
organisation staff recording a phone call, a walk-in, a grid worker's find or a 12345 hotline
ticket for someone else (the channel is recorded). Both pick the building and unit; staff name
the reporter as one of the unit's owners or as a free-text contact. Possible duplicates (the
API's similar open cases) show while the form is filled in, and up to nine photos go with it.

`/cases/new/places` renders the part of the form that depends on the estate, building and unit
(htmx swaps it in on every change; without JavaScript the first estate's lists are served)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import ValidationError, convert

from cases import attachments, case_service
from cases import place_repository as places_repo
from cases.duplicates import similar_cases
from cases.labels import CATEGORY_LABELS, PRIORITY_LABELS
from cases.page_util import CATEGORIES, MAX_PHOTOS_PER_FORM, PRIORITIES, photo_contents, to_login, user_of
from cases.schemas import CaseIn
from core.i18n import N_, gettext as _
from core.images import process_photo_async
from core.problems import AppError
from tenancy import service as places
from tenancy.masking import mask_name
from tenancy.principal import Principal

STAFF_CHANNELS = {"phone": N_("Phone call"), "walk_in": N_("Walk-in"),
                  "grid": N_("Grid worker"), "hotline_12345": N_("12345 hotline")}


def _int(value: Any) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


async def _estates(p: Principal) -> tuple[bool, dict[int, str]]:
    """(staff form?, the estates the caller may report or record cases for, by name)."""
    if p.seats:
        ids = None if p.tenant_wide else sorted(p.estates)
        return True, await places_repo.estate_names(p.tenant_id, ids)
    owned = await places.owned_estates(p.tenant_id, p.person_id) if p.person_id else []
    return False, await places_repo.estate_names(p.tenant_id, owned)


async def _places(p: Principal, staff: bool, estates: dict[int, str], values: dict) -> dict:
    """Buildings, units, owners and possible duplicates for the chosen estate/building/unit."""
    estate = _int(values.get("estate_id")) or next(iter(estates), None)
    if estate is not None and estate not in estates:
        raise case_service.not_found()  # an estate the caller has nothing to do with
    out: dict[str, Any] = {"estate_id": estate, "buildings": [], "units": [], "owners": [],
                           "similar": [], "building_id": None, "unit_id": None}
    if estate is None:
        return out
    out["buildings"] = await places_repo.buildings(p.tenant_id, estate)
    building = _int(values.get("building_id"))
    if building not in {b["id"] for b in out["buildings"]}:
        building = None
    if staff and building is not None:
        out["units"] = await places_repo.units(p.tenant_id, estate, building)
    elif building is not None and p.person_id is not None:
        out["units"] = [u for u in await places_repo.owned_units(p.tenant_id, p.person_id, estate)
                        if u["building"] == building]
    unit = _int(values.get("unit_id"))
    if unit not in {u["id"] for u in out["units"]}:
        unit = None
    if staff and unit is not None:
        out["owners"] = [{"id": o["id"], "name": mask_name(o["name"]) or ""}
                         for o in await places_repo.unit_owners(p.tenant_id, estate, unit)]
    category = values.get("category") if values.get("category") in CATEGORY_LABELS else "repair"
    if building is not None:
        out["similar"] = await similar_cases(p, estate_id=estate, category=category,
                                             building_id=building)
    out.update(building_id=building, unit_id=unit)
    return out


async def _context(p: Principal, values: dict, error: str | None) -> dict[str, Any]:
    staff, estates = await _estates(p)
    return {"me": p, "staff": staff, "estates": list(estates.items()), "error": error,
            "values": values, "places": await _places(p, staff, estates, values),
            "channels": list(STAFF_CHANNELS.items()),
            "categories": [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
            "priorities": [(c, PRIORITY_LABELS[c]) for c in PRIORITIES],
            "max_photos": MAX_PHOTOS_PER_FORM}


@get("/cases/new", include_in_schema=False)
async def new_case_page(request: Request, tx: object) -> Template | Redirect:
    p = user_of(request)
    if p is None:
        return to_login(request)
    return Template("cases/new.html", context=await _context(p, dict(request.query_params), None))


@get("/cases/new/places", include_in_schema=False)
async def new_case_places(request: Request, tx: object) -> Template | Redirect:
    p = user_of(request)
    if p is None:
        return to_login(request)
    context = await _context(p, dict(request.query_params), None)
    return Template("cases/_places.html", context=context)


@dataclass
class ReportForm:
    estate_id: str = ""
    building_id: str = ""
    unit_id: str = ""
    category: str = "repair"
    priority: str = "normal"
    description: str = ""
    location: str = ""
    channel: str = "app"
    reporter_person_id: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    photos: list[Any] | None = None  # UploadFiles; "" when none was chosen


def _case_in(data: ReportForm, staff: bool) -> CaseIn:
    raw: dict[str, Any] = {
        "estate_id": _int(data.estate_id) or 0, "building_id": _int(data.building_id),
        "unit_id": _int(data.unit_id), "category": data.category, "priority": data.priority,
        "description": data.description.strip(), "location": data.location.strip(),
        "channel": data.channel if staff else "app"}
    if staff:
        person = _int(data.reporter_person_id)
        if person is not None:
            raw["reporter_person_id"] = person
        else:
            raw["reporter_name"] = data.reporter_name.strip() or None
            raw["reporter_phone"] = data.reporter_phone.strip() or None
    return convert(raw, CaseIn)


async def _refuse_foreign_places(p: Principal, data: ReportForm, estates: dict[int, str]) -> None:
    """404 for any estate, building, unit or person the caller has nothing to do with, before
    the form is looked at further (it answers like an id that does not exist)."""
    estate = _int(data.estate_id)
    if estate is not None and estate not in estates:
        raise case_service.not_found()
    for table, value in (("building", data.building_id), ("unit", data.unit_id)):
        row = _int(value)
        if row is not None and await places_repo.estate_of(p.tenant_id, table, row) not in estates:
            raise case_service.not_found()
    person = _int(data.reporter_person_id)
    if person is not None and not (await places_repo.person_estates(p.tenant_id, person)
                                   & set(estates)):
        raise case_service.not_found()


@post("/cases/new", include_in_schema=False)
async def new_case_submit(request: Request, tx: object, data: Annotated[
        ReportForm, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Template | Redirect:
    p = user_of(request)
    if p is None:
        return to_login(request)
    values = {k: v for k, v in data.__dict__.items() if k != "photos"}
    staff, estates = await _estates(p)
    await _refuse_foreign_places(p, data, estates)

    async def again(status: int, message: str) -> Template:
        return Template("cases/new.html", status_code=status,
                        context=await _context(p, values, message))

    if staff and data.channel not in STAFF_CHANNELS:
        return await again(422, _("Please choose how the report was received."))
    try:
        case_in = _case_in(data, staff)
    except (ValidationError, ValueError):
        return await again(422, _("Please choose an estate and describe the problem; a phone "
                                  "number has 7 to 20 digits."))
    photos = await photo_contents([f for f in data.photos or [] if not isinstance(f, str)])
    if len(photos) > MAX_PHOTOS_PER_FORM:
        return await again(422, _("At most {n} photos per case.").format(n=MAX_PHOTOS_PER_FORM))
    try:
        for content in photos:
            await process_photo_async(content)  # refuse a bad photo before the case exists
        out = await case_service.create_case(p, case_in)
        for content in photos:
            await attachments.add_photo(p, out.id, content)
    except AppError as exc:
        if exc.status == 404:
            raise
        return await again(exc.status, exc.detail)
    return Redirect(f"/cases/{out.id}")


PAGES = [new_case_page, new_case_places, new_case_submit]
