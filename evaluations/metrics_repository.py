"""The SQL behind evaluations.metrics: one statement per batch of (estate, company) pairs.

Reads the cases package's tables (case_record, case_event) read-only. The period's cases come
from the (tenant, created_at) index; events are looked up only for cases whose counters say
they were transferred or returned at least once (the case row keeps those counters in step
with its events), so a campaign of 2,000 estates reads each of the period's cases once per
batch and a small fraction of the events.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from core.db import fetch
from evaluations.metrics import ACCOUNTABLE_EXCLUDED, SATISFIED_FROM, Counts, empty

BATCH = 500  # (estate, company) pairs per statement

_SQL = """
WITH pair AS (
  SELECT DISTINCT estate, company FROM unnest($2::int[], $3::int[]) AS p(estate, company)
), c AS (
  SELECT c.id, c.estate, p.company, c.status, c.transfers, c.returns,
    c.reopens, c.rating, c.ack_due_at, c.resolve_due_at,
    c.paused AND (c.pauses->-1->>'begin')::timestamptz < c.resolve_due_at AS paused_in_time,
    c.responsible_org = p.company AS current_,
    CASE WHEN c.acknowledged_at < $6 THEN c.acknowledged_at END AS acked_at,
    CASE WHEN c.resolved_at < $6 THEN c.resolved_at END AS resolved_at
  FROM case_record c JOIN pair p ON p.estate = c.estate
  WHERE c.tenant = $1 AND c.created_at >= $4 AND c.created_at < $5 AND c.created_at < $6
), ev AS (
  SELECT c.id, c.company,
    count(*) FILTER (WHERE e.action = 'transfer'
                     AND e.data->>'from_organization_id' = c.company::text) AS transfers_out,
    count(*) FILTER (WHERE e.action = 'transfer' AND e.actor_org = c.company
                     AND e.data->>'from_organization_id' = c.company::text) AS transfers_by,
    count(*) FILTER (WHERE e.action = 'return' AND e.actor_org = c.company) AS returns_by
  FROM c JOIN case_event e ON e."case" = c.id
  WHERE (c.transfers > 0 OR c.returns > 0) AND e.action IN ('transfer', 'return') AND e.at < $6
  GROUP BY c.id, c.company
), h AS (
  SELECT c.*, coalesce(ev.transfers_by, 0) AS transfers_by,
    coalesce(ev.returns_by, 0) AS returns_by,
    c.current_ AND c.status <> ALL($7::text[]) AS acc
  FROM c LEFT JOIN ev ON ev.id = c.id AND ev.company = c.company
  WHERE c.current_ OR ev.transfers_out > 0
), f AS (
  SELECT h.*,
    h.acc AND (h.acked_at IS NOT NULL OR h.ack_due_at < $6) AS ack_due,
    h.acc AND h.acked_at <= h.ack_due_at AS ack_on_time,
    h.acc AND h.resolved_at IS NOT NULL AS resolved,
    h.acc AND (h.resolved_at IS NOT NULL OR (h.resolve_due_at < $6
      AND h.paused_in_time IS NOT TRUE)) AS resolve_due,
    h.acc AND h.resolved_at <= h.resolve_due_at AS resolve_on_time
  FROM h
)
SELECT estate, company,
  count(*) AS cases,
  count(*) FILTER (WHERE acc) AS accountable,
  count(*) FILTER (WHERE ack_due) AS ack_due,
  count(*) FILTER (WHERE ack_on_time) AS ack_on_time,
  count(*) FILTER (WHERE resolve_due) AS resolve_due,
  count(*) FILTER (WHERE resolve_on_time) AS resolve_on_time,
  count(*) FILTER (WHERE resolved) AS resolved,
  count(*) FILTER (WHERE acc AND (resolved_at IS NOT NULL OR reopens > 0)) AS ever_resolved,
  count(*) FILTER (WHERE acc AND reopens > 0) AS reopened,
  count(*) FILTER (WHERE acc AND rating IS NOT NULL) AS rated,
  coalesce(sum(rating) FILTER (WHERE acc), 0)::int AS rating_sum,
  count(*) FILTER (WHERE acc AND rating >= $8) AS satisfied,
  coalesce(sum(transfers_by), 0)::int AS transfers,
  coalesce(sum(returns_by), 0)::int AS returns,
  count(*) FILTER (WHERE (ack_due AND ack_on_time IS NOT TRUE)
                   OR (resolve_due AND resolve_on_time IS NOT TRUE)) AS overdue
FROM f
GROUP BY estate, company
"""


def batches(pairs: Sequence[tuple[int, int]], size: int = BATCH) -> Iterable[Sequence[tuple[int, int]]]:
    for i in range(0, len(pairs), size):
        yield pairs[i:i + size]


async def counts(tenant_id: int, pairs: Sequence[tuple[int, int]], start: datetime,
                 end: datetime, as_of: datetime) -> dict[tuple[int, int], Counts]:
    """Counts for each (estate, company) pair of one batch (pairs with no case get zeros)."""
    rows = await fetch(_SQL, tenant_id, [e for e, _ in pairs], [c for _, c in pairs], start, end,
                       as_of, list(ACCOUNTABLE_EXCLUDED), SATISFIED_FROM)
    out = {pair: empty(*pair) for pair in pairs}
    for r in rows:
        key = (r.pop("estate"), r.pop("company"))
        out[key] = Counts(key[0], key[1], **{k: int(v) for k, v in r.items()})
    return out


async def all_counts(tenant_id: int, pairs: Sequence[tuple[int, int]], start: datetime,
                     end: datetime, as_of: datetime, *, batch: int = BATCH
                     ) -> dict[tuple[int, int], Counts]:
    out: dict[tuple[int, int], Counts] = {}
    for chunk in batches(list(dict.fromkeys(pairs)), batch):
        out.update(await counts(tenant_id, chunk, start, end, as_of))
    return out
