"""The case lifecycle as data: which action may run from which state, by whom, and what it does.

Pure (no database, no clock of its own). The service works out who the caller is *for this
case* (their actor roles), asks `check` whether the action is allowed, and stores what `apply`
returns; the table below is the whole state machine, so the API's "allowed actions" answer
and the permission checks can never drift apart.

Actors (relative to one case):
- reporter    the resident (or member) who reported it through the app;
- dispatcher  dispatcher, manager or admin of the responsible organisation;
- handler     the assigned person;
- coordinator any member of the residents' committee covering the estate (accepts, rejects,
              transfers and supervises: "首接负责" keeps the first receiver answerable);
- street      a member of the street office covering the estate.

Flags beside the status: `paused` (waiting for the resident or for parts; the resolution clock
stands still), `extension_pending` (a new date was asked for) and `escalated`. Terminal
statuses (closed, rejected, duplicate, withdrawn) accept nothing except `reopen` of a closed
case; `resolved_at` is set exactly while the case is resolved or closed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from datetime import datetime

STATUSES = ("submitted", "accepted", "assigned", "acknowledged", "in_progress", "resolved",
            "closed", "returned", "rejected", "duplicate", "withdrawn")
TERMINAL = frozenset({"closed", "rejected", "duplicate", "withdrawn"})
OPEN = frozenset(STATUSES) - TERMINAL - {"resolved"}
ACTORS = ("reporter", "dispatcher", "handler", "coordinator", "street")
WORKING = ("acknowledged", "in_progress")
BEFORE_RESOLUTION = ("submitted", "accepted", "assigned", "acknowledged", "in_progress", "returned")


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str | None  # None: the status stays (a flag changes)
    actors: frozenset[str]
    paused: bool | None = False  # required value of the paused flag; None: either
    needs: tuple[str, ...] = ()  # body fields the action requires
    takes: tuple[str, ...] = ()  # further body fields it accepts


def _rule(sources, target, actors, **kw) -> Rule:
    return Rule(tuple(sources), target, frozenset(actors.split()), **kw)


RULES: dict[str, Rule] = {
    "accept": _rule(("submitted", "returned"), "accepted", "dispatcher coordinator"),
    "reject": _rule(("submitted", "accepted", "returned"), "rejected", "dispatcher coordinator",
                    needs=("reason",)),
    "assign": _rule(("accepted", "assigned", "acknowledged", "in_progress"), "assigned",
                    "dispatcher", takes=("assignee_user_id", "reason")),
    "acknowledge": _rule(("assigned",), "acknowledged", "handler dispatcher"),
    "start": _rule(("acknowledged",), "in_progress", "handler dispatcher"),
    "return": _rule(("accepted", "assigned", "acknowledged"), "returned", "handler dispatcher",
                    needs=("reason",)),
    "transfer": _rule(BEFORE_RESOLUTION, "accepted", "dispatcher coordinator",
                      needs=("target_organization_id", "reason"), paused=None),
    "pause": _rule(WORKING, None, "handler dispatcher", needs=("reason",)),
    "resume": _rule(WORKING, None, "handler dispatcher", paused=True),
    "request_extension": _rule(WORKING, None, "handler dispatcher",
                               needs=("new_due_at", "reason"), paused=None),
    "approve_extension": _rule(WORKING, None, "coordinator street", paused=None,
                               takes=("reason",)),
    "decline_extension": _rule(WORKING, None, "coordinator street", paused=None,
                               needs=("reason",)),
    "resolve": _rule(WORKING, "resolved", "handler dispatcher", needs=("comment",)),
    "rate": _rule(("resolved",), "closed", "reporter", needs=("rating",), takes=("comment",)),
    "reopen": _rule(("resolved", "closed"), "in_progress", "reporter coordinator street",
                    needs=("reason",)),
    "close": _rule(("resolved",), "closed", "coordinator street", takes=("reason",)),
    "mark_duplicate": _rule(("submitted", "accepted", "returned"), "duplicate",
                            "dispatcher coordinator", needs=("duplicate_of_case_id",),
                            takes=("reason",)),
    "withdraw": _rule(BEFORE_RESOLUTION, "withdrawn", "reporter", paused=None, takes=("reason",)),
    "escalate": _rule(BEFORE_RESOLUTION, None, "coordinator street", paused=None,
                      needs=("reason",)),
}
ACTIONS = tuple(RULES)
BODY_FIELDS = ("reason", "assignee_user_id", "target_organization_id", "new_due_at", "rating",
               "comment", "duplicate_of_case_id")
LOW_RATINGS = (1, 2)  # a rating this low reopens the case (重办)


@dataclass(frozen=True)
class CaseState:
    status: str = "submitted"
    paused: bool = False
    extension_pending: bool = False
    escalated: bool = False
    has_assignee: bool = False
    transfers: int = 0
    returns: int = 0
    reopens: int = 0
    pauses: int = 0
    resolved_at: datetime | None = None


class NotAllowed(Exception):
    """`why` is "state" (not from this status/flags: 409) or "actor" (not for this caller: 403)."""

    def __init__(self, action: str, why: str) -> None:
        super().__init__(f"{action}: {why}")
        self.action, self.why = action, why


def _state_allows(state: CaseState, action: str) -> bool:
    rule = RULES[action]
    if state.status not in rule.sources:
        return False
    if rule.paused is not None and state.paused != rule.paused:
        return False
    if action in ("approve_extension", "decline_extension"):
        return state.extension_pending
    if action == "request_extension":
        return not state.extension_pending
    if action == "escalate":
        return not state.escalated
    return True


def allowed_actions(state: CaseState, actors: frozenset[str] | set[str] | None = None) -> list[str]:
    """Actions the state allows (for these actors, when given), in table order."""
    return list(_allowed(state.status, state.paused, state.extension_pending, state.escalated,
                         None if actors is None else frozenset(actors)))


@lru_cache(maxsize=4096)
def _allowed(status: str, paused: bool, extension_pending: bool, escalated: bool,
             actors: frozenset[str] | None) -> tuple[str, ...]:
    """Only these four fields decide (see _state_allows), so a list page of cases costs a few
    dictionary look-ups instead of the table walked once per row."""
    state = CaseState(status=status, paused=paused, extension_pending=extension_pending,
                      escalated=escalated)
    return tuple(a for a in ACTIONS if _state_allows(state, a)
                 and (actors is None or RULES[a].actors & actors))


def check(state: CaseState, action: str, actors: frozenset[str] | set[str]) -> None:
    if action not in RULES:
        raise KeyError(action)
    if not _state_allows(state, action):
        raise NotAllowed(action, "state")
    if not RULES[action].actors & set(actors):
        raise NotAllowed(action, "actor")


def apply(state: CaseState, action: str, now: datetime, *, rating: int | None = None,
          assigned: bool | None = None) -> CaseState:
    """The state after `action` (already checked). `assigned` says whether the case has an
    assignee afterwards, for actions that set or clear one."""
    rule = RULES[action]
    s = replace(state, status=rule.target or state.status)
    if assigned is not None:
        s = replace(s, has_assignee=assigned)
    if action == "transfer":
        s = replace(s, transfers=s.transfers + 1, has_assignee=False, paused=False,
                    extension_pending=False)
    elif action == "return":
        s = replace(s, returns=s.returns + 1, has_assignee=False)
    elif action == "pause":
        s = replace(s, paused=True, pauses=s.pauses + 1)
    elif action == "resume":
        s = replace(s, paused=False)
    elif action == "request_extension":
        s = replace(s, extension_pending=True)
    elif action in ("approve_extension", "decline_extension"):
        s = replace(s, extension_pending=False)
    elif action == "escalate":
        s = replace(s, escalated=True)
    elif action == "withdraw":
        s = replace(s, paused=False, extension_pending=False)
    elif action == "resolve":
        s = replace(s, resolved_at=now, paused=False, extension_pending=False)
    elif action == "rate" and rating in LOW_RATINGS or action == "reopen":
        s = replace(s, status=reopened_status(s), reopens=s.reopens + 1, resolved_at=None)
    return s


def reopened_status(state: CaseState) -> str:
    """A reopened case goes back to its handler, or to the dispatcher's queue if it has none."""
    return "in_progress" if state.has_assignee else "accepted"
