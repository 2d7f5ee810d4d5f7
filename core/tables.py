"""Tables owned by the infrastructure layer."""
from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    """Append-only, hash-chained per tenant. UPDATE/DELETE are refused by a trigger."""

    tenant_id = BigInt(index=True)
    seq = BigInt()
    occurred_at = Timestamptz()
    actor_user_id = Integer(null=True, default=None)
    actor_org_id = Integer(null=True, default=None)
    action = Varchar(length=100)
    subject_type = Varchar(length=50)
    subject_id = Varchar(length=64, null=True, default=None)
    data = JSONB(default={})
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class OutboxEvent(Table, tablename="outbox_event"):
    """A domain event, written in the transaction of the change it reports (core/outbox.py).

    `organization_ids` and `user_ids` are its audience: the live channels it is published to
    and the organisations whose webhooks receive it. `published_at` is set once it was."""

    id = BigSerial(primary_key=True)
    tenant_id = BigInt()
    topic = Varchar(length=100)
    payload = JSONB(default={})
    organization_ids = Array(base_column=Integer(), default=list)
    user_ids = Array(base_column=Integer(), default=list)
    created_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None)


class WebhookSubscription(Table, tablename="webhook_subscription"):
    """An organisation's receiver of events (core/webhooks.py). The signing secret is never
    stored: it is derived from SECRET_KEY and `secret_seed`."""

    tenant_id = BigInt()
    organization_id = Integer(index=True)
    url = Varchar(length=2000)
    secret_seed = Varchar(length=64)
    topics = Array(base_column=Varchar(length=100), default=list)
    active = Boolean(default=True)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz()


class WebhookDelivery(Table, tablename="webhook_delivery"):
    """One event sent to one subscription: its attempts, outcome and next retry."""

    id = BigSerial(primary_key=True)
    tenant_id = BigInt()
    subscription = ForeignKey(references=WebhookSubscription, on_delete=OnDelete.cascade,
                              index=True)
    event = ForeignKey(references=OutboxEvent, on_delete=OnDelete.cascade)
    delivery_id = UUID(unique=True)
    status = Varchar(length=10, default="pending")  # pending | delivered | failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None)
    last_status_code = Integer(null=True, default=None)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)


class IdempotencyRecord(Table, tablename="idempotency_record"):
    """A POST's Idempotency-Key (core/idempotency.py): pending while the first request runs, then
    its response, replayed to retries until `expires_at`. Unique per (caller, key_hash)."""

    id = BigSerial(primary_key=True)
    caller = Varchar(length=100)
    key_hash = Varchar(length=64)
    fingerprint = Varchar(length=64)
    state = Varchar(length=10, default="pending")  # pending | done
    status = Integer(null=True, default=None)
    headers = JSONB(null=True, default=None)
    body = Bytea(null=True, default=None)
    expires_at = Timestamptz()
