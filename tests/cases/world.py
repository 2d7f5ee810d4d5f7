"""The cases package's hooks into the test world (tests/factories.py) and the route walker.

Staff intake may name the reporter as a resident of the estate (`reporter_person_id`): the
walker attacks it with the victim side's owner, whom no attacker may name."""
from __future__ import annotations

WALKER_IDS = {"reporter_person_id": "reporter_person"}


async def seed(tenant: int, tag: str, side) -> None:
    side.extra["reporter_person"] = side.person  # the owner of the side's unit
