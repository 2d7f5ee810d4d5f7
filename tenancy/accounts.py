"""Accounts: login and tokens, organisations with their coverage, users and memberships."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core import audit
from core.i18n import gettext as _
from core.problems import Invalid, Unauthenticated
from core.settings import get_settings
from tenancy import auth, service
from tenancy import repository as repo
from tenancy.guards import administers, capabilities, manages_places
from tenancy.masking import mask_name
from tenancy.principal import Principal
from tenancy.schemas import (
    ROLES_BY_KIND,
    CoverageItem,
    MembershipOut,
    MeOut,
    OrganizationOut,
    UserOut,
)
from tenancy.service import _raise, forbidden, log, not_found, referenced, unique


# --- login ---------------------------------------------------------------------------------------
async def login(username: str, password: str, *, kind: str, ip: str,
                user_agent: str = "") -> tuple[str, datetime, dict]:
    """Check the password and issue a token; throttled per IP and locked per username."""
    await auth.check_login_allowed(username, ip)
    user = await repo.user_by_username(username)
    ok = auth.verify_password(user["password_hash"] if user else None, password)
    if not ok or not user or not user["is_active"]:
        await auth.record_login_failure(username)
        raise Unauthenticated(_("Wrong username or password."))
    await auth.clear_login_failures(username)
    settings = get_settings()
    ttl = (timedelta(hours=settings.session_ttl_hours) if kind == "web"
           else timedelta(days=settings.api_token_ttl_days))
    token, digest = auth.new_token()
    expires = auth.now() + ttl
    token_id = await repo.create_token(tenant=user["tenant"], user=user["id"], token_hash=digest,
                                       kind=kind, expires_at=expires, user_agent=user_agent[:200])
    if auth.needs_rehash(user["password_hash"]):
        await repo.set_password_hash(user["id"], auth.hash_password(password), user["password_changed_at"])
    await audit.record(user["tenant"], "auth.login", subject_type="user", subject_id=user["id"],
                       actor_user_id=user["id"], data={"kind": kind, "token": token_id})
    return token, expires, user


async def logout(p: Principal) -> None:
    await repo.revoke_tokens(p.user_id, auth.now(), only_token=p.token_id)
    await log(p, "auth.logout", "user", p.user_id)


async def change_password(p: Principal, current: str, new: str) -> None:
    user = await repo.user_by_id(p.tenant_id, p.user_id) or _raise(not_found())
    if not auth.verify_password(user["password_hash"], current):
        raise Invalid(_("The current password is wrong."),
                      errors=[{"field": "current_password", "message": _("Wrong password.")}])
    auth.check_password_policy(new, user["username"], field="new_password")
    await repo.set_password_hash(p.user_id, auth.hash_password(new), auth.now())
    # Every other session and token of this user stops working.
    await repo.revoke_tokens(p.user_id, auth.now(), except_token=p.token_id)
    await log(p, "auth.password_changed", "user", p.user_id)


def me(p: Principal) -> MeOut:
    return MeOut(
        id=p.user_id, username=p.username, display_name=p.display_name, tenant_id=p.tenant_id,
        tenant_name=p.tenant_name, language=p.language,
        memberships=[MembershipOut(id=s.membership_id, organization_id=s.organization_id,
                                   organization_name=s.organization_name,
                                   organization_kind=s.kind, role=s.role) for s in p.seats],
        capabilities={str(s.organization_id): capabilities(s) for s in p.seats})


async def update_tenant(p: Principal, values: dict) -> dict:
    if not p.is_tenant_admin:
        raise forbidden()
    row = await repo.update_tenant(p.tenant_id, values)
    await log(p, "tenant.updated", "tenant", p.tenant_id, **values)
    return row


# --- organisations ---------------------------------------------------------------------------------
async def _coverage_values(p: Principal, kind: str, items: list[CoverageItem]) -> list[dict]:
    values = []
    for i, item in enumerate(items):
        set_fields = [f for f in ("street_id", "community_id", "estate_id") if getattr(item, f)]
        if len(set_fields) != 1:
            raise Invalid(_("Each covered place names exactly one street, community or estate."))
        if item.street_id:
            await referenced(service.get_street(p, item.street_id), f"coverage[{i}].street_id")
        if item.community_id:
            await referenced(service.get_community(p, item.community_id), f"coverage[{i}].community_id")
        if item.estate_id:
            await referenced(service.get_estate(p, item.estate_id), f"coverage[{i}].estate_id")
        values.append({"street": item.street_id, "community": item.community_id,
                       "estate": item.estate_id})
    if kind == "owners_committee" and (len(values) != 1 or not values[0]["estate"]):
        raise Invalid(_("An owners' committee belongs to exactly one estate."))
    if kind == "housing_bureau" and values:
        raise Invalid(_("The housing bureau covers the whole jurisdiction; give no places."))
    return values


async def organizations(p: Principal, kind: str | None, limit: int, offset: int) -> list[OrganizationOut]:
    orgs = repo.Organizations(p)
    where = [repo.Organization.kind == kind] if kind else []
    rows = await orgs.list(*where, limit=limit, offset=offset)
    return await _orgs_out(orgs, rows)


async def _orgs_out(orgs: repo.Organizations, rows: list[dict]) -> list[OrganizationOut]:
    coverage = await orgs.coverage([r["id"] for r in rows])
    return [OrganizationOut(id=r["id"], kind=r["kind"], name=r["name"], credit_code=r["credit_code"],
                            phone=r["phone"], coverage=[
                                CoverageItem(street_id=c["street"], community_id=c["community"],
                                             estate_id=c["estate"])
                                for c in coverage.get(r["id"], [])]) for r in rows]


async def get_organization(p: Principal, org_id: int) -> OrganizationOut:
    orgs = repo.Organizations(p)
    row = await orgs.get(org_id) or _raise(not_found())
    return (await _orgs_out(orgs, [row]))[0]


async def create_organization(p: Principal, kind: str, name: str, credit_code: str | None,
                              phone: str | None, coverage: list[CoverageItem]) -> OrganizationOut:
    if not p.is_tenant_admin:
        raise forbidden()
    values = await _coverage_values(p, kind, coverage)
    orgs = repo.Organizations(p)
    row = await unique(orgs.create(kind=kind, name=name, credit_code=credit_code, phone=phone),
                       _("An organisation of this kind with this name already exists."))
    await orgs.replace_coverage(row["id"], values)
    await log(p, "organization.created", "organization", row["id"], kind=kind, name=name,
              coverage=values)
    return await get_organization(p, row["id"])


async def update_organization(p: Principal, org_id: int, values: dict) -> OrganizationOut:
    await get_organization(p, org_id)
    if not administers(p, org_id):
        raise forbidden()
    await unique(repo.Organizations(p).update(org_id, values),
                 _("An organisation of this kind with this name already exists."))
    await log(p, "organization.updated", "organization", org_id, **values)
    return await get_organization(p, org_id)


async def set_coverage(p: Principal, org_id: int, items: list[CoverageItem]) -> OrganizationOut:
    org = await get_organization(p, org_id)
    if not p.is_tenant_admin:
        raise forbidden()
    values = await _coverage_values(p, org.kind, items)
    await repo.Organizations(p).replace_coverage(org_id, values)
    await log(p, "organization.coverage_set", "organization", org_id, coverage=values)
    return await get_organization(p, org_id)


# --- users and memberships ---------------------------------------------------------------------------
def user_out(r: dict) -> UserOut:
    return UserOut(id=r["id"], username=r["username"], display_name=r["display_name"],
                   phone=r["phone"], language=r["language"], is_active=r["is_active"],
                   person_id=r.get("person"))


def _check_role(kind: str, role: str) -> None:
    if role not in ROLES_BY_KIND[kind]:
        raise Invalid(_("Role '{role}' does not exist in this kind of organisation.").format(role=role),
                      errors=[{"field": "role", "message": ", ".join(ROLES_BY_KIND[kind])}])


async def get_user(p: Principal, user_id: int) -> dict:
    return await repo.Users(p).get(user_id) or _raise(not_found())


async def create_user(p: Principal, values: dict[str, Any], org_id: int | None,
                      role: str | None) -> dict:
    if org_id is None and not p.is_tenant_admin:
        raise forbidden()
    if (org_id is None) != (role is None):
        raise Invalid(_("Give both an organisation and a role, or neither."))
    if org_id is not None:
        org = await referenced(get_organization(p, org_id), "organization_id")
        if not administers(p, org_id):
            raise forbidden()
        _check_role(org.kind, role)  # type: ignore[arg-type]
    auth.check_password_policy(values["password"], values["username"])
    password = values.pop("password")
    row = await unique(repo.Users(p).create(password_hash=auth.hash_password(password), **values),
                       _("This username is taken."))
    await log(p, "user.created", "user", row["id"], username=row["username"])
    if org_id is not None:
        await _insert_member(p, org_id, row["id"], role)  # type: ignore[arg-type]
    return row


async def update_user(p: Principal, user_id: int, values: dict) -> dict:
    await get_user(p, user_id)
    if user_id != p.user_id and not (p.is_tenant_admin or await _admin_of_user(p, user_id)):
        raise forbidden()
    if "person_id" in values:
        if user_id == p.user_id:
            raise forbidden()
        values["person"] = await _linkable_person(p, values.pop("person_id"))
    if "is_active" in values and user_id == p.user_id:
        raise Invalid(_("You cannot deactivate your own account."))
    row = await repo.Users(p).update(user_id, values)
    if values.get("is_active") is False:
        await repo.revoke_tokens(user_id, auth.now())
    await log(p, "user.updated", "user", user_id, **values)
    return row


async def _linkable_person(p: Principal, person_id: int | None) -> int | None:
    """Linking an account to a resident gives it that resident's rights (their units, their
    contact data), so only those who maintain the ledger of every estate the person owns in
    may do it; nobody links their own account."""
    if person_id is None:
        return None
    await referenced(service.get_person(p, person_id), "person_id")
    estates = await repo.People(p).estates_of(person_id)
    if not (p.is_tenant_admin or (estates and all(manages_places(p, estate=e) for e in estates))):
        raise forbidden()
    return person_id


async def _admin_of_user(p: Principal, user_id: int) -> bool:
    """An organisation admin manages an account only when every organisation it acts for is one
    they administer: otherwise editing it would reach into another organisation."""
    seats = await repo.load_seats(user_id, p.tenant_id)
    return bool(seats) and all(administers(p, s.organization_id) for s in seats)


async def members(p: Principal, org_id: int) -> list[dict]:
    """Who acts for an organisation: full names for its own members and the bureau, masked
    names for the related organisations that may see it."""
    await get_organization(p, org_id)
    rows = await repo.Memberships(p).of_organization(org_id)
    if p.tenant_wide or p.seat_in(org_id) is not None:
        return rows
    return [{**r, "display_name": mask_name(r["display_name"])} for r in rows]


async def add_member(p: Principal, org_id: int, user_id: int, role: str) -> dict:
    org = await get_organization(p, org_id)
    if not administers(p, org_id):
        raise forbidden()
    _check_role(org.kind, role)
    # Only a user the caller may see (scoped): an organisation admin must not adopt any account
    # of the tenant, which would then let them read and edit (even deactivate) that account.
    user = await referenced(get_user(p, user_id), "user_id")
    return await _insert_member(p, org_id, user["id"], role)


async def _insert_member(p: Principal, org_id: int, user_id: int, role: str) -> dict:
    row = await unique(repo.Memberships(p).create(user=user_id, organization=org_id, role=role),
                       _("This user is already a member of this organisation."))
    await log(p, "membership.created", "organization", org_id, user=user_id, role=role)
    return row


async def update_member(p: Principal, membership_id: int, role: str) -> dict:
    m = await repo.Memberships(p).get(membership_id) or _raise(not_found())
    if not administers(p, m["organization"]):
        raise forbidden()
    org = await get_organization(p, m["organization"])
    _check_role(org.kind, role)
    row = await repo.Memberships(p).update(membership_id, {"role": role})
    await log(p, "membership.updated", "organization", m["organization"], user=m["user"], role=role)
    return row


async def remove_member(p: Principal, membership_id: int) -> None:
    m = await repo.Memberships(p).get(membership_id) or _raise(not_found())
    if not administers(p, m["organization"]):
        raise forbidden()
    await repo.Memberships(p).remove(membership_id)
    await log(p, "membership.deleted", "organization", m["organization"], user=m["user"])
