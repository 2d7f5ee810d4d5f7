"""Request and response types of the contracts API (msgspec Structs).

`SlaClauses` mirrors, as plain data, the dict shape of cases' `SlaTargets.to_dict()`:
{"emergency"|"urgent"|"normal": {"acknowledge"|"resolve": {"amount", "unit"}},
 "return_window": {"amount", "unit"}}. Contracts sit below cases and must not import them; a
test in tests/cases checks that `SlaTargets.from_dict` accepts what contracts produce.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

Kind = Literal["service", "preliminary"]
Level = Literal["level_1", "level_2", "level_3"]
Status = Literal["draft", "active", "expiring", "expired", "terminated"]
Unit = Literal["natural_hours", "working_days"]
Amount = Annotated[float, Meta(gt=0, le=10_000)]
Fee = Annotated[Decimal, Meta(description="元/㎡/月, 0 to 1000 with at most 2 decimals",
                                examples=["2.50"])]
Number = Annotated[str, Meta(max_length=100)]
ScopeItems = Annotated[list[Annotated[str, Meta(min_length=1, max_length=200)]], Meta(max_length=100)]


class Allowance(Struct, frozen=True, forbid_unknown_fields=True):
    amount: Amount
    unit: Unit


class PriorityClause(Struct, frozen=True, forbid_unknown_fields=True):
    acknowledge: Annotated[Allowance, Meta(description="for emergencies: on site")]
    resolve: Allowance


class SlaClauses(Struct, frozen=True, forbid_unknown_fields=True):
    emergency: PriorityClause
    urgent: PriorityClause
    normal: PriorityClause
    return_window: Annotated[Allowance, Meta(
        description="a wrongly assigned case must be returned within this")] = Allowance(
        2.0, "working_days")


class ContractIn(Struct, forbid_unknown_fields=True):
    estate_id: int
    property_company_id: int
    starts_on: date
    ends_on: date
    fee_per_m2_month: Fee
    kind: Kind = "service"
    counterparty_id: Annotated[int, Meta(
        description="The owners' committee (物业服务合同)")] | None = None
    counterparty_name: Annotated[str, Meta(
        max_length=200, description="The developer (前期物业服务合同)")] | None = None
    number: Number = ""
    signed_on: date | None = None
    service_level: Level = "level_2"
    sla: Annotated[SlaClauses, Meta(
        description="Response and resolution times; null: the tenant's default policy")] | None = None
    scope_items: ScopeItems = []


class ContractPatch(Struct, forbid_unknown_fields=True):
    """Changes to a draft; fields left out stay as they are."""

    property_company_id: int | UnsetType = UNSET
    counterparty_id: int | None | UnsetType = UNSET
    number: Number | UnsetType = UNSET
    counterparty_name: Annotated[str, Meta(max_length=200)] | None | UnsetType = UNSET
    signed_on: date | None | UnsetType = UNSET
    starts_on: date | UnsetType = UNSET
    ends_on: date | UnsetType = UNSET
    fee_per_m2_month: Fee | UnsetType = UNSET
    service_level: Level | UnsetType = UNSET
    sla: SlaClauses | None | UnsetType = UNSET
    scope_items: ScopeItems | UnsetType = UNSET


class TerminateIn(Struct, forbid_unknown_fields=True):
    terminated_on: date
    notice_given_on: Annotated[date, Meta(description="When the dismissal notice was served")]
    reason: Annotated[str, Meta(min_length=1, max_length=2000)]


class DocumentOut(Struct):
    id: int
    contract_id: int
    file_name: str
    content_type: str
    sha256: str
    size: int
    uploaded_by: int | None
    uploaded_at: datetime


class ContractOut(Struct):
    id: int
    estate_id: int
    property_company_id: int
    kind: Kind
    counterparty_id: int | None
    counterparty_name: str | None
    number: str
    signed_on: date | None
    starts_on: date
    ends_on: date
    fee_per_m2_month: Decimal
    service_level: Level
    sla: SlaClauses | None
    scope_items: list[str]
    status: Status
    terminated_on: date | None
    termination_reason: str | None
    notice_given_on: date | None
    version: int
    created_at: datetime
    documents: list[DocumentOut] = []


# --- rows to responses ----------------------------------------------------------------------------
def from_json(value: Any) -> Any:
    """A JSONB value as read (asyncpg hands it over as text)."""
    return json.loads(value) if isinstance(value, str) else value


def document_out(d: dict) -> DocumentOut:
    return DocumentOut(id=d["id"], contract_id=d["contract"], file_name=d["file_name"],
                       content_type=d["content_type"], sha256=d["sha256"], size=d["size"],
                       uploaded_by=d["uploaded_by"], uploaded_at=d["uploaded_at"])


def contract_out(r: dict, documents: list[dict] | tuple = ()) -> ContractOut:
    return ContractOut(
        id=r["id"], estate_id=r["estate"], property_company_id=r["property_company"],
        kind=r["kind"], counterparty_id=r["counterparty"], counterparty_name=r["counterparty_name"],
        number=r["number"], signed_on=r["signed_on"], starts_on=r["starts_on"],
        ends_on=r["ends_on"], fee_per_m2_month=r["fee_per_m2_month"],
        service_level=r["service_level"],
        sla=msgspec.convert(from_json(r["sla"]), SlaClauses) if r["sla"] else None,
        scope_items=list(r["scope_items"] or []), status=r["status"],
        terminated_on=r["terminated_on"], termination_reason=r["termination_reason"],
        notice_given_on=r["notice_given_on"], version=r["version"], created_at=r["created_at"],
        documents=[document_out(d) for d in documents])


# --- co-building agreements (共建协议) ----------------------------------------------------------
Title = Annotated[str, Meta(min_length=1, max_length=200, examples=["党建共建协议"])]
Items = Annotated[list[Annotated[str, Meta(min_length=1, max_length=500)]], Meta(max_length=100)]


class AgreementIn(Struct, forbid_unknown_fields=True):
    residents_committee_id: int
    title: Title
    starts_on: date
    partner_organization_id: Annotated[int, Meta(
        description="An organisation known here, covering part of the committee's area")] | None = None
    partner_name: Annotated[str, Meta(
        max_length=200, description="Any other partner (a school, a company, a police station)")
    ] | None = None
    items: Items = []
    signed_on: date | None = None
    ends_on: date | None = None


class AgreementPatch(Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    partner_name: Annotated[str, Meta(max_length=200)] | None | UnsetType = UNSET
    items: Items | UnsetType = UNSET
    signed_on: date | None | UnsetType = UNSET
    starts_on: date | UnsetType = UNSET
    ends_on: date | None | UnsetType = UNSET


class AgreementEndIn(Struct, forbid_unknown_fields=True):
    ended_on: date


class AgreementOut(Struct):
    id: int
    residents_committee_id: int
    community_id: int
    partner_organization_id: int | None
    partner_name: str | None
    title: str
    items: list[str]
    signed_on: date | None
    starts_on: date
    ends_on: date | None
    status: Literal["active", "ended"]
    ended_on: date | None
    version: int
    created_at: datetime
