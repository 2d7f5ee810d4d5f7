"""Scoring arithmetic against hand-computed fixtures: the weighted total, re-weighting when a
component is missing or the survey is insufficient, holding, grades, ranks and the roll-up."""
from __future__ import annotations

import pytest

from evaluations import scoring as s
from evaluations.scoring import Component

WEIGHTS = {"owners_survey": 30, "owners_committee": 20, "residents_committee": 20,
           "street_office": 15, "bureau_inspection": 0, "objective_metrics": 15}
BANDS = [{"grade": "excellent", "min_score": 90}, {"grade": "good", "min_score": 80},
         {"grade": "pass", "min_score": 70}, {"grade": "fail", "min_score": 0}]


def components(**overrides) -> dict[str, Component]:
    scores = {"owners_survey": 84.0, "owners_committee": 90.0, "residents_committee": 80.0,
              "street_office": 70.0, "bureau_inspection": None, "objective_metrics": 60.0}
    out = {}
    for kind, w in WEIGHTS.items():
        score = scores[kind]
        out[kind] = Component(kind, w, score, "ok" if score is not None else "missing")
    for kind, state in overrides.items():
        out[kind].state = state
        if state == "missing":
            out[kind].score = None
    return out


def test_weighted_total_of_all_components():
    t = s.total(components(), "reweight")
    # (84·30 + 90·20 + 80·20 + 70·15 + 60·15) / 100 = 7870 / 100
    assert (t.score, t.held) == (78.70, False)
    assert s.grade(t.score, BANDS) == "pass"
    assert t.components["owners_survey"].effective_weight == 30.0
    assert t.components["bureau_inspection"].effective_weight == 0.0  # weight 0, no submission


def test_an_insufficient_survey_is_reweighted_proportionally():
    t = s.total(components(owners_survey="insufficient"), "reweight")
    # (90·20 + 80·20 + 70·15 + 60·15) / 70 = 5350 / 70 = 76.428…
    assert t.score == 76.43 and not t.held
    eff = {k: c.effective_weight for k, c in t.components.items()}
    assert eff == {"owners_survey": 0.0, "owners_committee": 28.57, "residents_committee": 28.57,
                   "street_office": 21.43, "bureau_inspection": 0.0, "objective_metrics": 21.43}


def test_an_insufficient_survey_with_the_hold_rule_holds_the_assessment():
    t = s.total(components(owners_survey="insufficient"), "hold")
    assert (t.score, t.held, t.reason) == (None, True, "survey_insufficient")
    assert s.grade(t.score, BANDS) is None


def test_a_missing_submission_is_always_reweighted():
    t = s.total(components(street_office="missing"), "hold")
    # (84·30 + 90·20 + 80·20 + 60·15) / 85 = 6820 / 85 = 80.235…
    assert t.score == 80.24 and s.grade(t.score, BANDS) == "good"


def test_nothing_to_score_is_held():
    comps = {k: Component(k, w, None, "missing") for k, w in WEIGHTS.items()}
    t = s.total(comps, "reweight")
    assert (t.score, t.held, t.reason) == (None, True, "no_components")


def test_objective_metrics_map_through_linear_bands():
    metrics = {"case_count": 40, "on_time_ack_rate": 0.9, "on_time_resolution_rate": 0.75,
               "resolution_rate": 1.0, "satisfaction_rate": 0.6, "reopen_rate": 0.05,
               "transfer_rate": 0.0, "return_rate": 0.2, "average_rating": 4.1}
    score, parts = s.objective_score(metrics)
    assert parts == {"on_time_ack_rate": 80.0, "on_time_resolution_rate": 50.0,
                     "resolution_rate": 100.0, "satisfaction_rate": 20.0, "reopen_rate": 75.0,
                     "transfer_rate": 100.0, "return_rate": 0.0}
    # (80·20 + 50·25 + 100·15 + 20·15 + 75·10 + 100·7.5 + 0·7.5) / 100
    assert score == 61.5
    # no ratings: satisfaction has no data and its weight goes to the others: 5850 / 85
    assert s.objective_score({**metrics, "satisfaction_rate": None})[0] == 68.82
    assert s.objective_score({"case_count": 0}) == (None, {})


def test_survey_and_kind_scores():
    assert s.survey_score(4.2) == 80.0 and s.survey_score(1) == 0.0 and s.survey_score(None) is None
    assert s.kind_score([90, None, 81]) == 85.5 and s.kind_score([]) is None


@pytest.mark.parametrize("score,expected", [(90, "excellent"), (89.99, "good"), (80, "good"),
                                            (79.99, "pass"), (70, "pass"), (69.99, "fail"),
                                            (0, "fail")])
def test_grade_bands_include_their_lower_bound(score, expected):
    assert s.grade(score, BANDS) == expected


def test_rounding_happens_before_grading():
    assert s.round2(69.995) == 70.0 and s.grade(s.round2(69.995), BANDS) == "pass"
    assert s.round2(2.675) == 2.68  # half up, not binary float rounding


def test_ties_share_a_rank_and_the_next_rank_skips():
    assert s.ranks({"a": 90.0, "b": 85.0, "c": 90.0, "d": None, "e": 70.0}) == {
        "a": 1, "c": 1, "b": 3, "e": 4, "d": None}


def test_company_rollup_is_weighted_by_units_and_skips_held_assessments():
    r = s.rollup(7, [(80.0, 100), (90.0, 300), (None, 50)])
    # (80·100 + 90·300) / 400
    assert (r.score, r.estates, r.held, r.units) == (87.5, 2, 1, 400)
    assert s.rollup(7, [(60.0, 0), (90.0, 2)]).score == 80.0  # no ledger: weight 1
    assert s.rollup(7, [(None, 10)]).score is None
