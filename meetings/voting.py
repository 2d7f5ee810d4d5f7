"""Vote counting, pure: no database, no clock, exact fractions only (never floats).

Owners' assembly (业主大会), Civil Code art. 278 with the Supreme People's Court's
interpretation on building-division ownership, arts. 8–9:
- area: each unit's exclusive area from the register;
- headcount: one exclusive unit is one owner, a person owning several units counts once (with
  their total area), the developer's unsold units together count once (with their total area);
- co-owned units: the co-owners of a unit are ONE owner for that unit, casting one vote
  (whichever co-owner votes first casts it). Owners are grouped by the exact set of persons on
  the title: a couple owning two units together counts once; a person owning one unit alone
  and another jointly with someone else counts as two owners (two different buyers);
- a unit with nobody on the register (and not the developer's) still counts in the totals,
  as an owner who did not take part.
A resolution is valid only when the participants hold ≥ 2/3 of the area AND are ≥ 2/3 of the
owners; an ordinary matter then passes with MORE than 1/2 of the participating area AND
participating owners voting for it, a special matter with AT LEAST 3/4 of both. Abstentions
take part but do not approve. Every threshold is tenant configuration (`Thresholds`).

Owners' committee (业主委员会, 指导规则 2009): quorum is more than half of all members present;
a decision needs more than half of ALL members (not of those present) voting for it.
Joint meetings (联席会议): one vote per attending organisation; a resolution passes with more
than half of the attending organisations.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

CHOICES = ("for", "against", "abstain")
DEVELOPER = "developer"


@dataclass(frozen=True)
class RegisterUnit:
    unit_id: int
    area: Decimal
    owners: frozenset[int] = frozenset()  # person ids on the title
    developer_unsold: bool = False


@dataclass(frozen=True)
class Voter:
    """One owner by headcount: a key, who may cast their vote, their units and total area."""

    key: str
    persons: frozenset[int]
    units: tuple[int, ...]
    area: Decimal


def owner_key(persons: Iterable[int]) -> str:
    return "owners:" + ",".join(str(p) for p in sorted(persons))


def voters(units: Iterable[RegisterUnit]) -> dict[str, Voter]:
    """The owners of an estate by headcount, keyed by `Voter.key`."""
    groups: dict[str, tuple[set[int], list[int], Decimal]] = {}
    for u in units:
        if u.developer_unsold:
            key = DEVELOPER
        elif u.owners:
            key = owner_key(u.owners)
        else:
            key = f"unit:{u.unit_id}"
        persons, ids, area = groups.get(key, (set(), [], Decimal(0)))
        persons |= set(u.owners)
        ids.append(u.unit_id)
        groups[key] = (persons, ids, area + Decimal(u.area))
    return {k: Voter(k, frozenset(p), tuple(sorted(ids)), area)
            for k, (p, ids, area) in groups.items()}


def keys_of_person(all_voters: Mapping[str, Voter], person_id: int) -> list[str]:
    """The owners `person_id` votes as: alone, with co-owners, or for the developer."""
    return sorted(k for k, v in all_voters.items() if person_id in v.persons)


@dataclass(frozen=True)
class Threshold:
    value: Fraction
    strict: bool  # True: more than `value`; False: at least `value`

    def met(self, part: Fraction) -> bool:
        return part > self.value if self.strict else part >= self.value

    def text(self) -> str:
        return f"{'>' if self.strict else '≥'} {self.value.numerator}/{self.value.denominator}"


@dataclass(frozen=True)
class Thresholds:
    participation: Threshold = Threshold(Fraction(2, 3), False)
    ordinary: Threshold = Threshold(Fraction(1, 2), True)
    special: Threshold = Threshold(Fraction(3, 4), False)
    committee: Threshold = Threshold(Fraction(1, 2), True)  # of ALL committee members


def parse_fraction(text: str) -> Fraction:
    """"2/3" -> Fraction(2, 3); refuses anything outside (0, 1]."""
    value = Fraction(text.strip())
    if not 0 < value <= 1:
        raise ValueError("a threshold lies above 0 and at most 1")
    return value


@dataclass(frozen=True)
class Check:
    """One threshold test: `numerator / denominator` against `threshold`."""

    name: str  # participation_area | participation_headcount | approval_area | ...
    numerator: Decimal | int
    denominator: Decimal | int
    threshold: Threshold
    passed: bool

    @property
    def fraction(self) -> Fraction:
        if not self.denominator:
            return Fraction(0)
        return Fraction(Decimal(self.numerator)) / Fraction(Decimal(self.denominator))

    def as_dict(self) -> dict:
        f = self.fraction
        return {"name": self.name, "numerator": str(self.numerator),
                "denominator": str(self.denominator),
                "fraction": f"{f.numerator}/{f.denominator}",
                "threshold": self.threshold.text(), "passed": self.passed}


def _check(name: str, num, den, threshold: Threshold) -> Check:
    frac = Fraction(Decimal(num)) / Fraction(Decimal(den)) if den else Fraction(0)
    return Check(name, num, den, threshold, bool(den) and threshold.met(frac))


@dataclass
class Tally:
    kind: str  # assembly | committee | joint
    matter: str = "ordinary"
    counts: dict[str, int] = field(default_factory=dict)  # headcount per choice
    areas: dict[str, Decimal] = field(default_factory=dict)  # area per choice (assembly)
    total_heads: int = 0
    total_area: Decimal = Decimal(0)
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "matter": self.matter, "passed": self.passed,
                "counts": dict(self.counts),
                "areas": {k: str(v) for k, v in self.areas.items()},
                "total_headcount": self.total_heads, "total_area": str(self.total_area),
                "checks": [c.as_dict() for c in self.checks]}


def count_assembly(all_voters: Mapping[str, Voter], votes: Mapping[str, str], matter: str,
                   thresholds: Thresholds = Thresholds()) -> Tally:
    """The owners' assembly result: `votes` maps a voter key to its choice."""
    unknown = set(votes) - set(all_voters)
    if unknown:
        raise ValueError(f"votes from voters not on the register: {sorted(unknown)}")
    tally = Tally("assembly", matter, total_heads=len(all_voters),
                  total_area=sum((v.area for v in all_voters.values()), Decimal(0)))
    for choice in CHOICES:
        keys = [k for k, c in votes.items() if c == choice]
        tally.counts[choice] = len(keys)
        tally.areas[choice] = sum((all_voters[k].area for k in keys), Decimal(0))
    heads = sum(tally.counts.values())
    area = sum(tally.areas.values(), Decimal(0))
    approval = thresholds.special if matter == "special" else thresholds.ordinary
    tally.checks = [
        _check("participation_area", area, tally.total_area, thresholds.participation),
        _check("participation_headcount", heads, tally.total_heads, thresholds.participation),
        _check("approval_area", tally.areas["for"], area, approval),
        _check("approval_headcount", tally.counts["for"], heads, approval),
    ]
    return tally


def committee_quorum(members: int, present: int) -> bool:
    """More than half of all members present."""
    return members > 0 and 2 * present > members


def count_committee(members: int, votes: Mapping[str, str],
                    thresholds: Thresholds = Thresholds()) -> Tally:
    """An owners' committee decision: more than half of ALL `members` vote for it."""
    tally = Tally("committee", total_heads=members)
    for choice in CHOICES:
        tally.counts[choice] = sum(1 for c in votes.values() if c == choice)
    tally.checks = [_check("approval_of_all_members", tally.counts["for"], members,
                           thresholds.committee)]
    return tally


def count_joint(attending_organisations: int, votes: Mapping[str, str]) -> Tally:
    """A joint meeting: more than half of the attending organisations agree."""
    tally = Tally("joint", total_heads=attending_organisations)
    for choice in CHOICES:
        tally.counts[choice] = sum(1 for c in votes.values() if c == choice)
    tally.checks = [_check("approval_of_attending_organisations", tally.counts["for"],
                           attending_organisations, Threshold(Fraction(1, 2), True))]
    return tally
