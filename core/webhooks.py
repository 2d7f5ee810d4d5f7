"""Webhook subscriptions: organisations' own HTTPS receivers of the outbox's events.

Storage and rules only; who may manage a subscription is decided above (tenancy/webhooks.py).
The signing secret is never stored: it is HMAC(SECRET_KEY, seed) with a random per-subscription
seed, so a database dump alone does not reveal it (and changing SECRET_KEY changes every
webhook secret: receivers then need new ones). It is shown once, when the subscription is made.

Receivers are servers on the internet, so URLs that lead to private, loopback, link-local or
otherwise non-public addresses are refused (server-side request forgery), both when the
subscription is made and again before every delivery (the name may resolve elsewhere by then),
unless WEBHOOK_ALLOW_PRIVATE is set.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import uuid
from datetime import timezone
from typing import Any
from urllib.parse import urlsplit

from core.db import fetch, require_transaction
from core.i18n import gettext as _
from core.problems import Invalid
from core.settings import get_settings

TEST_TOPIC = "webhook.test"  # sent only to the subscription named in its payload
RESOLVE_TIMEOUT = 5.0
COLUMNS = "id, tenant_id, organization_id, url, topics, active, created_by, created_at"


# --- secrets and signatures ---------------------------------------------------------------
def secret_for(seed: str) -> str:
    key = get_settings().secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"gongzhi-webhook:{seed}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`X-Gongzhi-Signature`: HMAC-SHA256 over "<timestamp>.<body>", hex, with a scheme prefix."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body(delivery_id: uuid.UUID | str, topic: str, created_at: Any, payload: Any) -> bytes:
    return json.dumps({"id": str(delivery_id), "event": topic,
                       "created_at": created_at.astimezone(timezone.utc).isoformat(),
                       "data": payload}, ensure_ascii=False, separators=(",", ":")).encode()


# --- where we may send ----------------------------------------------------------------------
def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def _addresses(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT)
    except (OSError, asyncio.TimeoutError):
        return []
    return sorted({str(info[4][0]) for info in infos})


async def refusal(url: str) -> str | None:
    """Why `url` may not receive webhooks (an English reason for logs), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL with a host"
    if parts.username is not None or parts.password is not None:
        return "the URL carries credentials"
    if get_settings().webhook_allow_private:
        return None
    addresses = await _addresses(parts.hostname, port)
    if not addresses:
        return "the host name does not resolve"
    if not all(is_public(a) for a in addresses):
        return "the host is a private, loopback or link-local address"
    return None


async def check_url(url: str) -> str:
    """The URL, or a 422 on the `url` field saying why no webhook may go there."""
    reason = await refusal(url)
    if reason is None:
        return url
    if reason.startswith("the host name"):
        message = _("The host name of this URL does not resolve.")
    elif reason.startswith("the host is"):
        message = _("Webhooks may not be sent to private, loopback or link-local addresses.")
    else:
        message = _("A webhook URL must start with http:// or https://, name a host and carry "
                    "no password.")
    raise Invalid(message, errors=[{"field": "url", "message": message}])


def topic_matches(patterns: list[str], topic: str) -> bool:
    """"case.assigned" matches itself, "case.*" and "*"."""
    return any(p == "*" or p == topic or (p.endswith(".*") and topic.startswith(p[:-1]))
               for p in patterns)


# --- subscriptions ------------------------------------------------------------------------------
async def create_subscription(tenant_id: int, organization_id: int, url: str, topics: list[str],
                              *, created_by: int | None = None) -> tuple[dict[str, Any], str]:
    """Store a subscription (the URL must already be checked); returns it and its secret."""
    require_transaction()
    seed = secrets.token_urlsafe(32)
    rows = await fetch(
        "INSERT INTO webhook_subscription (tenant_id, organization_id, url, secret_seed, topics,"
        " active, created_by, created_at) VALUES ($1, $2, $3, $4, $5::varchar[], TRUE, $6, now())"
        f" RETURNING {COLUMNS}",
        int(tenant_id), int(organization_id), url, seed, list(dict.fromkeys(topics)), created_by)
    return rows[0], secret_for(seed)


async def subscriptions(tenant_id: int, organization_id: int) -> list[dict[str, Any]]:
    return await fetch(f"SELECT {COLUMNS} FROM webhook_subscription WHERE tenant_id = $1"
                       " AND organization_id = $2 ORDER BY id", int(tenant_id), int(organization_id))


async def subscription(tenant_id: int, subscription_id: int) -> dict[str, Any] | None:
    rows = await fetch(f"SELECT {COLUMNS} FROM webhook_subscription WHERE tenant_id = $1 AND id = $2",
                       int(tenant_id), int(subscription_id))
    return rows[0] if rows else None


async def delete_subscription(tenant_id: int, subscription_id: int) -> None:
    """Delete it with its delivery log; pending deliveries are dropped."""
    require_transaction()
    await fetch("DELETE FROM webhook_subscription WHERE tenant_id = $1 AND id = $2",
                int(tenant_id), int(subscription_id))


async def deliveries(tenant_id: int, subscription_id: int, *, limit: int = 50,
                     offset: int = 0) -> list[dict[str, Any]]:
    """The delivery log, newest first."""
    return await fetch(
        "SELECT d.id, d.delivery_id, d.event AS event_id, e.topic, d.status, d.attempts,"
        " d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.delivered_at"
        " FROM webhook_delivery d JOIN outbox_event e ON e.id = d.event"
        " WHERE d.tenant_id = $1 AND d.subscription = $2 ORDER BY d.id DESC LIMIT $3 OFFSET $4",
        int(tenant_id), int(subscription_id), limit, offset)


async def create_deliveries(event: dict[str, Any]) -> int:
    """One pending delivery per active subscription of the event's organisations that wants its
    topic (the publisher calls this in its transaction). Returns how many."""
    require_transaction()
    if event["topic"] == TEST_TOPIC:
        rows = await fetch("SELECT id FROM webhook_subscription WHERE tenant_id = $1 AND id = $2",
                           event["tenant_id"], int(event["payload"].get("webhook_id") or 0))
        targets = [r["id"] for r in rows]
    elif event["organization_ids"]:
        rows = await fetch("SELECT id, topics FROM webhook_subscription WHERE tenant_id = $1"
                           " AND organization_id = ANY($2::int[]) AND active ORDER BY id",
                           event["tenant_id"], event["organization_ids"])
        targets = [r["id"] for r in rows if topic_matches(r["topics"], event["topic"])]
    else:
        targets = []
    if targets:
        await fetch(
            "INSERT INTO webhook_delivery (tenant_id, subscription, event, delivery_id, status,"
            " attempts, next_attempt_at, created_at)"
            " SELECT $1, s, $2, d, 'pending', 0, now(), now()"
            " FROM unnest($3::int[], $4::uuid[]) AS t(s, d)",
            event["tenant_id"], event["id"], targets, [uuid.uuid4() for _ in targets])
    return len(targets)
