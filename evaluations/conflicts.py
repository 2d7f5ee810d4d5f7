"""Declared conflicts of interest: the housing bureau's administrators record that an
organisation (an owners' committee whose chair works for the company, a street office with a
stake …) must not evaluate a property company. Members of that organisation then can neither
submit nor see drafts of the company's assessments (submission_service.conflicted), and the
organisation gets no draft submission when a campaign opens. Bureau members read the list."""
from __future__ import annotations

from core import audit
from core.i18n import gettext as _
from core.problems import Invalid
from evaluations import repository as repo
from evaluations import scheme_service as schemes
from evaluations.schemas import ConflictIn, ConflictOut
from tenancy import accounts
from tenancy import service as places
from tenancy.principal import Principal


def conflict_out(r: dict) -> ConflictOut:
    return ConflictOut(id=r["id"], organization_id=r["organization"],
                       conflicted_organization_id=r["conflicted_organization"], reason=r["reason"],
                       created_at=r["created_at"])


async def list_conflicts(p: Principal) -> list[ConflictOut]:
    schemes.require_bureau(p)
    return [conflict_out(r) for r in await repo.conflicts(p.tenant_id)]


async def declare(p: Principal, data: ConflictIn) -> ConflictOut:
    org = await places.referenced(accounts.get_organization(p, data.organization_id),
                                  "organization_id")
    company = await places.referenced(accounts.get_organization(p, data.conflicted_organization_id),
                                      "conflicted_organization_id")
    schemes.require_bureau_admin(p)
    if company.kind != "property_company":
        message = _("A conflict of interest is declared against a property company.")
        raise Invalid(message, errors=[{"field": "conflicted_organization_id", "message": message}])
    if org.id == company.id:
        message = _("An organisation cannot be declared in conflict with itself.")
        raise Invalid(message, errors=[{"field": "organization_id", "message": message}])
    row = await repo.insert_conflict(p.tenant_id, org.id, company.id, data.reason.strip(),
                                     p.user_id)
    if row is None:
        message = _("This conflict has already been declared.")
        raise Invalid(message, errors=[{"field": "organization_id", "message": message}])
    await audit.record(p.tenant_id, "evaluation.conflict_declared",
                       subject_type="evaluation_conflict", subject_id=row["id"],
                       actor_user_id=p.user_id, data={"organization": org.id,
                                                      "conflicted_organization": company.id,
                                                      "reason": row["reason"]})
    return conflict_out(row)


async def remove(p: Principal, conflict_id: int) -> None:
    row = await repo.conflict(p.tenant_id, conflict_id)
    if row is None or not p.tenant_wide:
        raise schemes.not_found()
    schemes.require_bureau_admin(p)
    await repo.delete_conflict(p.tenant_id, conflict_id)
    await audit.record(p.tenant_id, "evaluation.conflict_removed",
                       subject_type="evaluation_conflict", subject_id=conflict_id,
                       actor_user_id=p.user_id, data={"organization": row["organization"],
                                                      "conflicted_organization":
                                                          row["conflicted_organization"]})
