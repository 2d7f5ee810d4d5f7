"""The lifecycle table: pure checks, and random sequences of allowed actions keep its invariants."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import lifecycle as lc
from cases.lifecycle import ACTORS, RULES, STATUSES, TERMINAL, CaseState

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
EVERYONE = set(ACTORS)


def test_every_rule_names_known_statuses_actors_and_fields():
    for action, rule in RULES.items():
        assert set(rule.sources) <= set(STATUSES), action
        assert rule.target is None or rule.target in STATUSES, action
        assert rule.actors and rule.actors <= set(ACTORS), action
        assert set(rule.needs + rule.takes) <= set(lc.BODY_FIELDS), action
        assert not TERMINAL & set(rule.sources) or action == "reopen", action


def test_the_happy_path_and_who_may_walk_it():
    s = CaseState()
    path = [("accept", "dispatcher"), ("assign", "dispatcher"), ("acknowledge", "handler"),
            ("start", "handler"), ("resolve", "handler"), ("rate", "reporter")]
    for action, actor in path:
        lc.check(s, action, {actor})
        s = lc.apply(s, action, T0, rating=5, assigned=True if action == "assign" else None)
    assert s.status == "closed" and s.resolved_at == T0 and s.reopens == 0


@pytest.mark.parametrize("action,actor", [("accept", "reporter"), ("accept", "street"),
                                          ("assign", "coordinator"), ("withdraw", "dispatcher"),
                                          ("escalate", "handler")])
def test_actors_outside_the_table_are_refused(action, actor):
    state = CaseState(status="accepted" if action == "assign" else "submitted")
    with pytest.raises(lc.NotAllowed) as exc:
        lc.check(state, action, {actor})
    assert exc.value.why == "actor"


def test_state_refusals_and_allowed_actions():
    with pytest.raises(lc.NotAllowed) as exc:
        lc.check(CaseState(status="submitted"), "resolve", EVERYONE)
    assert exc.value.why == "state"
    assert lc.allowed_actions(CaseState(status="submitted"), {"reporter"}) == ["withdraw"]
    paused = CaseState(status="in_progress", paused=True, has_assignee=True)
    assert "resolve" not in lc.allowed_actions(paused) and "resume" in lc.allowed_actions(paused)
    for terminal in ("rejected", "duplicate", "withdrawn"):
        assert lc.allowed_actions(CaseState(status=terminal)) == []
    assert lc.allowed_actions(CaseState(status="closed", resolved_at=T0)) == ["reopen"]


def test_a_low_rating_reopens_to_the_handler_and_a_good_one_closes():
    resolved = CaseState(status="resolved", has_assignee=True, resolved_at=T0)
    low = lc.apply(resolved, "rate", T0, rating=2)
    assert (low.status, low.reopens, low.resolved_at) == ("in_progress", 1, None)
    assert lc.apply(resolved, "rate", T0, rating=3).status == "closed"
    unassigned = CaseState(status="resolved", resolved_at=T0)
    assert lc.apply(unassigned, "rate", T0, rating=1).status == "accepted"


def test_transfer_and_return_are_counted_and_clear_the_assignee():
    s = CaseState(status="assigned", has_assignee=True)
    s = lc.apply(s, "return", T0)
    assert (s.status, s.returns, s.has_assignee) == ("returned", 1, False)
    s = lc.apply(s, "transfer", T0)
    assert (s.status, s.transfers) == ("accepted", 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 5)), max_size=40))
def test_random_sequences_of_allowed_actions_keep_the_invariants(choices):
    state, events, at = CaseState(), [], T0
    for pick, rating in choices:
        allowed = lc.allowed_actions(state, EVERYONE)
        if state.status in TERMINAL - {"closed"}:
            assert allowed == []
        if not allowed:
            break
        action = allowed[pick % len(allowed)]
        lc.check(state, action, EVERYONE)
        at += timedelta(minutes=7)
        after = lc.apply(state, action, at, rating=rating,
                         assigned=True if action == "assign" else None)
        events.append((len(events) + 1, action, state.status, after.status))
        assert after.status in STATUSES
        for counter in ("transfers", "returns", "reopens", "pauses"):
            assert getattr(after, counter) >= getattr(state, counter)
        assert (after.resolved_at is not None) == (after.status in ("resolved", "closed"))
        if after.paused:
            assert after.status in lc.WORKING
        if state.status == "closed":
            assert action == "reopen" and after.reopens == state.reopens + 1
        state = after
    assert [seq for seq, *_ in events] == list(range(1, len(events) + 1))
    assert all(prev[3] == nxt[2] for prev, nxt in zip(events, events[1:]))
