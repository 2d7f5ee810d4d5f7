"""Scoring arithmetic: components → weighted total → grade → rank, and the company roll-up.
Pure (no database); evaluations.results_service feeds it and stores what it returns.

Components (the scheme version's `evaluator_weights`, summing to 100):
- owners_committee, residents_committee, street_office, bureau_inspection: the mean of the
  `score` (0–100, already weighted over the criteria tree) of the kind's submitted or locked
  submissions; drafts never count. No submission: the component is missing.
- owners_survey: the mean overall answer (1–5) on the 0–100 scale, (mean − 1) × 25 (1 star = 0,
  3 = 50, 5 = 100; evaluations.survey_service defines the response rate). Below the
  scheme's minimum response rate it is insufficient, and the scheme's `survey_rule` applies:
  'reweight' drops it like a missing component, 'hold' holds the whole assessment (no total,
  no grade) until the bureau decides.
- objective_metrics: `objective_score(metrics)` below; no case in the period: missing.

A missing (or reweighted) component's weight is redistributed over the present ones in
proportion to their weights: total = Σ score_k·w_k / Σ w_k over present components. Nothing
present: held. Totals are rounded half-up to 2 decimals before grading, so the grade always
matches the total shown.

Grades: the first band (highest `min_score` first) whose `min_score` ≤ total.
Rank: competition ranking ("1224"): equal totals share a rank, the next rank skips.
Company roll-up: the households-weighted mean of its assessments' totals (held ones left out),
the weight being the estate's households — its units without the developer's unsold ones, the
same count as the survey's response rate —, at least 1 so an estate with no unit ledger still
counts.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SUBMITTING_KINDS = ("owners_committee", "residents_committee", "street_office",
                    "bureau_inspection")
KINDS = ("owners_survey", *SUBMITTING_KINDS, "objective_metrics")
SURVEY, OBJECTIVE = "owners_survey", "objective_metrics"


@dataclass(frozen=True)
class MetricBand:
    """score = 100 · clamp((value − zero_at) / (full_at − zero_at), 0, 1); works both ways
    (full_at < zero_at for metrics where lower is better)."""

    key: str
    weight: float
    full_at: float
    zero_at: float

    def score(self, value: float) -> float:
        share = (value - self.zero_at) / (self.full_at - self.zero_at)
        return 100.0 * min(1.0, max(0.0, share))


# The objective-metrics component: weights sum to 100; a metric with no data (None) is left
# out and the others re-weighted in proportion.
METRIC_BANDS: tuple[MetricBand, ...] = (
    MetricBand("on_time_ack_rate", 20, full_at=1.0, zero_at=0.5),
    MetricBand("on_time_resolution_rate", 25, full_at=1.0, zero_at=0.5),
    MetricBand("resolution_rate", 15, full_at=1.0, zero_at=0.5),
    MetricBand("satisfaction_rate", 15, full_at=1.0, zero_at=0.5),
    MetricBand("reopen_rate", 10, full_at=0.0, zero_at=0.2),
    MetricBand("transfer_rate", 7.5, full_at=0.0, zero_at=0.1),
    MetricBand("return_rate", 7.5, full_at=0.0, zero_at=0.1),
)


def round2(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def weighted_mean(pairs: Iterable[tuple[float, float]]) -> float | None:
    """Σ v·w / Σ w over (value, weight) pairs with weight > 0; None when there are none."""
    pairs = [(v, w) for v, w in pairs if w > 0]
    total = sum(w for _, w in pairs)
    return None if total == 0 else sum(v * w for v, w in pairs) / total


def objective_score(metrics: Mapping[str, Any]) -> tuple[float | None, dict[str, float]]:
    """(component score, per-metric scores) from evaluations.metrics.CaseMetrics.to_dict()."""
    if not metrics.get("case_count"):
        return None, {}
    parts = {b.key: b.score(metrics[b.key]) for b in METRIC_BANDS if metrics.get(b.key) is not None}
    weights = {b.key: b.weight for b in METRIC_BANDS}
    score = weighted_mean((s, weights[k]) for k, s in parts.items())
    return (None if score is None else round2(score)), {k: round2(v) for k, v in parts.items()}


def survey_score(average_overall: float | None) -> float | None:
    return None if average_overall is None else round2((average_overall - 1) * 25)


def kind_score(submission_scores: Sequence[float | None]) -> float | None:
    scores = [float(s) for s in submission_scores if s is not None]
    return round2(sum(scores) / len(scores)) if scores else None


@dataclass
class Component:
    kind: str
    weight: float  # the scheme's nominal weight
    score: float | None
    state: str = "ok"  # ok | missing | insufficient
    effective_weight: float = 0.0  # after redistribution (sums to 100 over counted ones)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"weight": self.weight, "score": self.score, "state": self.state,
                "effective_weight": self.effective_weight, **self.detail}


@dataclass
class Total:
    score: float | None
    held: bool
    reason: str | None  # None | "survey_insufficient" | "no_components"
    components: dict[str, Component]


def total(components: Mapping[str, Component], survey_rule: str) -> Total:
    """The weighted total with missing components' weight redistributed (see the module doc)."""
    comps = dict(components)
    survey = comps.get(SURVEY)
    if survey is not None and survey.state == "insufficient" and survey.weight > 0 \
            and survey_rule == "hold":
        return Total(None, True, "survey_insufficient", comps)
    counted = {k: c for k, c in comps.items()
               if c.state == "ok" and c.score is not None and c.weight > 0}
    weight_sum = sum(c.weight for c in counted.values())
    for k, c in comps.items():
        c.effective_weight = round2(100 * c.weight / weight_sum) if k in counted else 0.0
    if not counted:
        return Total(None, True, "no_components", comps)
    value = weighted_mean((c.score, c.weight) for c in counted.values())
    return Total(round2(value), False, None, comps)


def grade(score: float | None, bands: Sequence[Mapping[str, Any]]) -> str | None:
    if score is None:
        return None
    for band in sorted(bands, key=lambda b: -float(b["min_score"])):
        if score >= float(band["min_score"]):
            return str(band["grade"])
    return None


def ranks(scores: Mapping[Any, float | None]) -> dict[Any, int | None]:
    """Competition ranking, highest first; None for those without a score."""
    ordered = sorted((s for s in scores.values() if s is not None), reverse=True)
    first = {}
    for i, s in enumerate(ordered, 1):
        first.setdefault(s, i)
    return {k: (None if s is None else first[s]) for k, s in scores.items()}


@dataclass(frozen=True)
class Rollup:
    company_id: int
    score: float | None
    estates: int  # assessments counted
    held: int  # assessments left out (held)
    units: int  # households weighing the counted ones


def rollup(company_id: int, assessments: Iterable[tuple[float | None, int]]) -> Rollup:
    """(total, units) per assessment of the company → its units-weighted score."""
    counted, held, units = [], 0, 0
    for score, n in assessments:
        if score is None:
            held += 1
            continue
        weight = max(1, int(n or 0))
        counted.append((score, weight))
        units += weight
    value = weighted_mean(counted)
    return Rollup(company_id, None if value is None else round2(value), len(counted), held, units)
