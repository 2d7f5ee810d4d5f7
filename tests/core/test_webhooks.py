"""Webhook delivery to a real HTTP receiver (uvicorn on 127.0.0.1): signatures, retries with
back-off, timeouts, failure after the last attempt, and refusal of private addresses."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from datetime import datetime, timedelta, timezone

import pytest
import uvicorn

from core import outbox, webhooks
from core.db import db, fetch
from core.problems import Invalid
from core.settings import get_settings
from core.webhook_delivery import BACKOFF_SECONDS, MAX_ATTEMPTS, claim, deliver_webhooks
from tests.factories import login


class Receiver:
    """An HTTP server that records every request and answers from a script: an int is a status,
    a float is a number of seconds to stall before answering 200."""

    def __init__(self, *script: int | float) -> None:
        self.script = list(script)
        self.requests: list[dict] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks/gongzhi"
        self.server = uvicorn.Server(uvicorn.Config(self.app, interface="asgi3", lifespan="off",
                                                    log_level="warning",
                                                    timeout_graceful_shutdown=1))

    async def app(self, scope, receive, send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        self.requests.append({"path": scope["path"], "body": body,
                              "headers": {k.decode(): v.decode() for k, v in scope["headers"]}})
        action = self.script.pop(0) if self.script else 200
        if isinstance(action, float):
            await asyncio.sleep(action)
        await send({"type": "http.response.start", "status": action if isinstance(action, int) else 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def __aenter__(self) -> Receiver:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        await self.task


@pytest.fixture
def allow_private(monkeypatch):
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)


def verify(request: dict, secret: str) -> dict:
    """What a receiver does: check the signature over timestamp + "." + body, then parse."""
    h = request["headers"]
    expected = hmac.new(secret.encode(), f"{h['x-gongzhi-timestamp']}.".encode() + request["body"],
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h["x-gongzhi-signature"], f"sha256={expected}")
    body = json.loads(request["body"])
    assert body["id"] == h["x-gongzhi-delivery"] and body["event"] == h["x-gongzhi-event"]
    return body


async def _subscribe(world, url: str, topics=("case.*",), org_kind="street_office") -> tuple[int, str]:
    async with db().transaction():
        row, secret = await webhooks.create_subscription(world.tenant_a, world.a1.orgs[org_kind],
                                                         url, list(topics))
    return row["id"], secret


async def _emit_and_publish(world, topic: str, payload: dict, org_kind="street_office") -> int:
    async with db().transaction():
        event_id = await outbox.emit(world.tenant_a, topic, payload,
                                     organizations=[world.a1.orgs[org_kind]])
    await outbox.publish_outbox()
    return event_id


async def _deliveries(webhook_id: int) -> list[dict]:
    return await fetch("SELECT * FROM webhook_delivery WHERE subscription = $1 ORDER BY id",
                       webhook_id)


async def _make_due(webhook_id: int) -> None:
    await fetch("UPDATE webhook_delivery SET next_attempt_at = now() - interval '1 second'"
                " WHERE subscription = $1 AND status = 'pending'", webhook_id)


async def test_a_matching_event_is_posted_signed_with_the_subscription_secret(
        client, world, allow_private):
    async with Receiver(200) as receiver:
        webhook_id, secret = await _subscribe(world, receiver.url, ["case.*"])
        await _emit_and_publish(world, "meeting.scheduled", {"meeting_id": 3})  # not subscribed
        event_id = await _emit_and_publish(world, "case.assigned", {"case_id": 7, "title": "漏水"})
        assert await deliver_webhooks() >= 1
    [request] = receiver.requests
    body = verify(request, secret)
    assert request["path"] == "/hooks/gongzhi"
    assert body["event"] == "case.assigned" and body["data"] == {"case_id": 7, "title": "漏水"}
    assert request["headers"]["content-type"] == "application/json"
    [d] = await _deliveries(webhook_id)
    assert (d["event"], d["status"], d["attempts"], d["last_status_code"]) == (event_id, "delivered", 1, 200)
    assert str(d["delivery_id"]) == body["id"] and d["delivered_at"] is not None


async def test_a_receiver_answering_500_gets_the_same_delivery_again_after_the_back_off(
        client, world, allow_private):
    async with Receiver(500, 200) as receiver:
        webhook_id, secret = await _subscribe(world, receiver.url, ["case.resolved"])
        await _emit_and_publish(world, "case.resolved", {"case_id": 8})
        await deliver_webhooks()
        [d] = await _deliveries(webhook_id)
        assert (d["status"], d["attempts"], d["last_status_code"], d["last_error"]) == (
            "pending", 1, 500, "HTTP 500")
        wait = d["next_attempt_at"] - datetime.now(timezone.utc)
        assert timedelta(seconds=BACKOFF_SECONDS[0] - 5) < wait <= timedelta(seconds=BACKOFF_SECONDS[0])
        await deliver_webhooks()  # not due yet: nothing is sent
        assert len(receiver.requests) == 1
        await _make_due(webhook_id)
        await deliver_webhooks()
    first, second = (verify(r, secret) for r in receiver.requests)
    assert first["id"] == second["id"] and first == second
    [d] = await _deliveries(webhook_id)
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("delivered", 2, 200)


async def test_a_receiver_that_never_answers_in_time_is_retried_then_failed_and_logged(
        client, world, allow_private, monkeypatch):
    monkeypatch.setattr(get_settings(), "webhook_timeout_seconds", 0.2)
    async with Receiver(*[1.0] * MAX_ATTEMPTS) as receiver:
        webhook_id, _secret = await _subscribe(world, receiver.url, ["*"])
        await _emit_and_publish(world, "case.escalated", {"case_id": 9})
        waits = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await deliver_webhooks()
            [d] = await _deliveries(webhook_id)
            assert d["attempts"] == attempt and d["last_error"] == "no answer within 0.2 s"
            if d["next_attempt_at"] is not None:
                waits.append(round((d["next_attempt_at"] - datetime.now(timezone.utc)).total_seconds()))
                await _make_due(webhook_id)
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert all(abs(w - b) <= 2 for w, b in zip(waits, BACKOFF_SECONDS, strict=True)), waits
    assert (d["status"], d["next_attempt_at"]) == ("failed", None)

    h = await login(client, world.a1.users["street_office:admin"])
    r = await client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=h)
    assert r.status_code == 200, r.text
    [logged] = r.json()
    assert (logged["status"], logged["attempts"], logged["event"]) == ("failed", 6, "case.escalated")
    assert logged["last_error"] == "no answer within 0.2 s"


async def test_a_delivery_whose_worker_died_mid_attempt_is_sent_again(client, world, allow_private):
    async with Receiver(200) as receiver:
        webhook_id, secret = await _subscribe(world, receiver.url, ["case.*"])
        await _emit_and_publish(world, "case.closed", {"case_id": 10})
        claimed = await claim()  # a worker leases the delivery ... and is killed before sending
        assert webhook_id in [await _subscription_of(d["id"]) for d in claimed]
        await deliver_webhooks()
        assert receiver.requests == []  # leased: nobody else sends it yet
        await _make_due(webhook_id)  # the lease ran out
        await deliver_webhooks()
    [request] = receiver.requests
    verify(request, secret)
    [d] = await _deliveries(webhook_id)
    assert (d["status"], d["attempts"]) == ("delivered", 2)


async def _subscription_of(delivery_id: int) -> int:
    return (await fetch("SELECT subscription FROM webhook_delivery WHERE id = $1", delivery_id))[0][
        "subscription"]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "https://10.1.2.3/hook",
    "http://192.168.1.10/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://100.64.0.1/hook", "http://0.0.0.0/hook"])
async def test_private_loopback_and_link_local_urls_are_refused_by_default(url):
    assert get_settings().webhook_allow_private is False
    with pytest.raises(Invalid) as refused:
        await webhooks.check_url(url)
    assert refused.value.errors[0]["field"] == "url"


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "example.com/hook",
                                 "https://user:pw@93.184.215.14/hook", "http:///nohost"])
async def test_urls_that_are_not_plain_http_are_refused_even_when_private_ones_are_allowed(
        url, allow_private):
    with pytest.raises(Invalid):
        await webhooks.check_url(url)


async def test_a_public_address_is_accepted():
    assert await webhooks.check_url("https://93.184.215.14/hooks") == "https://93.184.215.14/hooks"


async def test_a_delivery_to_a_private_address_is_refused_at_send_time(client, world, monkeypatch):
    async with Receiver(200) as receiver:
        monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
        webhook_id, _secret = await _subscribe(world, receiver.url, ["case.*"])
        monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
        await _emit_and_publish(world, "case.reopened", {"case_id": 11})
        await deliver_webhooks()
    assert receiver.requests == []
    [d] = await _deliveries(webhook_id)
    assert d["status"] == "pending" and d["last_error"].startswith("refused: ")


async def test_the_test_endpoint_sends_a_webhook_test_event_to_that_webhook_only(
        client, world, allow_private):
    async with Receiver() as receiver, Receiver() as other:
        tested, secret = await _subscribe(world, receiver.url, ["case.*"], "residents_committee")
        await _subscribe(world, other.url, ["*"], "residents_committee")
        h = await login(client, world.a1.users["residents_committee:admin"])
        r = await client.post(f"/api/v1/webhooks/{tested}/test", headers=h)
        assert r.status_code == 202, r.text
        await outbox.publish_outbox()
        await deliver_webhooks()
    [request] = receiver.requests
    body = verify(request, secret)
    assert body["event"] == "webhook.test" and body["data"]["webhook_id"] == tested
    assert other.requests == []
