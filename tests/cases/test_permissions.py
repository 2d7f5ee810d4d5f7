"""Every action from every reachable state, by every persona the table does not name: 403, with
the actions that persona may take. Also: creates are safe to retry with an Idempotency-Key."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cases import lifecycle as lc
from tests.cases.helpers import act, headers, report, walk

HANDLER = "property_company:handler"
# Personas -> their actor roles on a repair case of a1 (the property company is responsible)
# once it is assigned to the company's handler.
PERSONAS = {
    "property_company:manager": {"dispatcher"}, "property_company:admin": {"dispatcher"},
    HANDLER: {"handler"}, "residents_committee:grid_worker": {"coordinator"},
    "street_office:staff": {"street"}, "resident": {"reporter"},
    "owners_committee:chair": set(), "bureau:admin": set(),
}
SETUP = {  # state name -> steps after reporting: walk steps, or (persona, action, body)
    "submitted": [], "accepted": ["accept"], "assigned": ["accept", "assign"],
    "acknowledged": ["accept", "assign", "acknowledge"],
    "in_progress": ["accept", "assign", "acknowledge", "start"],
    "paused": ["accept", "assign", "acknowledge", "start", (HANDLER, "pause", {"reason": "等"})],
    "extension": ["accept", "assign", "acknowledge", "start",
                  (HANDLER, "request_extension", {"reason": "等", "new_due_at": "2099-01-01T00:00:00Z"})],
    "resolved": ["accept", "assign", "acknowledge", "start", (HANDLER, "resolve", {"comment": "好"})],
    "closed": ["accept", "assign", "acknowledge", "start", (HANDLER, "resolve", {"comment": "好"}),
               ("resident", "rate", {"rating": 5})],
}


def body_for(action: str, world) -> dict:
    values = {"reason": "理由", "comment": "说明", "rating": 4,
              "new_due_at": (datetime.now(timezone.utc) + timedelta(days=3650)).isoformat(),
              "target_organization_id": world.a1.orgs["residents_committee"],
              "duplicate_of_case_id": world.a1.case}
    return {name: values[name] for name in lc.RULES[action].needs}


def state_of(out: dict) -> lc.CaseState:
    return lc.CaseState(status=out["status"], paused=out["paused"],
                        extension_pending=out["extension_requested_until"] is not None,
                        escalated=out["escalated"], has_assignee=out["assignee_user_id"] is not None)


async def test_actions_are_refused_to_every_persona_the_table_does_not_name(client, world):
    checked = 0
    for name, steps in SETUP.items():
        case = await report(client, world)
        out = case
        for step in steps:
            if isinstance(step, str):
                out = await walk(client, world, case["id"], step)
            else:
                persona, action, body = step
                out = await act(client, world, persona, case["id"], action, **body)
        state = state_of(out)
        for action in lc.allowed_actions(state):
            for persona, actors in PERSONAS.items():
                if persona == HANDLER and not state.has_assignee:
                    actors = set()  # a handler acts only on cases assigned to them
                if lc.RULES[action].actors & actors:
                    continue
                refused = await act(client, world, persona, case["id"], action, 403,
                                    **body_for(action, world))
                assert refused["allowed_actions"] == lc.allowed_actions(state, actors), (
                    name, action, persona)
                checked += 1
        assert out["status"] == (await client.get(
            f"/api/v1/cases/{case['id']}",
            headers=await headers(client, world, "resident"))).json()["status"]
    assert checked > 100


async def test_a_retried_create_with_the_same_idempotency_key_makes_one_case(client, world):
    h = {**await headers(client, world, "resident"), "Idempotency-Key": "case-retry-1"}
    body = {"estate_id": world.a1.estate, "category": "parking", "description": "占用消防通道"}
    first = await client.post("/api/v1/cases", json=body, headers=h)
    again = await client.post("/api/v1/cases", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
