"""Contracts: the estate's property-service contract and its scanned documents.

Other packages' tables are referenced by name through Piccolo's app registry, never imported.
`sla` holds the contract's service-level clauses in the shape cases' `SlaTargets.to_dict()`
produces (see contracts.schemas.SlaClauses); null means the tenant's default policy applies.
Constraints the ORM cannot express (one active contract per estate, end after start, the
allowed values of `kind`, `status` and `service_level`) live in a raw-SQL migration.
"""
from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Text,
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


class ServiceContract(Table, tablename="service_contract"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    estate = ForeignKey(Estate, on_delete=OnDelete.restrict, index=True, null=False)
    property_company = ForeignKey(Organization, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=20, default="service")  # service 物业服务合同 | preliminary 前期物业服务合同
    counterparty = ForeignKey(Organization, on_delete=OnDelete.restrict, null=True, default=None)
    counterparty_name = Varchar(length=200, null=True, default=None)  # the developer, for preliminary
    number = Varchar(length=100, default="")
    signed_on = Date(null=True, default=None)
    starts_on = Date()
    ends_on = Date()
    fee_per_m2_month = Numeric(digits=(8, 2))  # 元/㎡/月
    service_level = Varchar(length=10, default="level_2")  # 一级/二级/三级
    sla = JSONB(null=True, default=None)
    scope_items = Array(base_column=Text(), default=list)
    status = Varchar(length=12, default="draft", index=True)
    terminated_on = Date(null=True, default=None)
    termination_reason = Text(null=True, default=None)
    notice_given_on = Date(null=True, default=None)
    expiry_notified_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ContractDocument(Table, tablename="contract_document"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    contract = ForeignKey(ServiceContract, on_delete=OnDelete.cascade, index=True, null=False)
    storage_key = Varchar(length=300)
    file_name = Varchar(length=200)
    content_type = Varchar(length=100, default="application/pdf")
    sha256 = Varchar(length=64)
    size = BigInt()
    uploaded_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class CoBuildingAgreement(Table, tablename="co_building_agreement"):
    """共建协议: a residents' committee and an organisation in its area (one known here, or named)
    agree to work together on items such as volunteering, venues or patrols."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    residents_committee = ForeignKey(Organization, on_delete=OnDelete.restrict, index=True,
                                     null=False)
    community = Integer(index=True)  # the committee's community, for scoping
    partner_organization = ForeignKey(Organization, on_delete=OnDelete.restrict, null=True,
                                      default=None)
    partner_name = Varchar(length=200, null=True, default=None)
    title = Varchar(length=200)
    items = Array(base_column=Text(), default=list)
    signed_on = Date(null=True, default=None)
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    status = Varchar(length=10, default="active")  # active | ended
    ended_on = Date(null=True, default=None)
    version = Integer(default=1)
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [ServiceContract, ContractDocument, CoBuildingAgreement]
