"""Bulk import of a housing bureau's ledger (台账) of buildings, units and owners.

All or nothing: every row is checked, then checked against the estate's current ledger,
before anything is written; one bad row means nothing is imported and the caller gets every
problem with its spreadsheet row number. Writes are a few set-based statements, so a ledger
of thousands of units imports in seconds. Reading the file lives in `ledger_files`.
"""
from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec
import openpyxl

from core.i18n import gettext as _
from tenancy import system_repository as sysrepo
from tenancy import service as svc
from tenancy.ledger_files import (
    LedgerRow,
    RowError,
    Sheet,
    check_rows,
    read_sheet,
    row_error,
)
from tenancy.principal import Principal

MAX_REPORTED_ERRORS = 1000
TEMPLATE_HEADERS = ("楼栋", "房号", "楼层", "专有面积", "开发商未售", "业主姓名", "业主电话")
TEMPLATE_ROWS = (("1号楼", "101", 1, 89.56, "否", "张三", "13800000000"),
                 ("1号楼", "102", 1, 120.3, "是", None, None))
OwnerKey = tuple[str, str | None]


class LedgerReport(msgspec.Struct, omit_defaults=True):
    rows: int
    buildings_created: int
    units_created: int
    units_updated: int
    persons_created: int
    ownerships_created: int
    dry_run: bool
    errors: list[RowError] = msgspec.field(default_factory=list)


@dataclass
class LedgerUnit:
    """One unit of the file, merged from all its rows (one row per co-owner)."""

    row: int
    building: str
    number: str
    area: Decimal
    floor: int | None
    unsold: bool | None
    owners: dict[OwnerKey, int] = field(default_factory=dict)  # owner -> first row naming them


def merge_units(sheet: Sheet, rows: list[LedgerRow], errors: list[RowError]) -> list[LedgerUnit]:
    """Group rows by (building, unit); co-owner rows must agree on the unit's facts."""
    units: dict[tuple[str, str], LedgerUnit] = {}
    for r in rows:
        u = units.get((r.building, r.unit))
        if u is None:
            u = units[(r.building, r.unit)] = LedgerUnit(r.row, r.building, r.unit, r.area, r.floor,
                                                         r.unsold)
        else:
            if r.area != u.area:
                errors.append(row_error(sheet, r.row, "exclusive_area", _(
                    "The area differs from row {row} for the same unit.").format(row=u.row), r.area))
            if r.floor is not None and u.floor is not None and r.floor != u.floor:
                errors.append(row_error(sheet, r.row, "floor", _(
                    "The floor differs from row {row} for the same unit.").format(row=u.row), r.floor))
            if r.unsold is not None and u.unsold is not None and r.unsold != u.unsold:
                errors.append(row_error(sheet, r.row, "developer_unsold", _(
                    "The developer-unsold flag differs from row {row} for the same unit.").format(
                    row=u.row), r.unsold))
            u.floor = u.floor if u.floor is not None else r.floor
            u.unsold = u.unsold if u.unsold is not None else r.unsold
        if r.owner is not None:
            u.owners.setdefault(r.owner, r.row)
    return list(units.values())


@dataclass
class Plan:
    buildings: dict[str, int]                     # existing building name -> id
    units: dict[tuple[int, str], dict]            # existing (building id, number) -> unit
    people: dict[OwnerKey, int]                   # existing owner key -> person id
    new_buildings: list[str] = field(default_factory=list)
    new_units: list[tuple[LedgerUnit, int | None, bool]] = field(default_factory=list)
    changed_units: list[tuple[int, int | None, Decimal, bool]] = field(default_factory=list)
    new_people: list[OwnerKey] = field(default_factory=list)
    new_ownerships: list[tuple[LedgerUnit, OwnerKey]] = field(default_factory=list)


async def make_plan(tenant_id: int, estate_id: int, sheet: Sheet, units: list[LedgerUnit],
                    errors: list[RowError], visible_estates: list[int] | None = None) -> Plan:
    """Compare the file with the estate's ledger: what to create, what to change, what clashes."""
    owner_keys = sorted({k for u in units for k in u.owners}, key=lambda k: (k[0], k[1] or ""))
    plan = Plan(buildings=await sysrepo.ledger_buildings(tenant_id, estate_id),
                units=await sysrepo.ledger_units(tenant_id, estate_id),
                people=await sysrepo.ledger_people(tenant_id, estate_id, owner_keys,
                                                visible_estates))
    owned = await sysrepo.ledger_ownerships(tenant_id, estate_id)
    plan.new_buildings = sorted({u.building for u in units} - plan.buildings.keys())
    plan.new_people = [k for k in owner_keys if k not in plan.people]
    for u in units:
        building_id = plan.buildings.get(u.building)
        current = plan.units.get((building_id, u.number)) if building_id else None
        unsold = u.unsold if u.unsold is not None else bool(current and current["developer_unsold"])
        floor = u.floor if u.floor is not None else (current["floor"] if current else None)
        _check_unsold(sheet, u, current, unsold, errors)
        if current is None:
            plan.new_units.append((u, floor, unsold))
        elif (current["exclusive_area"], current["floor"], current["developer_unsold"]) != (
                u.area, floor, unsold):
            plan.changed_units.append((current["id"], floor, u.area, unsold))
        for owner in u.owners:
            person_id = plan.people.get(owner)
            if current is None or person_id is None or (person_id, current["id"]) not in owned:
                plan.new_ownerships.append((u, owner))
    return plan


def _check_unsold(sheet: Sheet, u: LedgerUnit, current: dict | None, unsold: bool,
                  errors: list[RowError]) -> None:
    """The developer's unsold units have no owner (they vote together as the developer)."""
    if not unsold:
        return
    for owner, row in u.owners.items():
        if u.unsold:
            message = _("A unit unsold by the developer cannot have an owner.")
        else:
            message = _("The unit is recorded as unsold by the developer; mark it as sold "
                        "(developer_unsold = no) to give it an owner.")
        errors.append(row_error(sheet, row, "owner_name", message, owner[0]))
    if u.unsold and current is not None and current["owned"]:
        errors.append(row_error(sheet, u.row, "developer_unsold", _(
            "This unit already has owners, so it cannot be marked as unsold by the developer."),
            u.unsold))


async def apply_plan(tenant_id: int, estate_id: int, plan: Plan) -> int:
    """Write the plan with set-based statements; returns the number of ownerships added."""
    buildings = {**plan.buildings,
                 **await sysrepo.ledger_insert_buildings(tenant_id, estate_id, plan.new_buildings)}
    unit_ids = {key: row["id"] for key, row in plan.units.items()}
    unit_ids.update(await sysrepo.ledger_insert_units(tenant_id, estate_id, [
        (buildings[u.building], u.number, floor, u.area, unsold)
        for u, floor, unsold in plan.new_units]))
    await sysrepo.ledger_update_units(tenant_id, plan.changed_units)
    people = {**plan.people, **await sysrepo.ledger_insert_people(tenant_id, plan.new_people)}
    return await sysrepo.ledger_insert_ownerships(tenant_id, estate_id, [
        (people[owner], unit_ids[(buildings[u.building], u.number)])
        for u, owner in plan.new_ownerships])


async def import_ledger(p: Principal, estate_id: int, content: bytes, *,
                        dry_run: bool = False) -> LedgerReport:
    """Check `content` (CSV or XLSX) and, unless `dry_run` or it has errors, import it in the
    current transaction. A report with `errors` means nothing was written."""
    await svc.require_estate_manager(p, estate_id)
    # Parsing a large workbook is CPU-bound: keep it off the event loop.
    sheet, rows, errors = await asyncio.to_thread(_read_and_check, content)
    if not dry_run:
        await sysrepo.ledger_lock(estate_id)  # two imports into one estate must not interleave
    units = merge_units(sheet, rows, errors)
    # Existing persons are matched only among owners the importer can already see, so an
    # import (even a dry run) can't probe who lives elsewhere in the tenant.
    visible = None if p.tenant_wide else sorted(p.estates)
    plan = await make_plan(p.tenant_id, estate_id, sheet, units, errors, visible)
    report = LedgerReport(rows=sheet.data_rows, buildings_created=len(plan.new_buildings),
                          units_created=len(plan.new_units), units_updated=len(plan.changed_units),
                          persons_created=len(plan.new_people),
                          ownerships_created=len(plan.new_ownerships), dry_run=dry_run)
    if errors:
        report.errors = sorted(errors, key=lambda e: (e.row, e.column))
        return report
    if not dry_run:
        report.ownerships_created = await svc.unique(
            apply_plan(p.tenant_id, estate_id, plan),
            _("The estate's ledger changed during the import; please try again."))
        await svc.log(p, "ledger.imported", "estate", estate_id,
                      **msgspec.to_builtins(report))
    return report


def _read_and_check(content: bytes) -> tuple[Sheet, list[LedgerRow], list[RowError]]:
    sheet = read_sheet(content)
    rows, errors = check_rows(sheet)
    return sheet, rows, errors


def template_workbook() -> bytes:
    """An empty ledger with the Chinese headers and two example rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "房屋台账"
    sheet.append(TEMPLATE_HEADERS)
    for row in TEMPLATE_ROWS:
        sheet.append(row)
    for letter in ("B", "G"):  # unit numbers and phones are text: keep Excel from reformatting
        for cell in sheet[letter]:
            cell.number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
