"""The organisations' case lists on the web.

/cases: the queue. Open cases by default, nearest deadline first (so the overdue ones lead),
with filters (status, category, priority, estate, overdue, assigned to me), per-status counts
of the filtered set, keyset paging ("more" carries the list's cursor) and live updates: the
page's script (static/cases-live.js) listens to the caller's event stream and reloads the list
when a case event arrives; without a stream it still refreshes every 30 s (htmx).

/cases/estates: the committees' and street offices' view of the estates they cover: per estate
how many cases are in each status and how many are overdue, each number linking to the queue
filtered to it. Read-only: what a committee may do to one case is on the case's page."""
from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Redirect, Template
from urllib.parse import urlencode

from cases import listing, search
from cases.case_service import ESTATE_READERS, scope_for
from cases.case_util import now
from cases.labels import CATEGORY_LABELS, PRIORITY_LABELS, STATUS_LABELS
from cases.listing import ALL_STATUSES
from cases.page_util import CATEGORIES, PRIORITIES, row, to_login, user_of
from cases.place_repository import estate_names
from core.i18n import gettext as _
from core.problems import Forbidden, Invalid
from tenancy.principal import Principal

PAGE_SIZE = 30
OPEN_STATUSES = ("submitted", "accepted", "assigned", "acknowledged", "in_progress", "returned")
FILTER_KEYS = ("status", "category", "priority", "estate_id", "overdue", "mine", "all")


def _query_filters(p: Principal, q: dict[str, str]) -> tuple[search.Filters, dict[str, Any]]:
    """The list filters from the page's query string (unknown values are ignored, as a form
    field left at "any" would be), and the values to show in the form."""
    status = q.get("status") if q.get("status") in ALL_STATUSES else None
    category = q.get("category") if q.get("category") in CATEGORY_LABELS else None
    priority = q.get("priority") if q.get("priority") in PRIORITY_LABELS else None
    estate = int(q["estate_id"]) if q.get("estate_id", "").isdigit() else None
    overdue, mine, everything = (q.get(k) in ("1", "true", "on") for k in ("overdue", "mine", "all"))
    f = listing.filters(p, status=status, estate_id=estate, category=category, priority=priority,
                        assigned_to_me=mine, overdue=overdue,
                        open_only=not (everything or status))
    shown = {"status": status or "", "category": category or "", "priority": priority or "",
             "estate_id": estate, "overdue": overdue, "mine": mine, "all": everything}
    return f, shown


def _link(shown: dict[str, Any], **changes: Any) -> str:
    params = {**shown, **changes}
    return "/cases?" + urlencode({k: ("1" if v is True else v) for k, v in params.items()
                                  if k in (*FILTER_KEYS, "cursor") and v not in (None, "", False)})


@get("/cases", include_in_schema=False)
async def queue(request: Request, tx: object) -> Template | Redirect:
    p = user_of(request)
    if p is None:
        return to_login(request)
    query = dict(request.query_params)
    f, shown = _query_filters(p, query)
    sort = "-created_at" if shown["all"] or shown["status"] in ("resolved", "closed") else "resolve_due_at"
    cursor = query.get("cursor") or None
    try:
        page = await listing.list_cases(p, f, sort=sort, cursor=cursor, limit=PAGE_SIZE)
    except Invalid:  # a stale or foreign cursor: start again from the top
        page = await listing.list_cases(p, f, sort=sort, limit=PAGE_SIZE)
        cursor = None
    counts = await listing.count_cases(p, search.Filters(
        estate=f.estate, category=f.category, priority=f.priority, assignee=f.assignee))
    estates = await estate_names(p.tenant_id, None if p.tenant_wide else sorted(
        p.estates | {c.estate_id for c in page.items}))
    at = now()
    return Template("cases/queue.html", context={
        "me": p, "rows": [row(c, estates, at) for c in page.items], "shown": shown,
        "counts": counts, "status_labels": STATUS_LABELS, "open_statuses": OPEN_STATUSES,
        "estates": list(estates.items()), "categories": [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        "priorities": [(c, PRIORITY_LABELS[c]) for c in PRIORITIES],
        "more": _link(shown, cursor=page.next_cursor) if page.next_cursor else None,
        "first": _link(shown) if cursor else None, "link": lambda **kw: _link(shown, **kw),
        "live": True, "can_record": bool(p.seats and (p.estates or p.tenant_wide))})


async def estate_summary(p: Principal) -> list[dict[str, Any]]:
    """Per covered estate: cases per status and overdue, for the committees' overview."""
    covered = set().union(*(s.estates for s in p.seats if s.kind in ESTATE_READERS)) \
        if not p.tenant_wide else None
    if covered is not None and not covered:
        return []
    stats = await search.estate_counts(scope_for(p), sorted(covered) if covered else None, at=now())
    names = await estate_names(p.tenant_id, sorted(covered) if covered else sorted(stats))
    out = []
    for estate_id, name in sorted(names.items(), key=lambda kv: kv[1]):
        by_status = stats.get(estate_id, {})
        overdue = by_status.pop("_overdue", 0)
        out.append({"id": estate_id, "name": name, "by_status": by_status, "overdue": overdue,
                    "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES),
                    "total": sum(by_status.values())})
    return out


@get("/cases/estates", include_in_schema=False)
async def estates_overview(request: Request, tx: object) -> Template | Redirect:
    p = user_of(request)
    if p is None:
        return to_login(request)
    if not (p.tenant_wide or any(s.kind in ESTATE_READERS for s in p.seats)):
        raise Forbidden(_("This overview is for the committees and street offices covering "
                          "estates, and for the housing bureau."))
    return Template("cases/estates.html", context={
        "me": p, "estates": await estate_summary(p), "status_labels": STATUS_LABELS,
        "statuses": ALL_STATUSES, "open_statuses": OPEN_STATUSES})


PAGES = [queue, estates_overview]
