"""Open311 GeoReport v2 integration keys (cases.open311): one per integration, owned by an
organisation whose coverage decides where the integration may file and what it reads.
Only the SHA-256 of the key is stored; revoking sets `revoked_at`."""
from piccolo.columns import ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

Tenant = LazyTableReference(table_class_name="Tenant", app_name="tenancy")
User = LazyTableReference(table_class_name="User", app_name="tenancy")
Organization = LazyTableReference(table_class_name="Organization", app_name="tenancy")


class Open311ApiKey(Table, tablename="open311_api_key"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    organization = ForeignKey(Organization, on_delete=OnDelete.restrict, index=True, null=False)
    key_hash = Varchar(length=64, unique=True)
    name = Varchar(length=100)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False)  # files the cases
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


OPEN311_TABLES = [Open311ApiKey]
