"""Vote counting on hand-made estates (pure meetings.voting): the owners' assembly's double
thresholds by area and headcount at their exact edges, owners of several units, co-owned units,
the developer's unsold units; the owners' committee's majority of all members and quorum."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from meetings.voting import (
    DEVELOPER,
    RegisterUnit,
    Threshold,
    Thresholds,
    committee_quorum,
    count_assembly,
    count_committee,
    count_joint,
    keys_of_person,
    owner_key,
    parse_fraction,
    voters,
)


def estate(*units: tuple[int, str, tuple[int, ...], bool]) -> dict:
    return voters(RegisterUnit(uid, Decimal(area), frozenset(owners), unsold)
                  for uid, area, owners, unsold in units)


def six_owners() -> dict:
    """Six owners with one 100 m² unit each (persons 1..6)."""
    return estate(*((i, "100.00", (i,), False) for i in range(1, 7)))


def check(tally, name: str) -> dict:
    return next(c for c in tally.as_dict()["checks"] if c["name"] == name)


def vote_of(persons: dict[int, str]) -> dict[str, str]:
    return {owner_key([p]): choice for p, choice in persons.items()}


def test_exactly_two_thirds_of_area_and_headcount_is_enough_participation():
    t = count_assembly(six_owners(), vote_of({1: "for", 2: "for", 3: "for", 4: "against"}),
                       "ordinary")
    assert check(t, "participation_area")["fraction"] == "2/3"
    assert check(t, "participation_area")["passed"] is True
    assert check(t, "participation_headcount")["fraction"] == "2/3"
    assert check(t, "participation_headcount")["passed"] is True
    assert check(t, "approval_area")["fraction"] == "3/4"
    assert t.passed is True


def test_one_participant_short_of_two_thirds_voids_the_vote_even_if_all_approve():
    t = count_assembly(six_owners(), vote_of({1: "for", 2: "for", 3: "for"}), "ordinary")
    assert check(t, "participation_headcount")["fraction"] == "1/2"
    assert check(t, "participation_headcount")["passed"] is False
    assert check(t, "participation_area")["passed"] is False
    assert check(t, "approval_headcount")["passed"] is True  # all for, but too few took part
    assert t.passed is False


def test_ordinary_matter_needs_more_than_half_so_exactly_half_fails():
    half = count_assembly(six_owners(), vote_of({1: "for", 2: "for", 3: "against", 4: "abstain"}),
                          "ordinary")
    assert check(half, "approval_headcount")["fraction"] == "1/2"
    assert check(half, "approval_headcount")["passed"] is False
    assert check(half, "approval_area")["passed"] is False
    assert half.passed is False
    more = count_assembly(six_owners(), vote_of({1: "for", 2: "for", 3: "for", 4: "abstain"}),
                          "ordinary")
    assert more.passed is True


def test_special_matter_passes_at_exactly_three_quarters_and_fails_one_vote_short():
    eight = estate(*((i, "100.00", (i,), False) for i in range(1, 9)))
    exactly = count_assembly(eight, {owner_key([i]): "for" if i <= 6 else "against"
                                     for i in range(1, 9)}, "special")
    assert check(exactly, "approval_headcount")["fraction"] == "3/4"
    assert check(exactly, "approval_area")["fraction"] == "3/4"
    assert exactly.passed is True
    short = count_assembly(eight, {owner_key([i]): "for" if i <= 5 else "against"
                                   for i in range(1, 9)}, "special")
    assert check(short, "approval_headcount")["fraction"] == "5/8"
    assert short.passed is False
    # the same 5 of 8 would carry an ordinary matter
    assert count_assembly(eight, {owner_key([i]): "for" if i <= 5 else "against"
                                  for i in range(1, 9)}, "ordinary").passed is True


def test_three_quarters_of_area_is_exact_with_decimal_areas():
    # participating area 400.00: 300.00 for is exactly 3/4; 299.99 is one hundredth short
    ok = estate((1, "300.00", (1,), False), (2, "50.00", (2,), False), (3, "50.00", (3,), False),
                (4, "0.01", (4,), False))
    t = count_assembly(ok, {owner_key([1]): "for", owner_key([2]): "against",
                            owner_key([3]): "against"}, "special")
    assert check(t, "approval_area")["fraction"] == "3/4"
    assert check(t, "approval_area")["passed"] is True
    short = estate((1, "299.99", (1,), False), (2, "50.00", (2,), False),
                   (3, "50.01", (3,), False), (4, "0.01", (4,), False))
    t2 = count_assembly(short, {owner_key([1]): "for", owner_key([2]): "against",
                                owner_key([3]): "against"}, "special")
    assert check(t2, "approval_area")["numerator"] == "299.99"
    assert check(t2, "approval_area")["passed"] is False


def test_owner_of_several_units_counts_once_with_the_total_area():
    reg = estate((1, "100.00", (1,), False), (2, "100.00", (1,), False), (3, "100.00", (1,), False),
                 (4, "100.00", (2,), False), (5, "100.00", (3,), False), (6, "100.00", (4,), False),
                 (7, "100.00", (5,), False))
    assert len(reg) == 5
    assert reg[owner_key([1])].area == Decimal("300.00")
    assert reg[owner_key([1])].units == (1, 2, 3)
    votes = {owner_key([1]): "for", owner_key([2]): "for", owner_key([3]): "against",
             owner_key([4]): "against"}
    t = count_assembly(reg, votes, "ordinary")
    assert check(t, "participation_area")["fraction"] == "6/7"
    assert check(t, "participation_headcount")["fraction"] == "4/5"
    # by area 400/600 = 2/3 approve; by headcount exactly 2/4: the big owner alone cannot carry it
    assert check(t, "approval_area")["fraction"] == "2/3"
    assert check(t, "approval_area")["passed"] is True
    assert check(t, "approval_headcount")["fraction"] == "1/2"
    assert check(t, "approval_headcount")["passed"] is False
    assert t.passed is False


def test_co_owners_of_a_unit_are_one_owner_with_one_vote():
    reg = estate((1, "120.00", (1, 2), False), (2, "80.00", (3,), False), (3, "100.00", (1,), False))
    couple = owner_key([1, 2])
    assert set(reg) == {couple, owner_key([3]), owner_key([1])}
    assert reg[couple].persons == frozenset({1, 2})
    # either co-owner votes as the same owner; person 1 also owns unit 3 alone
    assert keys_of_person(reg, 2) == [couple]
    assert keys_of_person(reg, 1) == sorted([couple, owner_key([1])])
    t = count_assembly(reg, {couple: "for", owner_key([3]): "for"}, "ordinary")
    assert t.as_dict()["total_headcount"] == 3
    assert check(t, "participation_headcount")["fraction"] == "2/3"
    assert check(t, "participation_area")["fraction"] == "2/3"  # 200 of 300


def test_developer_unsold_units_count_as_one_owner_with_their_total_area():
    reg = estate((1, "90.00", (), True), (2, "90.00", (), True), (3, "120.00", (), True),
                 (4, "100.00", (7,), False), (5, "100.00", (8,), False), (6, "100.00", (), False))
    assert reg[DEVELOPER].area == Decimal("300.00")
    assert reg[DEVELOPER].units == (1, 2, 3)
    assert len(reg) == 4  # developer, two owners, and an unregistered unit
    t = count_assembly(reg, {DEVELOPER: "for", owner_key([7]): "for", owner_key([8]): "against"},
                       "ordinary")
    assert check(t, "participation_area")["fraction"] == "5/6"
    assert check(t, "participation_headcount")["fraction"] == "3/4"
    assert check(t, "approval_headcount")["fraction"] == "2/3"
    assert t.passed is True
    with pytest.raises(ValueError):
        count_assembly(reg, {"owners:99": "for"}, "ordinary")


def test_thresholds_are_configurable_exact_fractions():
    strict_majority = Thresholds(participation=Threshold(Fraction(1, 2), True))
    t = count_assembly(six_owners(), vote_of({1: "for", 2: "for", 3: "for", 4: "for"}),
                       "ordinary", strict_majority)
    assert check(t, "participation_headcount")["threshold"] == "> 1/2"
    assert t.passed is True
    assert parse_fraction(" 2 / 3 ".replace(" ", "")) == Fraction(2, 3)
    for bad in ("0/3", "4/3", "x"):
        with pytest.raises((ValueError, ZeroDivisionError)):
            parse_fraction(bad)


def test_committee_decision_needs_more_than_half_of_all_members_not_of_those_present():
    # 7 members, 4 present (quorum), 3 for 1 against: a majority of those present, not of all
    assert committee_quorum(7, 4) is True
    assert committee_quorum(7, 3) is False
    assert committee_quorum(6, 3) is False  # exactly half is not a quorum
    t = count_committee(7, {"user:1": "for", "user:2": "for", "user:3": "for",
                            "user:4": "against"})
    assert t.as_dict()["checks"][0]["fraction"] == "3/7"
    assert t.passed is False
    assert count_committee(7, {f"user:{i}": "for" for i in range(1, 5)}).passed is True
    assert count_committee(6, {f"user:{i}": "for" for i in range(1, 4)}).passed is False


def test_joint_meeting_needs_more_than_half_of_the_attending_organisations():
    assert count_joint(3, {"org:1": "for", "org:2": "for", "org:3": "against"}).passed is True
    assert count_joint(4, {"org:1": "for", "org:2": "for", "org:3": "against"}).passed is False
