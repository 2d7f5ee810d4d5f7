"""Operator actions with no signed-in caller: creating a tenant and its first accounts."""
from __future__ import annotations

from core import audit
from core.db import db
from core.i18n import gettext as _
from core.problems import Invalid, NotFound
from tenancy import auth
from tenancy import repository as repo
from tenancy import system_repository as sysrepo
from tenancy.schemas import ROLES_BY_KIND


async def create_tenant(code: str, name: str, admin_username: str, admin_password: str,
                        bureau_name: str) -> int:
    auth.check_password_policy(admin_password, admin_username)
    async with db().transaction():
        if await sysrepo.tenant_by_code(code):
            raise Invalid(_("A tenant with this code already exists."))
        tenant = await sysrepo.insert(repo.Tenant, code=code, name=name)
        bureau = await sysrepo.insert(repo.Organization, tenant=tenant["id"], kind="housing_bureau",
                                   name=bureau_name)
        user = await sysrepo.insert(repo.User, tenant=tenant["id"], username=admin_username,
                                 password_hash=auth.hash_password(admin_password),
                                 display_name=admin_username)
        await sysrepo.insert(repo.Membership, tenant=tenant["id"], user=user["id"],
                          organization=bureau["id"], role="admin")
        await audit.record(tenant["id"], "tenant.created", subject_type="tenant",
                           subject_id=tenant["id"], data={"code": code, "admin": admin_username})
        return tenant["id"]


async def create_user(tenant_code: str, username: str, display_name: str, password: str,
                      organization_id: int | None, role: str | None) -> int:
    auth.check_password_policy(password, username)
    async with db().transaction():
        tenant = await sysrepo.tenant_by_code(tenant_code)
        if tenant is None:
            raise NotFound(_("No tenant has this code."))
        if await repo.user_by_username(username):
            raise Invalid(_("This username is taken."))
        user = await sysrepo.insert(repo.User, tenant=tenant["id"], username=username,
                                 password_hash=auth.hash_password(password), display_name=display_name)
        if organization_id is not None:
            org = await sysrepo.organization_in_tenant(tenant["id"], organization_id)
            if org is None:
                raise NotFound(_("No organisation with this id in this tenant."))
            if role not in ROLES_BY_KIND[org["kind"]]:
                raise Invalid(_("Role '{role}' does not exist in this kind of organisation.").format(
                    role=role))
            await sysrepo.insert(repo.Membership, tenant=tenant["id"], user=user["id"],
                              organization=organization_id, role=role)
        await audit.record(tenant["id"], "user.created", subject_type="user", subject_id=user["id"],
                           data={"username": username, "via": "cli"})
        return user["id"]
