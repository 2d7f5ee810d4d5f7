"""Reading many cases: the filtered, sorted, keyset-paged list and the per-status counts for
dashboards. Both read through the caller's scope (cases.case_service.scope_for), so they show
exactly the cases the caller could open one by one."""
from __future__ import annotations

from datetime import date
from collections.abc import AsyncGenerator
from typing import Annotated

from litestar import Request
from litestar.openapi.spec import Example
from litestar.params import Parameter

from cases import search
from cases.case_service import MAX_PAGE, case_out, scope_for
from cases.case_util import now
from cases.schemas import CaseCounts, CasePage, Category, PriorityName, StatusName
from core.db import request_transaction
from core.i18n import gettext as _
from core.problems import Invalid
from tenancy.principal import Principal

ALL_STATUSES = ("submitted", "accepted", "assigned", "acknowledged", "in_progress", "resolved",
                "closed", "returned", "rejected", "duplicate", "withdrawn")
MAX_QUERY = 100


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": field, "message": message}])


def filters(p: Principal, *, status: str | None = None, estate_id: int | None = None,
            category: str | None = None, priority: str | None = None,
            assigned_to_me: bool = False, overdue: bool = False,
            created_from: date | None = None, created_to: date | None = None,
            q: str | None = None, open_only: bool = False) -> search.Filters:
    """The list filters from query parameters, checked."""
    if created_from and created_to and created_from > created_to:
        raise _invalid("created_to", _("The end date must not lie before the start date."))
    q = (q or "").strip() or None
    if q is not None and len(q) > MAX_QUERY:
        raise _invalid("q", _("The search text may have at most {limit} characters.").format(
            limit=MAX_QUERY))
    return search.Filters(status=status, estate=estate_id, category=category, priority=priority,
                          assignee=p.user_id if assigned_to_me else None,
                          overdue_at=now() if overdue else None, created_from=created_from,
                          created_to=created_to, q=q, open_only=open_only)


async def case_filters(request: Request, status: StatusName | None = None,
                       estate_id: Annotated[int | None, Parameter(ge=1)] = None,
                       category: Category | None = None, priority: PriorityName | None = None,
                       assigned_to_me: bool = False, overdue: bool = False,
                       created_from: CreatedFrom = None, created_to: CreatedTo = None,
                       q: SearchText = None, open: OpenOnly = False) -> search.Filters:
    """Litestar dependency `f`: the list filters every list-shaped route shares (list, counts,
    exports), declared once. Read-only routes take it as is and run without a transaction (one
    statement needs none; BEGIN and COMMIT would be two more round trips per list). Routes that
    also take `tx` provide it with `transaction_after_filters`."""
    return filters(request.user, status=status, estate_id=estate_id, category=category,
                   priority=priority, assigned_to_me=assigned_to_me, overdue=overdue,
                   created_from=created_from, created_to=created_to, q=q, open_only=open)


async def transaction_after_filters(f: search.Filters) -> AsyncGenerator[object, None]:
    """`tx` for routes that also take the filters `f`: the transaction starts only once the
    filters are valid. (Resolved the other way round, a refused filter would leave the started
    transaction and its connection open: Litestar does not close a dependency it has started
    when a later one fails. It must also be the only dependency of its batch: it lives in a
    context variable, which a dependency resolved beside it in another task would not pass on.)"""
    async with request_transaction() as tx:
        yield tx


async def list_cases(p: Principal, f: search.Filters, *, sort: str = search.DEFAULT_SORT,
                     cursor: str | None = None, limit: int = 50) -> CasePage:
    limit = max(1, min(limit, MAX_PAGE))
    after = None
    if cursor:
        try:
            after = search.decode_cursor(sort, cursor)
        except search.BadCursor:
            raise _invalid("cursor", _("This cursor is not valid for this list; start again "
                                       "without a cursor.")) from None
    rows = await search.page(scope_for(p), f, sort=sort, after=after, limit=limit)
    at = now()
    items = [case_out(p, r, unmasked=p.user_id == r["reporter_user"], at=at) for r in rows]
    more = len(rows) == limit
    return CasePage(items=items, next_cursor=search.encode_cursor(sort, rows[-1]) if more else None)


async def count_cases(p: Principal, f: search.Filters) -> CaseCounts:
    by_status, overdue = await search.counts(scope_for(p), f, at=now())
    return CaseCounts(total=sum(by_status.values()), overdue=overdue,
                      by_status={s: by_status.get(s, 0) for s in ALL_STATUSES})


# Query parameters shared by the list, the counts and the exports.
CreatedFrom = Annotated[date | None, Parameter(
    description="Created on or after this day (Asia/Shanghai)")]
CreatedTo = Annotated[date | None, Parameter(
    description="Created on or before this day (Asia/Shanghai)")]
SearchText = Annotated[str | None, Parameter(
    max_length=MAX_QUERY, description="Text in the description or location (substring, "
                                      "any language)", examples=[Example(value="电梯")])]
OpenOnly = Annotated[bool, Parameter(description="Only cases not yet resolved (submitted, "
                                                 "accepted, assigned, acknowledged, in progress, "
                                                 "returned)")]
