"""Co-building agreements (共建协议) between a residents' committee and organisations in its
area: rules (no HTTP).

Managed by the housing bureau's administrators, the administrators of the street office covering
the committee's community, and the committee's own administrators and directors. The partner is
an organisation known here that covers part of the committee's community, or a named outsider
(a school, a company, a police station). An agreement is active until it is ended on a date.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from contracts import repository as repo
from contracts.schemas import AgreementIn, AgreementOut
from contracts.service import invalid, not_found
from core import audit
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden
from tenancy import accounts
from tenancy import service as places
from tenancy.principal import Principal

MANAGER_ROLES = {"street_office": ("admin",), "residents_committee": ("admin", "director")}
RC_FIELD = "residents_committee_id"


def agreement_out(r: dict) -> AgreementOut:
    return AgreementOut(
        id=r["id"], residents_committee_id=r["residents_committee"], community_id=r["community"],
        partner_organization_id=r["partner_organization"], partner_name=r["partner_name"],
        title=r["title"], items=list(r["items"] or []), signed_on=r["signed_on"],
        starts_on=r["starts_on"], ends_on=r["ends_on"], status=r["status"],
        ended_on=r["ended_on"], version=r["version"], created_at=r["created_at"])


def manages(p: Principal, committee_id: int, community_id: int) -> bool:
    if p.is_tenant_admin:
        return True
    return any(s.role in MANAGER_ROLES.get(s.kind, ())
               and (s.organization_id == committee_id if s.kind == "residents_committee"
                    else s.covers(community=community_id)) for s in p.seats)


async def _communities(tenant_id: int, coverage: list) -> set[int]:
    """The communities an organisation's coverage lies in (directly or through its estates)."""
    out = {c.community_id for c in coverage if c.community_id is not None}
    for c in coverage:
        if c.estate_id is not None:
            place = await places.estate_place(tenant_id, c.estate_id)
            if place:
                out.add(place["community"])
    return out


async def log(p: Principal, action: str, agreement_id: int, **data: Any) -> None:
    await audit.record(p.tenant_id, action, subject_type="co_building_agreement",
                       subject_id=agreement_id, actor_user_id=p.user_id, data=data)


def _check_term(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on <= starts_on:
        raise invalid("ends_on", _("The agreement must end after it starts."))


async def create_agreement(p: Principal, data: AgreementIn) -> AgreementOut:
    rc = await places.referenced(accounts.get_organization(p, data.residents_committee_id),
                                 RC_FIELD)
    communities = sorted(await _communities(p.tenant_id, rc.coverage))
    if rc.kind != "residents_committee" or not communities:
        raise invalid(RC_FIELD, _("Choose a residents' committee that covers a community."))
    community = communities[0]
    if not manages(p, rc.id, community):
        raise Forbidden(_("Your role does not allow this action here."))
    if data.partner_organization_id is not None:
        partner = await places.referenced(
            accounts.get_organization(p, data.partner_organization_id), "partner_organization_id")
        if partner.id == rc.id or community not in await _communities(p.tenant_id, partner.coverage):
            raise invalid("partner_organization_id",
                          _("The partner must be another organisation in the committee's area."))
    elif not (data.partner_name or "").strip():
        raise invalid("partner_name", _("Name the partner of the agreement."))
    _check_term(data.starts_on, data.ends_on)
    values = {"title": data.title.strip(), "items": data.items, "signed_on": data.signed_on,
              "starts_on": data.starts_on, "ends_on": data.ends_on,
              "partner_name": (data.partner_name or "").strip() or None}
    row = await repo.Agreements(p).create(
        residents_committee=rc.id, community=community,
        partner_organization=data.partner_organization_id, status="active",
        created_by=p.user_id, **values)
    await log(p, "co_building_agreement.created", row["id"], residents_committee=rc.id,
              partner_organization=data.partner_organization_id, **values)
    return agreement_out(row)


async def get_agreement(p: Principal, agreement_id: int) -> AgreementOut:
    row = await repo.Agreements(p).get(agreement_id)
    if row is None:
        raise not_found()
    return agreement_out(row)


async def list_agreements(p: Principal, *, residents_committee_id: int | None, limit: int,
                          offset: int) -> list[AgreementOut]:
    rows = await repo.Agreements(p).list(residents_committee_id=residents_committee_id,
                                         limit=limit, offset=offset)
    return [agreement_out(r) for r in rows]


async def _managed(p: Principal, agreement_id: int) -> dict:
    row = await repo.Agreements(p).get(agreement_id)
    if row is None:
        raise not_found()
    if not manages(p, row["residents_committee"], row["community"]):
        raise Forbidden(_("Your role does not allow this action here."))
    if row["status"] != "active":
        raise Conflict(_("This agreement has ended."))
    return row


async def update_agreement(p: Principal, agreement_id: int, changes: dict[str, Any]) -> AgreementOut:
    row = await _managed(p, agreement_id)
    _check_term(changes.get("starts_on", row["starts_on"]), changes.get("ends_on", row["ends_on"]))
    if "partner_name" in changes and not row["partner_organization"] \
            and not (changes["partner_name"] or "").strip():
        raise invalid("partner_name", _("Name the partner of the agreement."))
    new = await repo.Agreements(p).update(agreement_id, changes)
    await log(p, "co_building_agreement.updated", agreement_id, **changes)
    return agreement_out(new)


async def end_agreement(p: Principal, agreement_id: int, ended_on: date) -> AgreementOut:
    row = await _managed(p, agreement_id)
    if ended_on < row["starts_on"]:
        raise invalid("ended_on", _("The agreement cannot end before it starts."))
    new = await repo.Agreements(p).update(agreement_id, {"status": "ended", "ended_on": ended_on})
    await log(p, "co_building_agreement.ended", agreement_id, ended_on=ended_on)
    return agreement_out(new)
