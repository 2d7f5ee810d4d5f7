"""Objective case metrics of one property company in one estate over one period. Pure.

The SQL in evaluations.metrics_repository counts; this module turns counts into rates and says
what each metric means. docs/evaluation_metrics.md says the same for readers of exports.

Inputs: a tenant, pairs (estate, property company) — the assessments' contracts —, a period
[start, end) and an observation moment `as_of` (the moment the campaign is computed; every
timestamp after it is ignored, so a case is judged by what had happened by then).

Which cases (the period's cases of that estate and company):
- H, the company's cases: cases of the estate created in [start, end) (and before `as_of`)
  for which the company is the responsible organisation now, or that the company transferred
  away (a `transfer` case event whose `from_organization_id` is the company). A case routed to
  another organisation and never to the company (a neighbour dispute handled by the residents'
  committee) is not the company's.
- A, the accountable cases: the cases of H the company is still responsible for, except those
  closed without service: `duplicate`, `withdrawn`, `rejected` (不予受理), and `returned` cases
  (退单, waiting for the residents' committee to re-route; the return is counted on its own).

Deadlines are the case's own (cases.sla): `ack_due_at` set at intake; `resolve_due_at` as it
stands, i.e. already moved later by every finished pause and approved extension, and restarted
by a reopen (重办: a fresh allowance from the reopen). Done exactly at a deadline is on time.
A case paused at `as_of` whose pause began before its resolution deadline is not yet due (its
clock stands still); paused after the deadline, it stays late.

Metrics (numerator / denominator; None when the denominator is 0 — "no data", never 0 % or
100 %):
- case_count          |H|.
- on_time_ack_rate    cases of A acknowledged (签收) by their acknowledgement deadline /
                      cases of A acknowledged by `as_of` or whose acknowledgement deadline has
                      passed (unacknowledged cases not yet due are left out).
- on_time_resolution_rate  cases of A resolved (status resolved or closed) by their resolution
                      deadline / cases of A that are resolved or whose resolution deadline has
                      passed (see pauses above).
- resolution_rate     cases of A resolved (resolved or closed) / |A| (open cases count against).
- average_rating      mean of the latest rating (1–5) of the rated cases of A.
- satisfaction_rate   rated cases of A with rating ≥ 4 / rated cases of A.
- reopen_rate         cases of A reopened at least once (by the reporter's rating of 1–2 or a
                      `reopen`) / cases of A resolved at least once.
- transfers           `transfer` events of cases of H by which the company's own staff passed
                      the case on to another organisation (推诿; a re-routing by the residents'
                      committee is not the company's doing and is not counted).
- returns             `return` (退单) events of cases of H by the company.
- transfer_rate, return_rate   transfers / |H|, returns / |H|.
- overdue_count       cases of A that missed a deadline: acknowledged late or not at all by a
                      passed acknowledgement deadline, or resolved late or not at all by a
                      passed resolution deadline.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from core.i18n import N_

ACCOUNTABLE_EXCLUDED = ("duplicate", "withdrawn", "rejected", "returned")
SATISFIED_FROM = 4  # a rating at least this counts as satisfied


@dataclass(frozen=True)
class Counts:
    """What the SQL counts for one (estate, company)."""

    estate_id: int
    company_id: int
    cases: int = 0  # |H|
    accountable: int = 0  # |A|
    ack_due: int = 0
    ack_on_time: int = 0
    resolve_due: int = 0
    resolve_on_time: int = 0
    resolved: int = 0
    ever_resolved: int = 0
    reopened: int = 0
    rated: int = 0
    rating_sum: int = 0
    satisfied: int = 0
    transfers: int = 0
    returns: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class Metric:
    key: str
    label: str  # English msgid
    kind: str  # "rate" (0..1), "rating" (1..5) or "count"
    higher_is_better: bool


METRICS: tuple[Metric, ...] = (
    Metric("case_count", N_("Case count"), "count", True),
    Metric("on_time_ack_rate", N_("On-time acknowledgement rate"), "rate", True),
    Metric("on_time_resolution_rate", N_("On-time resolution rate"), "rate", True),
    Metric("resolution_rate", N_("Resolution rate"), "rate", True),
    Metric("average_rating", N_("Average rating"), "rating", True),
    Metric("satisfaction_rate", N_("Satisfaction rate"), "rate", True),
    Metric("reopen_rate", N_("Reopen rate"), "rate", False),
    Metric("transfers", N_("Transfers"), "count", False),
    Metric("returns", N_("Returns"), "count", False),
    Metric("transfer_rate", N_("Transfer rate"), "rate", False),
    Metric("return_rate", N_("Return rate"), "rate", False),
    Metric("overdue_count", N_("Overdue cases"), "count", False),
)
BY_KEY = {m.key: m for m in METRICS}


def ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True)
class CaseMetrics:
    case_count: int
    on_time_ack_rate: float | None
    on_time_resolution_rate: float | None
    resolution_rate: float | None
    average_rating: float | None
    satisfaction_rate: float | None
    reopen_rate: float | None
    transfers: int
    returns: int
    transfer_rate: float | None
    return_rate: float | None
    overdue_count: int

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CaseMetrics:
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


def metrics_from(c: Counts) -> CaseMetrics:
    return CaseMetrics(
        case_count=c.cases,
        on_time_ack_rate=ratio(c.ack_on_time, c.ack_due),
        on_time_resolution_rate=ratio(c.resolve_on_time, c.resolve_due),
        resolution_rate=ratio(c.resolved, c.accountable),
        average_rating=ratio(c.rating_sum, c.rated),
        satisfaction_rate=ratio(c.satisfied, c.rated),
        reopen_rate=ratio(c.reopened, c.ever_resolved),
        transfers=c.transfers,
        returns=c.returns,
        transfer_rate=ratio(c.transfers, c.cases),
        return_rate=ratio(c.returns, c.cases),
        overdue_count=c.overdue,
    )


def empty(estate_id: int, company_id: int) -> Counts:
    """An (estate, company) with no cases in the period."""
    return Counts(estate_id, company_id)
