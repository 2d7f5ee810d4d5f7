"""Who is calling: the user, their memberships, and the places those memberships cover.

Built once per request by the authentication middleware; every repository scopes its base
query with it, and every permission check reads it.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Seat:
    """One membership: the organisation a user acts for and their role there."""

    membership_id: int
    organization_id: int
    organization_name: str
    kind: str
    role: str
    streets: frozenset[int] = frozenset()
    communities: frozenset[int] = frozenset()
    estates: frozenset[int] = frozenset()

    @property
    def tenant_wide(self) -> bool:
        return self.kind == "housing_bureau"

    def covers(self, *, street: int | None = None, community: int | None = None,
               estate: int | None = None) -> bool:
        if self.tenant_wide:
            return True
        if estate is not None:
            return estate in self.estates
        if community is not None:
            return community in self.communities
        if street is not None:
            return street in self.streets
        return False


@dataclass
class Principal:
    user_id: int
    tenant_id: int
    tenant_name: str
    username: str
    display_name: str
    language: str
    person_id: int | None
    token_id: int
    token_kind: str
    seats: tuple[Seat, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def organization_ids(self) -> frozenset[int]:
        return frozenset(s.organization_id for s in self.seats)

    @property
    def tenant_wide(self) -> bool:
        """Housing-bureau members see the whole tenant."""
        return any(s.tenant_wide for s in self.seats)

    @property
    def is_tenant_admin(self) -> bool:
        return any(s.kind == "housing_bureau" and s.role == "admin" for s in self.seats)

    @property
    def estates(self) -> frozenset[int]:
        return frozenset().union(*(s.estates for s in self.seats)) if self.seats else frozenset()

    @property
    def communities(self) -> frozenset[int]:
        return frozenset().union(*(s.communities for s in self.seats)) if self.seats else frozenset()

    @property
    def streets(self) -> frozenset[int]:
        return frozenset().union(*(s.streets for s in self.seats)) if self.seats else frozenset()

    def sees(self, *, street: int | None = None, community: int | None = None,
             estate: int | None = None) -> bool:
        return any(s.covers(street=street, community=community, estate=estate) for s in self.seats)

    def seats_where(self, kinds: tuple[str, ...] | None = None,
                    roles: tuple[str, ...] | None = None) -> list[Seat]:
        return [s for s in self.seats
                if (kinds is None or s.kind in kinds) and (roles is None or s.role in roles)]

    def seat_in(self, organization_id: int) -> Seat | None:
        return next((s for s in self.seats if s.organization_id == organization_id), None)
