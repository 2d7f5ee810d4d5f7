"""Properties of the owners' assembly count on generated registers (hypothesis): totals are
the register's, each owner counts once however many units they hold, and turning a vote
against into a vote for never makes a passing resolution fail."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from meetings.voting import DEVELOPER, RegisterUnit, count_assembly, voters

areas = st.decimals(min_value=Decimal("20.00"), max_value=Decimal("300.00"), places=2)


@st.composite
def registers(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    persons = draw(st.integers(min_value=1, max_value=12))
    units = []
    for uid in range(1, n + 1):
        unsold = draw(st.booleans()) and draw(st.booleans())
        owners = frozenset() if unsold else frozenset(
            draw(st.lists(st.integers(1, persons), min_size=0, max_size=2)))
        units.append(RegisterUnit(uid, draw(areas), owners, unsold))
    return units


@settings(max_examples=150, deadline=None)
@given(registers(), st.data())
def test_totals_headcount_and_monotonic_approval(units, data):
    reg = voters(units)
    assert sum((v.area for v in reg.values()), Decimal(0)) == sum((u.area for u in units), Decimal(0))
    assert sorted(uid for v in reg.values() for uid in v.units) == [u.unit_id for u in units]
    if any(u.developer_unsold for u in units):
        assert DEVELOPER in reg
    owner_sets = {u.owners for u in units if u.owners and not u.developer_unsold}
    assert len(reg) == len(owner_sets) + any(u.developer_unsold for u in units) + sum(
        1 for u in units if not u.owners and not u.developer_unsold)

    keys = sorted(reg)
    votes = {k: data.draw(st.sampled_from(["for", "against", "abstain"])) for k in keys
             if data.draw(st.booleans())}
    for matter in ("ordinary", "special"):
        tally = count_assembly(reg, votes, matter)
        part = {c.name: c for c in tally.checks}["participation_area"]
        assert part.fraction == Fraction(Decimal(part.numerator)) / Fraction(Decimal(part.denominator))
        if tally.passed:
            against = [k for k, c in votes.items() if c == "against"]
            if against:
                better = {**votes, against[0]: "for"}
                assert count_assembly(reg, better, matter).passed
