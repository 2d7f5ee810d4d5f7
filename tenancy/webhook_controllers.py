"""API for organisations' webhooks: subscribe, list, delete, read the delivery log, send a test."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from msgspec import Meta, Struct, structs

from tenancy import webhooks
from tenancy.guards import authenticated
from tenancy.place_controllers import Offset, Req

TopicPattern = Annotated[str, Meta(
    min_length=1, max_length=100, pattern=r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$",
    description='An event topic ("case.assigned"), every topic under a prefix ("case.*"), or "*"',
    examples=["case.*"])]
DeliveryLimit = Annotated[int, Parameter(ge=1, le=200)]


class WebhookIn(Struct, forbid_unknown_fields=True):
    url: Annotated[str, Meta(min_length=1, max_length=2000, examples=["https://example.com/hooks"])]
    topics: Annotated[list[TopicPattern], Meta(min_length=1, max_length=50)]


class WebhookOut(Struct):
    id: int
    organization_id: int
    url: str
    topics: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    """The subscription and its signing secret, which is never shown again."""

    secret: str


class DeliveryOut(Struct):
    id: int
    delivery_id: UUID
    event_id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class TestSent(Struct):
    event_id: int


def webhook_out(r: dict) -> WebhookOut:
    return WebhookOut(id=r["id"], organization_id=r["organization_id"], url=r["url"],
                      topics=list(r["topics"]), active=r["active"], created_at=r["created_at"])


def delivery_out(r: dict) -> DeliveryOut:
    return DeliveryOut(id=r["id"], delivery_id=r["delivery_id"], event_id=r["event_id"],
                       event=r["topic"], status=r["status"], attempts=r["attempts"],
                       next_attempt_at=r["next_attempt_at"], last_status_code=r["last_status_code"],
                       last_error=r["last_error"], created_at=r["created_at"],
                       delivered_at=r["delivered_at"])


class WebhookController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["webhooks"]

    @post("/organizations/{organization_id:int}/webhooks")
    async def create_webhook(self, request: Req, organization_id: int, data: WebhookIn,
                             tx: object) -> WebhookCreated:
        row, secret = await webhooks.create(request.user, organization_id, data.url, data.topics)
        return WebhookCreated(**structs.asdict(webhook_out(row)), secret=secret)

    @get("/organizations/{organization_id:int}/webhooks")
    async def list_webhooks(self, request: Req, organization_id: int) -> list[WebhookOut]:
        return [webhook_out(r) for r in await webhooks.list_for(request.user, organization_id)]

    @delete("/webhooks/{webhook_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def delete_webhook(self, request: Req, webhook_id: int, tx: object) -> None:
        await webhooks.delete(request.user, webhook_id)

    @get("/webhooks/{webhook_id:int}/deliveries")
    async def list_deliveries(self, request: Req, webhook_id: int, limit: DeliveryLimit = 50,
                              offset: Offset = 0) -> list[DeliveryOut]:
        rows = await webhooks.deliveries(request.user, webhook_id, limit, offset)
        return [delivery_out(r) for r in rows]

    @post("/webhooks/{webhook_id:int}/test", status_code=HTTP_202_ACCEPTED)
    async def test_webhook(self, request: Req, webhook_id: int, tx: object) -> TestSent:
        return TestSent(event_id=await webhooks.send_test(request.user, webhook_id))
