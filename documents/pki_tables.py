"""Keys and certificates (DESIGN.md §4 Signatures).

`pki_platform_key` holds the platform's own certificate authority and timestamp authority: one
row each, created on first use, their private keys encrypted with DOCUMENTS_KEY. It belongs to
no tenant (one CA for the deployment).

`signing_credential` holds a person's signing certificate (kind `person`, one per user) or an
organisation's seal certificate (kind `seal`, 电子印章). The private key is encrypted with a key
derived from a PIN that only its holder knows (the person's signing PIN, the seal custodians'
seal PIN) and is never stored. `source` says who issued the certificate: the platform CA or a
licensed CA whose PKCS#12 an organisation imported (`chain` then carries its intermediates).
At most one unrevoked credential per user and per organisation (partial unique indexes in the
raw-SQL migration).
"""
from piccolo.columns import JSONB, Bytea, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

Tenant = LazyTableReference(table_class_name="Tenant", app_name="tenancy")
Organization = LazyTableReference(table_class_name="Organization", app_name="tenancy")
User = LazyTableReference(table_class_name="User", app_name="tenancy")


class PlatformKey(Table, tablename="pki_platform_key"):
    name = Varchar(length=20, unique=True)  # ca | tsa
    certificate = Bytea()  # DER
    encrypted_key = Bytea()  # documents.keys envelope, sealed with DOCUMENTS_KEY
    created_at = Timestamptz(default=TimestamptzNow())


class SigningCredential(Table, tablename="signing_credential"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=10)  # person | seal
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True, null=True, default=None)
    organization = ForeignKey(Organization, on_delete=OnDelete.restrict, index=True, null=True,
                              default=None)
    source = Varchar(length=10, default="platform")  # platform | pkcs12
    subject = Varchar(length=300)  # the certificate's common name, for lists
    serial = Varchar(length=64)  # hex
    fingerprint = Varchar(length=64, index=True)  # SHA-256 of the certificate (hex)
    certificate = Bytea()  # DER
    chain = JSONB(default=[])  # base64 DER of intermediates (imported credentials)
    encrypted_key = Bytea()  # documents.keys envelope, sealed with the holder's PIN
    not_before = Timestamptz()
    not_after = Timestamptz()
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    pin_changed_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    revocation_reason = Varchar(length=200, default="")


PKI_TABLES = [PlatformKey, SigningCredential]
