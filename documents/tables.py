"""Tables of the documents package: the document registry.

A `Document` is one thing a person would call "the 2026 annual report of 翠湖花园's contract":
its kind, what it is about (subject), its number and who owns it. Each rendering of it is a
`DocumentVersion` (1, 2, …): the PDF's current bytes (storage key, SHA-256), its ordered signer
list and how far signing has got. Every stored file of a version — the render and each signed
increment after it — is a `DocumentFile`, so verification recognises any copy someone kept.
`DocumentEvent` is the registry's own append-only history (the audit chain gets the same).

Constraints the ORM cannot express (allowed kinds/states, one version number per document,
one version per render job, one file per sha per version, append-only events) are in a raw-SQL
migration.
"""
from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

Tenant = LazyTableReference(table_class_name="Tenant", app_name="tenancy")
Estate = LazyTableReference(table_class_name="Estate", app_name="tenancy")
Organization = LazyTableReference(table_class_name="Organization", app_name="tenancy")
User = LazyTableReference(table_class_name="User", app_name="tenancy")


class Document(Table, tablename="document"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=30)  # documents.schemas.KINDS
    # What it is about, e.g. ("service_contract", 12, "2026") or ("meeting", 7, "").
    subject_type = Varchar(length=40)
    subject_id = BigInt()
    period = Varchar(length=20, default="")
    title = Varchar(length=300)
    number = Varchar(length=60)  # document number (文号), unique per tenant
    owner_organization = ForeignKey(Organization, on_delete=OnDelete.restrict, null=False)
    # The estate it concerns (None for tenant-wide documents such as a company roll-up).
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, null=True, default=None)
    # Organisations the document concerns that may read it besides the owner.
    organizations = Array(base_column=Integer(), default=list)
    current_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class DocumentVersion(Table, tablename="document_version"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    document = ForeignKey(Document, on_delete=OnDelete.restrict, index=True, null=False)
    version = Integer()
    # The latest file of this version (the render, then each signed increment).
    storage_key = Varchar(length=300)
    sha256 = Varchar(length=64)
    size = BigInt()
    page_count = Integer(default=0)
    state = Varchar(length=24, default="draft")  # documents.schemas.STATES
    # Ordered signers: documents.schemas.Signer as dicts; seals come after persons.
    signers = JSONB(default=[])
    next_signer = Integer(default=0)
    source_json = JSONB(default={})  # the data the PDF was rendered from (also attached)
    template = Varchar(length=100, default="")
    job_key = Varchar(length=200, null=True, default=None)  # render idempotency (unique)
    # Printed as a QR code (/verify?code=…): finds this version without knowing its hash.
    verify_code = Varchar(length=32, unique=True)
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class DocumentFile(Table, tablename="document_file"):
    """One stored PDF of a version: revision 0 is the render, n the file after n increments."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    version = ForeignKey(DocumentVersion, on_delete=OnDelete.restrict, index=True, null=False)
    revision = Integer()
    storage_key = Varchar(length=300)
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    signer_index = Integer(null=True, default=None)  # None: render or document timestamp
    kind = Varchar(length=20, default="render")  # render | signature | seal | timestamp
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class DocumentEvent(Table, tablename="document_event"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    document = ForeignKey(Document, on_delete=OnDelete.restrict, index=True, null=False)
    version = Integer(null=True, default=None)
    action = Varchar(length=40)  # rendered | superseded | opened_for_signing | signed | sealed …
    actor_user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    data = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class DocumentExport(Table, tablename="document_export"):
    """A bulk download being built by a worker (a campaign's reports as one ZIP)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=30, default="campaign_zip")
    subject_type = Varchar(length=40)
    subject_id = BigInt()
    requested_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    organization = ForeignKey(Organization, on_delete=OnDelete.restrict, null=False)
    state = Varchar(length=12, default="queued")  # queued | running | ready | failed | expired
    done = Integer(default=0)
    total = Integer(default=0)
    storage_key = Varchar(length=300, null=True, default=None)
    sha256 = Varchar(length=64, null=True, default=None)
    size = BigInt(null=True, default=None)
    file_name = Varchar(length=200, default="")
    error = Varchar(length=300, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


TABLES = [Document, DocumentVersion, DocumentFile, DocumentEvent, DocumentExport]
