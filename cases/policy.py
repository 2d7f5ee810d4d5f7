"""A tenant's case policy: its SLA targets (used when an estate has no active contract that
sets them) and how many days a resolved case waits for the reporter's rating before it closes
as "not rated". Without a stored policy the defaults apply (DESIGN.md §4, 7 days).

Everyone of the tenant reads it; the housing bureau's administrators change it, with the
version as ETag (If-Match, 412 when stale). A change applies to cases created afterwards
(a case keeps the targets it was created with) and to the next auto-close run."""
from __future__ import annotations

from msgspec import ValidationError

from cases import repository as repo
from cases.schemas import CasePolicyIn, CasePolicyOut
from cases.sla import SlaTargets
from core import audit
from core.i18n import gettext as _
from core.problems import Forbidden, PreconditionFailed
from tenancy.principal import Principal

DEFAULT_AUTO_CLOSE_DAYS = 7


async def _row(tenant_id: int) -> dict | None:
    return await repo.policy(tenant_id)


async def tenant_targets(tenant_id: int) -> SlaTargets:
    """The tenant's SLA targets (its own, else the defaults)."""
    row = await _row(tenant_id)
    if row is not None:
        try:
            return SlaTargets.from_dict(row["sla_targets"])
        except ValidationError:  # never stored unchecked; a hand edit must not stop intake
            pass
    return SlaTargets.defaults()


async def auto_close_days(tenant_id: int) -> int:
    row = await _row(tenant_id)
    return row["auto_close_days"] if row is not None else DEFAULT_AUTO_CLOSE_DAYS


def _out(row: dict | None) -> CasePolicyOut:
    if row is None:
        return CasePolicyOut(sla_targets=SlaTargets.defaults(),
                             auto_close_days=DEFAULT_AUTO_CLOSE_DAYS, source="default", version=0)
    return CasePolicyOut(sla_targets=SlaTargets.from_dict(row["sla_targets"]),
                         auto_close_days=row["auto_close_days"], source="tenant",
                         version=row["version"], updated_at=row["updated_at"])


async def get_policy(p: Principal) -> CasePolicyOut:
    return _out(await _row(p.tenant_id))


async def set_policy(p: Principal, data: CasePolicyIn, if_match: str | None) -> CasePolicyOut:
    if not p.is_tenant_admin:
        raise Forbidden(_("Only the housing bureau's administrators may change the case policy."))
    current = await repo.policy_version(p.tenant_id)
    if if_match is not None and if_match.strip() not in (f'"v{current}"', f'W/"v{current}"'):
        raise PreconditionFailed(_("The case policy was changed in the meantime; reload it and "
                                   "apply your change again."))
    await repo.save_policy(p.tenant_id, data.sla_targets.to_dict(), data.auto_close_days,
                           p.user_id)
    await audit.record(p.tenant_id, "case_policy.updated", subject_type="case_policy",
                       subject_id=p.tenant_id, actor_user_id=p.user_id,
                       data={"sla_targets": data.sla_targets.to_dict(),
                             "auto_close_days": data.auto_close_days})
    return _out(await _row(p.tenant_id))
