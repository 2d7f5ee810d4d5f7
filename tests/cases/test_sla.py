"""SLA targets and deadlines: DESIGN.md §4 defaults, holidays, natural hours and pauses."""
from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.calendar import TZ, WorkingCalendar
from cases.sla import (
    Allowance,
    Pause,
    SlaTargets,
    deadline,
    deadline_with_pauses,
    is_overdue,
    remaining,
)

CN = WorkingCalendar()
T = SlaTargets.defaults()
HOUR = timedelta(hours=1)


def at(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


# --- targets --------------------------------------------------------------------------------
def test_defaults_are_the_design_policy():
    assert T.emergency.acknowledge == Allowance(0.5, "natural_hours")  # on site in 30 minutes
    assert T.emergency.resolve == Allowance(24, "natural_hours")
    assert T.urgent.acknowledge == Allowance(2, "natural_hours")
    assert T.urgent.resolve == Allowance(48, "natural_hours")
    assert T.normal.acknowledge == Allowance(1, "working_days")
    assert T.normal.resolve == Allowance(3, "working_days")
    assert T.return_window == Allowance(2, "working_days")
    assert T.for_priority("urgent") is T.urgent


def test_targets_round_trip_through_a_dict_and_json():
    assert SlaTargets.from_dict(T.to_dict()) == T
    assert msgspec.json.decode(msgspec.json.encode(T), type=SlaTargets) == T
    contract = T.to_dict()
    contract["normal"]["resolve"] = {"amount": 5, "unit": "working_days"}
    assert SlaTargets.from_dict(contract).normal.resolve == Allowance(5, "working_days")


@pytest.mark.parametrize("bad", [{"amount": 0, "unit": "working_days"},
                                 {"amount": -1, "unit": "natural_hours"},
                                 {"amount": 1, "unit": "fortnights"},
                                 {"amount": 1, "unit": "working_days", "extra": 1}])
def test_stored_targets_with_bad_allowances_are_refused(bad):
    data = T.to_dict()
    data["urgent"]["acknowledge"] = bad
    with pytest.raises(msgspec.ValidationError):
        SlaTargets.from_dict(data)


def test_an_unknown_priority_is_refused():
    with pytest.raises(ValueError):
        T.for_priority("whenever")


# --- deadlines ------------------------------------------------------------------------------
def test_a_normal_case_on_friday_afternoon_is_acknowledged_monday_and_resolved_wednesday():
    start = at(2026, 3, 6, 16, 30)
    assert deadline(start, T.normal.acknowledge, CN) == at(2026, 3, 9, 16, 30)
    assert deadline(start, T.normal.resolve, CN) == at(2026, 3, 11, 16, 30)


def test_a_normal_case_before_national_day_2025_is_resolved_after_the_eight_day_holiday():
    start = at(2025, 9, 29, 11)  # Monday; Sun 28 was a make-up day, Oct 1-8 off
    assert deadline(start, T.normal.resolve, CN) == at(2025, 10, 10, 11)
    assert deadline(start, T.return_window, CN) == at(2025, 10, 9, 11)


def test_a_normal_case_before_spring_festival_2026_uses_the_make_up_saturdays():
    start = at(2026, 2, 12, 10)  # Thursday
    assert deadline(start, T.normal.acknowledge, CN) == at(2026, 2, 13, 10)
    assert deadline(start, T.normal.resolve, CN) == at(2026, 2, 24, 10)  # Fri, Sat 14, Tue 24


def test_an_emergency_at_23_50_on_a_holiday_runs_on_natural_hours():
    start = at(2025, 10, 1, 23, 50)
    assert deadline(start, T.emergency.acknowledge, CN) == at(2025, 10, 2, 0, 20)
    assert deadline(start, T.emergency.resolve, CN) == at(2025, 10, 2, 23, 50)
    assert deadline(start, T.urgent.resolve, CN) == at(2025, 10, 3, 23, 50)


def test_a_normal_case_on_new_years_eve_is_due_on_the_sunday_make_up_day():
    assert deadline(at(2025, 12, 31, 16), T.normal.acknowledge, CN) == at(2026, 1, 4, 16)


def test_overdue_starts_after_the_deadline_not_at_it():
    due = at(2026, 3, 9, 16, 30)
    assert not is_overdue(due, due) and not is_overdue(due - HOUR, due)
    assert is_overdue(due + timedelta(seconds=1), due)


# --- pauses -----------------------------------------------------------------------------------
URGENT = T.urgent.resolve  # 48 natural hours
START = at(2026, 3, 9, 10)  # Monday


def test_a_natural_hours_pause_moves_the_deadline_by_its_length():
    pauses = [Pause(at(2026, 3, 9, 12), at(2026, 3, 9, 15))]
    assert deadline_with_pauses(START, URGENT, pauses, CN) == at(2026, 3, 11, 13)


def test_pauses_before_the_start_or_after_the_deadline_change_nothing():
    plain = deadline(START, URGENT, CN)
    pauses = [(at(2026, 3, 1), at(2026, 3, 9, 10)), (plain, plain + 5 * HOUR)]
    assert deadline_with_pauses(START, URGENT, pauses, CN) == plain


def test_overlapping_pauses_count_once():
    pauses = [(at(2026, 3, 9, 12), at(2026, 3, 9, 15)), (at(2026, 3, 9, 14), at(2026, 3, 9, 16))]
    assert deadline_with_pauses(START, URGENT, pauses, CN) == at(2026, 3, 11, 14)


def test_a_pause_over_a_weekend_costs_a_working_day_allowance_nothing():
    start = at(2026, 3, 6, 16, 30)  # Friday
    pauses = [Pause(at(2026, 3, 6, 18), at(2026, 3, 9, 8))]
    assert deadline_with_pauses(start, T.normal.acknowledge, pauses, CN) == at(2026, 3, 9, 16, 30)


def test_a_working_hours_pause_moves_a_working_day_deadline_by_working_time():
    start = at(2026, 3, 6, 16, 30)
    pauses = [Pause(at(2026, 3, 9, 10), at(2026, 3, 9, 13))]  # 3 business hours on Monday
    assert deadline_with_pauses(start, T.normal.acknowledge, pauses, CN) == at(2026, 3, 10, 11, 30)


def test_an_open_pause_counts_until_now_and_freezes_the_countdown():
    pauses = [Pause(at(2026, 3, 9, 12), None)]
    with pytest.raises(ValueError):
        deadline_with_pauses(START, URGENT, pauses, CN)
    left = []
    for now in (at(2026, 3, 9, 13), at(2026, 3, 10, 9)):
        due = deadline_with_pauses(START, URGENT, pauses, CN, now=now)
        assert due == now + 46 * HOUR
        left.append(remaining(now, due, pauses, CN, "natural_hours"))
    assert left == [46 * HOUR, 46 * HOUR]


def test_remaining_time_is_negative_once_overdue():
    due = deadline(START, URGENT, CN)
    assert remaining(START, due, [], CN, "natural_hours") == 48 * HOUR
    assert remaining(due + 2 * HOUR, due, [], CN, "natural_hours") == -2 * HOUR
    due = deadline(at(2026, 3, 6, 16, 30), T.normal.resolve, CN)
    assert remaining(at(2026, 3, 11, 9), due, [], CN, "working_days") == 7.5 * HOUR
    assert remaining(at(2026, 3, 12, 10), due, [], CN, "working_days") == -1.5 * HOUR


# --- properties ---------------------------------------------------------------------------------
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1),
                       timezones=st.just(TZ))
allowances = st.one_of(
    st.builds(Allowance, st.integers(1, 200).map(lambda k: k / 4), st.just("natural_hours")),
    st.builds(Allowance, st.integers(1, 20).map(lambda k: k / 4), st.just("working_days")))
pause_lists = st.lists(st.tuples(st.integers(-48, 400), st.integers(0, 120)), max_size=4)


def as_pauses(start, spec):
    return [Pause(start + k * HOUR, start + (k + n) * HOUR) for k, n in spec]


@settings(max_examples=300, deadline=None)
@given(start=moments, allowance=allowances, spec=pause_lists)
def test_pauses_never_bring_a_deadline_forward(start, allowance, spec):
    assert deadline_with_pauses(start, allowance, as_pauses(start, spec), CN) >= \
        deadline(start, allowance, CN)


def clock_time(allowance: Allowance) -> timedelta:
    if allowance.unit == "natural_hours":
        return timedelta(hours=allowance.amount)
    return CN.working_days_to_time(allowance.amount)


@settings(max_examples=300, deadline=None)
@given(start=moments, allowance=allowances, spec=pause_lists)
def test_the_clock_time_from_start_to_deadline_outside_pauses_is_the_allowance(start, allowance, spec):
    pauses = as_pauses(start, spec)
    due = deadline_with_pauses(start, allowance, pauses, CN)
    assert remaining(start, due, pauses, CN, allowance.unit) == clock_time(allowance)


@settings(max_examples=300, deadline=None)
@given(start=moments, allowance=allowances, spec=pause_lists, k=st.integers(0, 600))
def test_remaining_time_is_the_allowance_less_the_clock_time_already_used(start, allowance, spec, k):
    pauses = as_pauses(start, spec)
    due = deadline_with_pauses(start, allowance, pauses, CN)
    now = start + k * HOUR
    used = remaining(start, now, pauses, CN, allowance.unit)
    left = remaining(now, due, pauses, CN, allowance.unit)
    assert left == clock_time(allowance) - used
    if left < timedelta(0):
        assert is_overdue(now, due)
    if is_overdue(now, due):
        assert left <= timedelta(0)
