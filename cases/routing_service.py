"""The tenant's routing rules: read by everyone of the tenant, edited by bureau administrators."""
from __future__ import annotations

from cases import case_repository as repo
from cases.case_service import invalid_reference
from cases.routing import DEFAULT_TARGETS
from cases.schemas import RoutingRuleIn, RoutingRuleOut
from core import audit
from core.i18n import gettext as _
from core.problems import Forbidden
from tenancy import service as places
from tenancy.principal import Principal


async def routing_rules(p: Principal) -> list[RoutingRuleOut]:
    """The tenant's own rules, then the built-in default of every category."""
    own = [RoutingRuleOut(category=r["category"], estate_id=r["estate"],
                          target_kind=r["target_kind"], source="tenant")
           for r in await repo.routing_rules(p.tenant_id)]
    return own + [RoutingRuleOut(category=c, estate_id=None, target_kind=k, source="default")
                  for c, k in DEFAULT_TARGETS.items()]


async def set_routing_rule(p: Principal, data: RoutingRuleIn) -> list[RoutingRuleOut]:
    if not p.is_tenant_admin:
        raise Forbidden(_("Only the administrators of the housing bureau may change routing rules."))
    if data.estate_id is not None and await places.estate_place(p.tenant_id, data.estate_id) is None:
        raise invalid_reference("estate_id")
    await repo.set_routing_rule(p.tenant_id, data.category, data.estate_id, data.target_kind)
    await audit.record(p.tenant_id, "routing_rule.set", subject_type="routing_rule",
                       subject_id=f"{data.category}:{data.estate_id or '*'}",
                       actor_user_id=p.user_id, data={"target_kind": data.target_kind})
    return await routing_rules(p)
