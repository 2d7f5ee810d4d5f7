"""Organisations' webhooks: who may manage them, over core.webhooks and the outbox.

Admins of the organisation and the tenant admin manage its webhooks. Anyone else gets 404 when
they may not see the organisation at all, 403 when they may see it but not manage it.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from core import outbox
from core import webhooks as hooks
from core.problems import NotFound
from tenancy.accounts import get_organization
from tenancy.guards import administers
from tenancy.principal import Principal
from tenancy.service import _raise, forbidden, log, not_found


async def _managed_organization(p: Principal, org_id: int) -> None:
    await get_organization(p, org_id)  # 404 when out of sight
    if not administers(p, org_id):
        raise forbidden()


async def _managed(p: Principal, webhook_id: int) -> dict[str, Any]:
    row = await hooks.subscription(p.tenant_id, webhook_id) or _raise(not_found())
    try:
        await _managed_organization(p, row["organization_id"])
    except NotFound:
        raise not_found() from None
    return row


async def create(p: Principal, org_id: int, url: str, topics: list[str]) -> tuple[dict, str]:
    """A new subscription and its signing secret (the only time the secret is shown)."""
    await _managed_organization(p, org_id)
    url = await hooks.check_url(url.strip())
    row, secret = await hooks.create_subscription(p.tenant_id, org_id, url, topics,
                                                  created_by=p.user_id)
    # The host only: a receiver's URL may carry its own access token.
    await log(p, "webhook.created", "webhook", row["id"], organization=org_id,
              host=urlsplit(url).hostname, topics=row["topics"])
    return row, secret


async def list_for(p: Principal, org_id: int) -> list[dict]:
    await _managed_organization(p, org_id)
    return await hooks.subscriptions(p.tenant_id, org_id)


async def delete(p: Principal, webhook_id: int) -> None:
    row = await _managed(p, webhook_id)
    await hooks.delete_subscription(p.tenant_id, webhook_id)
    await log(p, "webhook.deleted", "webhook", webhook_id, organization=row["organization_id"],
              host=urlsplit(row["url"]).hostname)


async def deliveries(p: Principal, webhook_id: int, limit: int, offset: int) -> list[dict]:
    await _managed(p, webhook_id)
    return await hooks.deliveries(p.tenant_id, webhook_id, limit=limit, offset=offset)


async def send_test(p: Principal, webhook_id: int) -> int:
    """Emit a `webhook.test` event that goes to this subscription only; returns the event id."""
    row = await _managed(p, webhook_id)
    return await outbox.emit(p.tenant_id, hooks.TEST_TOPIC,
                             {"webhook_id": webhook_id, "organization_id": row["organization_id"],
                              "requested_by": p.user_id})
