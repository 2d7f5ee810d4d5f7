"""Contracts sit below cases and describe SLA clauses as plain data: what they produce must be
exactly what `SlaTargets` reads, and back."""
from __future__ import annotations

import msgspec
import pytest

from cases.sla import Allowance, SlaTargets
from contracts import service as contracts
from contracts.schemas import SlaClauses
from tests.contracts.helpers import SLA, create_active


def test_the_default_targets_fit_the_contract_clause_shape_and_back():
    defaults = SlaTargets.defaults().to_dict()
    clauses = msgspec.convert(defaults, SlaClauses)
    assert SlaTargets.from_dict(msgspec.to_builtins(clauses)) == SlaTargets.defaults()


def test_contract_clauses_without_a_return_window_get_the_default_one():
    clauses = msgspec.convert(SLA, SlaClauses)
    targets = SlaTargets.from_dict(msgspec.to_builtins(clauses))
    assert targets.return_window == Allowance(2.0, "working_days")
    assert targets.to_dict() == msgspec.to_builtins(clauses)


def test_the_clause_bounds_match():
    for amount in (0, 10_001):
        bad = {**SLA, "urgent": {**SLA["urgent"], "resolve": {"amount": amount,
                                                              "unit": "natural_hours"}}}
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(bad, SlaClauses)
        with pytest.raises(msgspec.ValidationError):
            SlaTargets.from_dict({**bad, "return_window": {"amount": 2, "unit": "working_days"}})


async def test_an_active_contracts_targets_round_trip_into_sla_targets(client, world):
    contract = await create_active(client, world)
    data = await contracts.active_sla_targets(world.tenant_a, contract["estate_id"])
    targets = SlaTargets.from_dict(data)
    assert targets.to_dict() == data
    assert targets.for_priority("emergency").acknowledge == Allowance(0.25, "natural_hours")
    assert targets.normal.resolve == Allowance(2.0, "working_days")
