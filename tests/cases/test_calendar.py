"""The working calendar: shipped statutory data, tenant overrides, working-day arithmetic."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import calendar as cal
from cases.calendar import TZ, WorkingCalendar, add_natural_hours


def at(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


CN = WorkingCalendar()


# --- the shipped data -------------------------------------------------------------------------
def test_shipped_data_covers_2025_and_2026_with_make_up_workdays_on_weekends():
    days, years = cal.national_days()
    assert years == {2025, 2026}
    workdays = [d for d, (kind, _) in days.items() if kind == "workday"]
    assert len(workdays) == 11 and all(d.weekday() >= 5 for d in workdays)
    assert sum(kind == "holiday" for kind, _ in days.values()) == 61


@pytest.mark.parametrize("day,workday", [
    (date(2025, 1, 1), False), (date(2025, 1, 26), True), (date(2025, 2, 4), False),
    (date(2025, 2, 8), True), (date(2025, 4, 27), True), (date(2025, 5, 5), False),
    (date(2025, 6, 2), False), (date(2025, 9, 28), True), (date(2025, 10, 8), False),
    (date(2025, 10, 11), True), (date(2026, 1, 2), False), (date(2026, 1, 4), True),
    (date(2026, 2, 14), True), (date(2026, 2, 16), False), (date(2026, 2, 23), False),
    (date(2026, 2, 28), True), (date(2026, 4, 6), False), (date(2026, 5, 9), True),
    (date(2026, 6, 19), False), (date(2026, 9, 20), True), (date(2026, 9, 25), False),
    (date(2026, 10, 7), False), (date(2026, 10, 10), True),
    (date(2026, 3, 7), False), (date(2026, 3, 9), True),  # a plain Saturday and Monday
])
def test_statutory_holidays_are_off_and_make_up_days_are_worked(day, workday):
    assert CN.is_workday(day) is workday


# --- working days -----------------------------------------------------------------------------
def test_one_working_day_inside_business_hours_is_the_same_clock_time_next_working_day():
    assert CN.add_working_days(at(2026, 3, 10, 15, 20), 1) == at(2026, 3, 11, 15, 20)


def test_a_friday_afternoon_case_is_due_on_monday_at_the_same_time():
    assert CN.add_working_days(at(2026, 3, 6, 16, 30), 1) == at(2026, 3, 9, 16, 30)
    assert CN.add_working_days(at(2026, 3, 6, 16, 30), 3) == at(2026, 3, 11, 16, 30)


def test_national_day_and_mid_autumn_2025_are_skipped_and_the_sunday_make_up_day_counts():
    assert CN.add_working_days(at(2025, 9, 26, 15), 1) == at(2025, 9, 28, 15)  # Sun, worked
    assert CN.add_working_days(at(2025, 9, 30, 10), 1) == at(2025, 10, 9, 10)
    assert CN.add_working_days(at(2025, 9, 30, 10), 3) == at(2025, 10, 11, 10)  # Sat, worked


def test_spring_festival_2026_counts_both_make_up_saturdays():
    assert CN.add_working_days(at(2026, 2, 13, 14), 1) == at(2026, 2, 14, 14)
    assert CN.add_working_days(at(2026, 2, 13, 14), 2) == at(2026, 2, 24, 14)
    assert CN.add_working_days(at(2026, 2, 27, 9, 30), 1) == at(2026, 2, 28, 9, 30)


def test_the_clock_starts_at_the_next_opening_when_a_case_arrives_after_hours():
    assert CN.add_working_days(at(2026, 3, 6, 20), 1) == at(2026, 3, 9, 17)  # Friday evening
    assert CN.add_working_days(at(2026, 3, 9, 7), 1) == at(2026, 3, 9, 17)  # Monday early
    assert CN.add_working_days(at(2026, 3, 7, 11), 1) == at(2026, 3, 9, 17)  # Saturday
    assert CN.add_working_days(at(2025, 10, 3, 23, 50), 1) == at(2025, 10, 9, 17)  # holiday


def test_the_year_end_crosses_into_the_new_year_holiday_and_its_sunday_make_up_day():
    assert CN.add_working_days(at(2025, 12, 31, 10), 1) == at(2026, 1, 4, 10)
    assert CN.add_working_days(at(2025, 12, 31, 10), 2) == at(2026, 1, 5, 10)


def test_fractions_of_a_working_day_are_fractions_of_the_business_window():
    assert CN.add_working_days(at(2026, 3, 9, 9), 0.5) == at(2026, 3, 9, 13)
    assert CN.add_working_days(at(2026, 3, 9, 15), 0.5) == at(2026, 3, 10, 11)
    assert CN.working_days_between(at(2026, 3, 9, 15), at(2026, 3, 10, 11)) == 0.5


def test_business_hours_are_configurable():
    c = WorkingCalendar(opens=time(8, 30), closes=time(17, 30))
    assert c.day_length == timedelta(hours=9)
    assert c.add_working_days(at(2026, 3, 6, 20), 1) == at(2026, 3, 9, 17, 30)
    with pytest.raises(ValueError):
        WorkingCalendar(opens=time(18), closes=time(9))


def test_a_year_without_data_falls_back_to_weekends_and_warns_once(caplog):
    cal._warned_years.discard(2027)
    with caplog.at_level(logging.WARNING, logger="gongzhi.cases.calendar"):
        assert CN.add_working_days(at(2026, 12, 31, 10), 1) == at(2027, 1, 1, 10)
        assert not CN.is_workday(date(2027, 1, 2)) and CN.is_workday(date(2027, 1, 4))
    assert [r.getMessage() for r in caplog.records].count(
        "no holiday data for 2027: counting only weekends as days off; add the year to "
        "cn_holidays.json") == 1


# --- tenant overrides -------------------------------------------------------------------------
def test_a_tenant_holiday_on_a_monday_moves_a_friday_deadline_to_tuesday():
    c = WorkingCalendar({date(2026, 3, 9): "holiday"}, names={date(2026, 3, 9): "防汛"})
    assert c.add_working_days(at(2026, 3, 6, 16, 30), 1) == at(2026, 3, 10, 16, 30)


def test_a_tenant_row_wins_over_the_national_data_and_is_listed_as_the_tenants():
    c = WorkingCalendar({date(2026, 10, 1): "workday", date(2026, 3, 9): "holiday"},
                        names={date(2026, 10, 1): "值班"})
    assert c.is_workday(date(2026, 10, 1)) and not c.is_workday(date(2026, 3, 9))
    entries = {e.date: e for e in c.entries(2026)}
    assert entries[date(2026, 10, 1)] == cal.DayEntry(date(2026, 10, 1), "workday", "值班", "tenant")
    assert entries[date(2026, 10, 2)].source == "national"
    assert entries[date(2026, 3, 9)].kind == "holiday"
    national_2026 = [d for d in cal.national_days()[0] if d.year == 2026]
    assert list(entries) == sorted(entries) and len(entries) == len(national_2026) + 1
    assert all(e.date.year == 2026 for e in c.entries(2026)) and c.entries(2031) == []


def test_unknown_kinds_and_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        WorkingCalendar({date(2026, 3, 9): "party"})
    with pytest.raises(ValueError):
        CN.add_working_days(datetime(2026, 3, 9, 10), 1)
    with pytest.raises(ValueError):
        CN.add_working_days(at(2026, 3, 9, 10), -1)


def test_results_are_in_shanghai_time_whatever_zone_the_input_uses():
    start = datetime(2026, 3, 6, 8, 30, tzinfo=timezone.utc)  # 16:30 in Shanghai
    due = CN.add_working_days(start, 1)
    assert due == at(2026, 3, 9, 16, 30) and due.tzinfo == TZ


# --- natural hours ------------------------------------------------------------------------------
def test_natural_hours_ignore_holidays_and_nights():
    assert add_natural_hours(at(2025, 10, 1, 23, 50), 0.5) == at(2025, 10, 2, 0, 20)
    assert add_natural_hours(at(2026, 2, 16, 23, 50), 24) == at(2026, 2, 17, 23, 50)


# --- properties ---------------------------------------------------------------------------------
moments = st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2027, 1, 31),
                       timezones=st.just(TZ))
quarter_days = st.integers(min_value=1, max_value=40).map(lambda k: k / 4)
override_sets = st.dictionaries(st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
                                st.sampled_from(cal.KINDS), max_size=8)


@settings(max_examples=300, deadline=None)
@given(start=moments, n=quarter_days, overrides=override_sets)
def test_a_working_day_deadline_always_falls_in_business_hours_of_a_working_day(start, n, overrides):
    c = WorkingCalendar(overrides)
    due = c.add_working_days(start, n)
    assert c.is_workday(due.date())
    assert time(9) < due.time() <= time(17)


@settings(max_examples=300, deadline=None)
@given(start=moments, n=quarter_days, m=quarter_days, overrides=override_sets)
def test_adding_n_then_m_working_days_equals_adding_n_plus_m(start, n, m, overrides):
    c = WorkingCalendar(overrides)
    assert c.add_working_days(c.add_working_days(start, n), m) == c.add_working_days(start, n + m)


@settings(max_examples=200, deadline=None)
@given(start=moments, n=quarter_days)
def test_the_working_time_between_start_and_deadline_is_the_allowance(start, n):
    assert CN.working_days_between(start, CN.add_working_days(start, n)) == n


@settings(max_examples=200, deadline=None)
@given(start=moments, n=quarter_days)
def test_a_working_day_deadline_is_never_earlier_than_the_same_natural_time(start, n):
    assert CN.add_working_days(start, n) >= start + timedelta(hours=8 * n)
