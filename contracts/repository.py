"""Contract queries. Every principal-facing query is scoped to the caller's tenant and to what
their seats let them read: the housing bureau sees the whole tenant; a property company only
the contracts it is party to; every other organisation the contracts of the estates it covers
(street office: its street; residents' committee: its community; owners' committee: its estate).

The `system_*` functions serve jobs and other packages' system-level lookups; they take the
tenant id explicitly and never a principal.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from piccolo.columns.combination import WhereRaw

from contracts.tables import CoBuildingAgreement, ContractDocument, ServiceContract
from core.db import fetch, require_transaction
from tenancy.principal import Principal

MAX_PAGE = 500
LIVE = ("active", "expiring")  # statuses of a contract in force


def _ids(values) -> str:
    return ",".join(str(int(v)) for v in sorted(values)) or "NULL"


class Contracts:
    """Base statement already limited to what `p` may read."""

    def __init__(self, p: Principal) -> None:
        self.p = p

    def scope(self) -> Any:
        if self.p.tenant_wide:
            return WhereRaw("TRUE")
        companies = {s.organization_id for s in self.p.seats if s.kind == "property_company"}
        estates = set().union(*(s.estates for s in self.p.seats if s.kind != "property_company"))
        return WhereRaw(f"(service_contract.property_company IN ({_ids(companies)})"
                        f" OR service_contract.estate IN ({_ids(estates)}))")

    def _where(self) -> list[Any]:
        return [ServiceContract.tenant == self.p.tenant_id, self.scope()]

    async def get(self, id: int, *, lock: bool = False) -> dict | None:
        q = ServiceContract.select().where(ServiceContract.id == id, *self._where())
        if lock:
            q = q.lock_rows("NO KEY UPDATE")
        return await q.first()

    async def list(self, *, estate_id: int | None, status: str | None, limit: int,
                   offset: int) -> list[dict]:
        where = list(self._where())
        if estate_id is not None:
            where.append(ServiceContract.estate == estate_id)
        if status is not None:
            where.append(ServiceContract.status == status)
        return await ServiceContract.select().where(*where).order_by(
            ServiceContract.id).limit(min(limit, MAX_PAGE)).offset(offset)

    async def create(self, **values: Any) -> dict:
        require_transaction()
        rows = await ServiceContract.insert(ServiceContract(tenant=self.p.tenant_id, **values)
                                            ).returning(*ServiceContract.all_columns())
        return rows[0]

    async def update(self, id: int, values: dict[str, Any]) -> dict:
        """Apply `values` and bump the version."""
        require_transaction()
        await ServiceContract.update({**values, ServiceContract.version: ServiceContract.version + 1}
                                     ).where(ServiceContract.id == id, *self._where())
        return await self.get(id)  # type: ignore[return-value]

    async def live_on_estate(self, estate_id: int, *, exclude: int) -> list[dict]:
        return await ServiceContract.select(ServiceContract.id, ServiceContract.status).where(
            ServiceContract.tenant == self.p.tenant_id, ServiceContract.estate == estate_id,
            ServiceContract.status == "active", ServiceContract.id != exclude)

    async def documents(self, contract_ids: list[int]) -> list[dict]:
        if not contract_ids:
            return []
        return await ContractDocument.select().where(
            ContractDocument.tenant == self.p.tenant_id,
            ContractDocument.contract.is_in(contract_ids)).order_by(ContractDocument.id)

    async def document(self, contract_id: int, document_id: int) -> dict | None:
        return await ContractDocument.select().where(
            ContractDocument.tenant == self.p.tenant_id, ContractDocument.id == document_id,
            ContractDocument.contract == contract_id).first()

    async def add_document(self, **values: Any) -> dict:
        require_transaction()
        rows = await ContractDocument.insert(ContractDocument(tenant=self.p.tenant_id, **values)
                                             ).returning(*ContractDocument.all_columns())
        return rows[0]


class Agreements:
    """Co-building agreements `p` may read: the bureau all; a street office those of the
    residents' committees in its street; any organisation those it is a party to."""

    def __init__(self, p: Principal) -> None:
        self.p = p

    def scope(self) -> Any:
        if self.p.tenant_wide:
            return WhereRaw("TRUE")
        orgs = _ids(self.p.organization_ids)
        communities = set().union(*(s.communities for s in self.p.seats
                                    if s.kind == "street_office"))
        return WhereRaw(f"(co_building_agreement.residents_committee IN ({orgs})"
                        f" OR co_building_agreement.partner_organization IN ({orgs})"
                        f" OR co_building_agreement.community IN ({_ids(communities)}))")

    def _where(self) -> list[Any]:
        return [CoBuildingAgreement.tenant == self.p.tenant_id, self.scope()]

    async def get(self, id: int) -> dict | None:
        return await CoBuildingAgreement.select().where(CoBuildingAgreement.id == id,
                                                        *self._where()).first()

    async def list(self, *, residents_committee_id: int | None, limit: int,
                   offset: int) -> list[dict]:
        where = list(self._where())
        if residents_committee_id is not None:
            where.append(CoBuildingAgreement.residents_committee == residents_committee_id)
        return await CoBuildingAgreement.select().where(*where).order_by(
            CoBuildingAgreement.id).limit(min(limit, MAX_PAGE)).offset(offset)

    async def create(self, **values: Any) -> dict:
        require_transaction()
        rows = await CoBuildingAgreement.insert(CoBuildingAgreement(
            tenant=self.p.tenant_id, **values)).returning(*CoBuildingAgreement.all_columns())
        return rows[0]

    async def update(self, id: int, values: dict[str, Any]) -> dict:
        require_transaction()
        await CoBuildingAgreement.update(
            {**values, CoBuildingAgreement.version: CoBuildingAgreement.version + 1}).where(
            CoBuildingAgreement.id == id, *self._where())
        return await self.get(id)  # type: ignore[return-value]


# --- system level (jobs, other packages) ---------------------------------------------------------
async def system_insert(**values: Any) -> dict:
    require_transaction()
    rows = await ServiceContract.insert(ServiceContract(**values)).returning(ServiceContract.id)
    return rows[0]


async def system_contract_in_force(tenant_id: int, estate_id: int, today: date) -> dict | None:
    """The estate's active (else expiring) contract, preferring one whose term covers today."""
    rows = await fetch(
        "SELECT id, property_company, sla FROM service_contract"
        " WHERE tenant = $1 AND estate = $2 AND status = ANY($3::text[])"
        " ORDER BY (starts_on <= $4 AND ends_on >= $4) DESC, (status = 'active') DESC,"
        " starts_on DESC, id DESC LIMIT 1", tenant_id, estate_id, list(LIVE), today)
    return rows[0] if rows else None


async def system_move_status(from_statuses: tuple[str, ...], to_status: str, condition: str,
                             today: date, contract_id: int | None = None) -> list[dict]:
    """Move every contract (or just `contract_id`) in one of `from_statuses` meeting
    `condition` (SQL over the row, $1 being today) to `to_status`; returns the moved rows.
    Rows locked by a concurrent sweep are skipped rather than moved twice."""
    require_transaction()
    return await fetch(
        f"UPDATE service_contract SET status = $2, version = version + 1 WHERE id IN ("
        f" SELECT id FROM service_contract WHERE status = ANY($3::text[]) AND ({condition})"
        f" AND ($4::int IS NULL OR id = $4) FOR UPDATE SKIP LOCKED)"
        f" RETURNING id, tenant, estate, property_company, number, ends_on, status",
        today, to_status, list(from_statuses), contract_id)


async def system_mark_notified(contract_id: int) -> bool:
    """Claim the expiry notification of a contract: True only the first time."""
    require_transaction()
    rows = await fetch("UPDATE service_contract SET expiry_notified_at = now()"
                       " WHERE id = $1 AND expiry_notified_at IS NULL RETURNING id", contract_id)
    return bool(rows)


async def system_in_force_during(tenant_id: int, start: date, end: date) -> list[dict]:
    """Contracts put in force (not drafts) whose term overlaps [start, end] and that were not
    terminated before `start`."""
    return await fetch(
        "SELECT id, estate, property_company, status, starts_on, ends_on FROM service_contract"
        " WHERE tenant = $1 AND status <> 'draft' AND starts_on <= $3 AND ends_on >= $2"
        " AND (terminated_on IS NULL OR terminated_on >= $2) ORDER BY estate, id",
        tenant_id, start, end)
