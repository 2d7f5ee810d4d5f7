"""Tables owned by the infrastructure layer."""
from piccolo.columns import JSONB, BigInt, Integer, Timestamptz, Varchar
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
