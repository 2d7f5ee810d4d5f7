"""Service-contract rules (no HTTP).

Who may manage a contract (create, edit a draft, activate, terminate, attach scans): the
housing bureau's administrators, the administrators of the street office covering the estate,
and the chair or administrators of the estate's owners' committee (the party that hires the
company). Reading follows `repository.Contracts`.

Status: draft → active → expiring (NOTICE_DAYS before the end: the non-renewal notice period,
announced once to the estate's owners' and residents' committees) → expired (after the end);
active or expiring → terminated (with a reason, respecting DISMISSAL_NOTICE_DAYS). One active
contract per estate; a successor may be activated while the current one is expiring.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from asyncpg.exceptions import UniqueViolationError

from contracts import repository as repo
from contracts.schemas import (
    ContractIn,
    ContractOut,
    SlaClauses,
    TerminateIn,
    contract_out,
    from_json,
)
from core import audit, outbox
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid, NotFound
from tenancy import accounts
from tenancy import service as places
from tenancy.principal import Principal

TZ = ZoneInfo("Asia/Shanghai")
NOTICE_DAYS = 90  # non-renewal notice period: the contract is "expiring" from then on
DISMISSAL_NOTICE_DAYS = 60
MAX_FEE = Decimal(1000)
MANAGER_ROLES = {"street_office": ("admin",), "owners_committee": ("chair", "admin")}
EDITABLE = ("number", "counterparty_name", "signed_on", "starts_on", "ends_on",
            "fee_per_m2_month", "service_level", "sla", "scope_items")


def today() -> date:
    return datetime.now(TZ).date()


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": field, "message": message}])


def manages(p: Principal, estate_id: int) -> bool:
    if p.is_tenant_admin:
        return True
    return any(s.role in MANAGER_ROLES.get(s.kind, ()) and s.covers(estate=estate_id)
               for s in p.seats)


async def log(p: Principal, action: str, contract_id: int, **data: Any) -> None:
    await audit.record(p.tenant_id, action, subject_type="service_contract",
                       subject_id=contract_id, actor_user_id=p.user_id, data=data)


# --- reading ------------------------------------------------------------------------------------
async def get_row(p: Principal, contract_id: int, *, lock: bool = False) -> dict:
    row = await repo.Contracts(p).get(contract_id, lock=lock)
    if row is None:
        raise not_found()
    return row


async def get_contract(p: Principal, contract_id: int) -> ContractOut:
    contracts = repo.Contracts(p)
    row = await get_row(p, contract_id)
    return contract_out(row, await contracts.documents([contract_id]))


async def list_contracts(p: Principal, *, estate_id: int | None, status: str | None,
                         limit: int, offset: int) -> list[ContractOut]:
    contracts = repo.Contracts(p)
    rows = await contracts.list(estate_id=estate_id, status=status, limit=limit, offset=offset)
    docs: dict[int, list[dict]] = {}
    for d in await contracts.documents([r["id"] for r in rows]):
        docs.setdefault(d["contract"], []).append(d)
    return [contract_out(r, docs.get(r["id"], [])) for r in rows]


# --- writing ------------------------------------------------------------------------------------
async def _referenced_org(p: Principal, org_id: int, kind: str, field: str) -> Any:
    org = await places.referenced(accounts.get_organization(p, org_id), field)
    if org.kind != kind:
        raise invalid(field, _("This organisation is not of the required kind."))
    return org


def _check_fee(fee: Decimal) -> None:
    if not fee.is_finite() or fee < 0 or fee > MAX_FEE or fee != fee.quantize(Decimal("0.01")):
        raise invalid("fee_per_m2_month", _("The fee must lie between 0 and {max} yuan per m² and "
                                            "month, with at most 2 decimals.").format(max=MAX_FEE))


def _check_term(starts_on: date, ends_on: date) -> None:
    if ends_on <= starts_on:
        raise invalid("ends_on", _("The contract must end after it starts."))


async def _check_parties(p: Principal, estate_id: int, changed: dict, merged: dict) -> None:
    """The parties named anew in `changed` exist, are visible and fit; `merged` (the contract
    as it would be) has a counterparty of some sort."""
    if "property_company" in changed:
        await _referenced_org(p, changed["property_company"], "property_company",
                              "property_company_id")
    if changed.get("counterparty") is not None:
        org = await _referenced_org(p, changed["counterparty"], "owners_committee",
                                    "counterparty_id")
        if not any(c.estate_id == estate_id for c in org.coverage):
            raise invalid("counterparty_id", _("This owners' committee belongs to another estate."))
    if merged["counterparty"] is None and not (merged["counterparty_name"] or "").strip():
        raise invalid("counterparty_id", _("Name the counterparty: the owners' committee, or the "
                                           "developer for a preliminary contract."))


async def create_contract(p: Principal, data: ContractIn) -> ContractOut:
    await places.referenced(places.get_estate(p, data.estate_id), "estate_id")
    if not manages(p, data.estate_id):
        raise Forbidden(_("Your role does not allow this action here."))
    parties = {"property_company": data.property_company_id, "counterparty": data.counterparty_id}
    await _check_parties(p, data.estate_id, parties,
                         {**parties, "counterparty_name": data.counterparty_name})
    _check_term(data.starts_on, data.ends_on)
    _check_fee(data.fee_per_m2_month)
    values = {f: getattr(data, f) for f in EDITABLE}
    values["sla"] = msgspec.to_builtins(data.sla) if data.sla else None
    row = await repo.Contracts(p).create(
        estate=data.estate_id, property_company=data.property_company_id, kind=data.kind,
        counterparty=data.counterparty_id, status="draft", created_by=p.user_id, **values)
    await log(p, "contract.created", row["id"], estate=data.estate_id,
              property_company=data.property_company_id, kind=data.kind, **values)
    return contract_out(row)


async def managed_row(p: Principal, contract_id: int) -> dict:
    row = await get_row(p, contract_id, lock=True)
    if not manages(p, row["estate"]):
        raise Forbidden(_("Your role does not allow this action here."))
    return row


async def update_contract(p: Principal, contract_id: int, changes: dict[str, Any]) -> ContractOut:
    row = await managed_row(p, contract_id)
    for field, column in (("property_company_id", "property_company"),
                          ("counterparty_id", "counterparty")):
        if field in changes:
            changes[column] = changes.pop(field)
    await _check_parties(p, row["estate"], changes, {**row, **changes})
    if row["status"] != "draft":
        raise Conflict(_("Only a draft contract can be edited."))
    if "sla" in changes and changes["sla"] is not None:
        changes["sla"] = msgspec.to_builtins(changes["sla"])
    if "fee_per_m2_month" in changes:
        _check_fee(changes["fee_per_m2_month"])
    _check_term(changes.get("starts_on", row["starts_on"]), changes.get("ends_on", row["ends_on"]))
    new = await repo.Contracts(p).update(contract_id, changes)
    await log(p, "contract.updated", contract_id, **changes)
    return await get_contract(p, new["id"])


async def activate_contract(p: Principal, contract_id: int) -> ContractOut:
    row = await managed_row(p, contract_id)
    if row["status"] != "draft":
        raise Conflict(_("Only a draft contract can be activated."))
    if row["ends_on"] < today():
        raise Conflict(_("This contract's term has already ended."))
    contracts = repo.Contracts(p)
    if await contracts.live_on_estate(row["estate"], exclude=contract_id):
        raise Conflict(_("The estate already has an active contract. It can be replaced once it "
                         "is expiring, has expired or was terminated."))
    try:
        await contracts.update(contract_id, {"status": "active"})
    except UniqueViolationError as exc:  # a concurrent activation won
        raise Conflict(_("The estate already has an active contract. It can be replaced once it "
                         "is expiring, has expired or was terminated.")) from exc
    await log(p, "contract.activated", contract_id, estate=row["estate"])
    await _announce(row, "contract.activated", starts_on=row["starts_on"], ends_on=row["ends_on"])
    await advance_statuses(today(), contract_id=contract_id)  # may already be expiring
    return await get_contract(p, contract_id)


async def terminate_contract(p: Principal, contract_id: int, data: TerminateIn) -> ContractOut:
    row = await managed_row(p, contract_id)
    if row["status"] not in repo.LIVE:
        raise Conflict(_("Only a contract in force can be terminated."))
    if data.notice_given_on > today():
        raise invalid("notice_given_on", _("The notice date cannot lie in the future."))
    earliest = data.notice_given_on + timedelta(days=DISMISSAL_NOTICE_DAYS)
    if data.terminated_on < earliest:
        raise invalid("terminated_on", _(
            "The dismissal notice period is {days} days: with notice given on {notice}, the "
            "contract can end on {earliest} at the earliest.").format(
            days=DISMISSAL_NOTICE_DAYS, notice=data.notice_given_on.isoformat(),
            earliest=earliest.isoformat()))
    await repo.Contracts(p).update(contract_id, {
        "status": "terminated", "terminated_on": data.terminated_on,
        "notice_given_on": data.notice_given_on, "termination_reason": data.reason.strip()})
    await _announce(row, "contract.terminated", terminated_on=data.terminated_on)
    await log(p, "contract.terminated", contract_id, terminated_on=data.terminated_on,
              notice_given_on=data.notice_given_on, reason=data.reason.strip())
    return await get_contract(p, contract_id)


# --- system-level lookups for other packages (no principal) ---------------------------------------
async def active_sla_targets(tenant_id: int, estate_id: int) -> dict | None:
    """The SLA clauses of the estate's contract in force, in the `SlaTargets` dict shape;
    None when there is no such contract or it leaves SLAs to the tenant's default policy."""
    row = await repo.system_contract_in_force(tenant_id, estate_id, today())
    if row is None or not row["sla"]:
        return None
    return msgspec.to_builtins(msgspec.convert(from_json(row["sla"]), SlaClauses))


async def active_property_company(tenant_id: int, estate_id: int) -> int | None:
    """The property company serving the estate under its contract in force, if any."""
    row = await repo.system_contract_in_force(tenant_id, estate_id, today())
    return row["property_company"] if row else None


async def contracts_in_force_during(tenant_id: int, start: date, end: date) -> list[dict]:
    """System level: the tenant's contracts in force at some time in [start, end] (put in force,
    term overlapping the period, not terminated before it): {id, estate, property_company,
    status, starts_on, ends_on}. Evaluation campaigns assess each of them."""
    return await repo.system_in_force_during(tenant_id, start, end)


async def seed_contract(tenant_id: int, estate_id: int, property_company_id: int,
                        counterparty_id: int, *, number: str, starts_on: date, ends_on: date,
                        fee: Decimal, sla: dict | None = None, scope_items: list[str] = ()) -> int:
    """System level (demo seeding; the caller vouches for the ids): an active contract, moved
    along at once (it may already be expiring). Returns its id."""
    row = await repo.system_insert(
        tenant=tenant_id, estate=estate_id, property_company=property_company_id,
        counterparty=counterparty_id, number=number, starts_on=starts_on, ends_on=ends_on,
        fee_per_m2_month=fee, sla=sla, scope_items=list(scope_items), status="active")
    await audit.record(tenant_id, "contract.seeded", subject_type="service_contract",
                       subject_id=row["id"], data={"estate": estate_id, "number": number})
    await advance_statuses(today(), contract_id=row["id"])
    return row["id"]


async def _announce(row: dict, topic: str, **data: date) -> None:
    """Tell the parties and the estate's committees (live channels and webhooks)."""
    orgs = await places.organizations_covering_estate(
        row["tenant"], row["estate"], ["owners_committee", "residents_committee"])
    await outbox.emit(row["tenant"], topic, {
        "contract_id": row["id"], "estate_id": row["estate"],
        "property_company_id": row["property_company"], "number": row["number"],
        **{k: v.isoformat() for k, v in data.items()}},
        organizations=[*orgs, row["property_company"]])


async def notify_expiring(contract: dict) -> None:
    """Tell the estate's owners' and residents' committees, once, that the contract enters its
    non-renewal notice period."""
    if not await repo.system_mark_notified(contract["id"]):
        return
    orgs = await places.organizations_covering_estate(
        contract["tenant"], contract["estate"], ["owners_committee", "residents_committee"])
    await outbox.emit(contract["tenant"], "contract.expiring", {
        "contract_id": contract["id"], "estate_id": contract["estate"],
        "property_company_id": contract["property_company"], "number": contract["number"],
        "ends_on": contract["ends_on"].isoformat(), "notice_days": NOTICE_DAYS},
        organizations=orgs)
    await audit.record(contract["tenant"], "contract.expiry_notified",
                       subject_type="service_contract", subject_id=contract["id"],
                       data={"organizations": orgs})


async def _log_transition(contract: dict, action: str) -> None:
    await audit.record(contract["tenant"], action, subject_type="service_contract",
                       subject_id=contract["id"], data={"ends_on": contract["ends_on"]})


async def advance_statuses(day: date, *, contract_id: int | None = None) -> dict[str, int]:
    """Move contracts along with the calendar (all of them, or one): active → expiring from
    NOTICE_DAYS before the end, active/expiring → expired after the end. Idempotent: a second
    run on the same day moves nothing and notifies nobody again."""
    expired = await repo.system_move_status(("active", "expiring"), "expired", "ends_on < $1",
                                            day, contract_id)
    expiring = await repo.system_move_status(
        ("active",), "expiring", f"ends_on - {NOTICE_DAYS} <= $1", day, contract_id)
    for contract in expired:
        await _log_transition(contract, "contract.expired")
    for contract in expiring:
        await _log_transition(contract, "contract.expiring")
        await notify_expiring(contract)
    return {"expiring": len(expiring), "expired": len(expired)}
