"""Who is responsible for a new case, and which SLA targets it runs on.

Routing: the tenant's `routing_rule` for (category, estate), else its rule for the category,
else the built-in defaults below, name a kind of organisation; the property company is the
one holding the estate's service contract in force, else the one covering the estate. When
no organisation of the kind covers the estate, the residents' committee takes the case (it
coordinates everything in its community), and without one the intake fails.
"""
from __future__ import annotations

from cases import case_repository as repo
from cases import policy
from cases.sla import SlaTargets
from contracts import service as contracts
from core.i18n import gettext as _
from core.problems import Conflict
from tenancy import service as places

PROPERTY, RESIDENTS, OWNERS = "property_company", "residents_committee", "owners_committee"
DEFAULT_TARGETS = {
    "repair": PROPERTY, "sanitation": PROPERTY, "greening": PROPERTY, "order": PROPERTY,
    "parking": PROPERTY, "fees": PROPERTY,
    "neighbour_dispute": RESIDENTS, "complaint": RESIDENTS, "suggestion": RESIDENTS,
    "inquiry": RESIDENTS, "safety_hazard": RESIDENTS, "other": RESIDENTS,
}
# Kinds kept informed (outbox audience) beside the responsible organisation.
INFORMED = {"fees": (OWNERS,)}
TARGET_KINDS = (PROPERTY, RESIDENTS, OWNERS, "street_office")


async def target_kind(tenant_id: int, estate_id: int, category: str) -> str:
    return await repo.routing_rule(tenant_id, category, estate_id) or DEFAULT_TARGETS[category]


async def responsible_organization(tenant_id: int, estate_id: int, category: str) -> int:
    kind = await target_kind(tenant_id, estate_id, category)
    if kind == PROPERTY:
        org = await contracts.active_property_company(tenant_id, estate_id)
        if org is not None:
            return org
    for candidate in (kind, RESIDENTS):
        orgs = await places.organizations_covering_estate(tenant_id, estate_id, [candidate])
        if orgs:
            return orgs[0]
    raise Conflict(_("No organisation covers this estate, so nobody could take the case. "
                     "Ask the street office to set up the estate's organisations."))


async def audience(tenant_id: int, estate_id: int, category: str) -> list[int]:
    """Organisations told about every change besides the responsible one."""
    kinds = [RESIDENTS, *INFORMED.get(category, ())]
    return await places.organizations_covering_estate(tenant_id, estate_id, kinds)


async def sla_targets(tenant_id: int, estate_id: int) -> tuple[SlaTargets, str]:
    """The estate's contract targets when it sets them, else the tenant's policy (cases.policy:
    its own targets, or the defaults)."""
    found = await contracts.active_sla_targets(tenant_id, estate_id)
    if found:
        return SlaTargets.from_dict(found), "contract"
    return await policy.tenant_targets(tenant_id), "tenant"
