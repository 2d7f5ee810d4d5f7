"""Cases: for now the per-tenant working calendar (tenant rows over the shipped national data).

The case lifecycle tables join this module later. `kind` is "holiday" or "workday" (checked
in the database too); one row per (tenant, date).
"""
from piccolo.columns import Date, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

# Other packages' tables are referenced by name through Piccolo's app registry, never imported.
Tenant = LazyTableReference(table_class_name="Tenant", app_name="tenancy")


class CalendarDay(Table, tablename="calendar_day"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, null=False)
    date = Date()
    kind = Varchar(length=10)  # cases.calendar.KINDS
    name = Varchar(length=100, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES = [CalendarDay]
