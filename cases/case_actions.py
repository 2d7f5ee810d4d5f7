"""Case transitions: one entry point, `act`, driven by the table in cases.lifecycle.

Order of checks: the case must be visible (404); a stale If-Match fails (412); the body must
carry exactly the fields the action uses, and ids in it must name something the action may
use (422, the same answer whether the id exists elsewhere or not at all); then the state and
the caller's role must allow the action (409 / 403, both naming the allowed actions).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from cases import case_repository as repo
from cases import duplicates, lifecycle, routing
from cases.calendar import WorkingCalendar
from cases.case_service import (
    actor_seats,
    case_out,
    contact_view,
    invalid_reference,
    not_found,
    scope_for,
    state_of,
    visible_case,
)
from cases.case_util import emit, now, record_event
from cases.schemas import ActionIn, CaseOut
from cases.service import calendar_for
from cases.sla import Allowance, SlaTargets, deadline, remaining
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid, PreconditionFailed
from tenancy import service as places
from tenancy.principal import Principal


def etag(case: dict) -> str:
    return f'"v{case["version"]}"'


def check_if_match(case: dict, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if etag(case) not in tags:
        raise PreconditionFailed(_("The case has changed since you loaded it; reload it and "
                                   "try again."), etag=etag(case))


def _check_fields(action: str, data: ActionIn) -> None:
    rule = lifecycle.RULES[action]
    errors = []
    for name in lifecycle.BODY_FIELDS:
        given = getattr(data, name) is not None
        if given and name not in rule.needs + rule.takes:
            errors.append({"field": name, "message": _("This action does not use this field.")})
        elif not given and name in rule.needs:
            errors.append({"field": name, "message": _("This field is required.")})
    if errors:
        raise Invalid(_("The request body does not fit this action."), errors=errors)


async def _check_references(p: Principal, case: dict, data: ActionIn) -> None:
    if data.assignee_user_id is not None and data.assignee_user_id not in \
            await places.organization_members(p.tenant_id, case["responsible_org"]):
        raise invalid_reference("assignee_user_id")
    if data.target_organization_id is not None:
        target = data.target_organization_id
        covering = await places.organizations_covering_estate(
            p.tenant_id, case["estate"], list(routing.TARGET_KINDS))
        if target not in covering or target == case["responsible_org"]:
            raise invalid_reference("target_organization_id")
    if data.duplicate_of_case_id is not None:
        original = await repo.get_case(scope_for(p), data.duplicate_of_case_id)
        if original is None or original["id"] == case["id"] or original["estate"] != case["estate"]:
            raise invalid_reference("duplicate_of_case_id")


def _refuse(case: dict, action: str, actors: set[str], why: str) -> Exception:
    allowed = lifecycle.allowed_actions(state_of(case), actors)
    if why == "actor":
        return Forbidden(_("Your role on this case does not allow this action."),
                         allowed_actions=allowed)
    return Conflict(_("This action is not possible while the case is {status}.").format(
        status=case["status"]), allowed_actions=allowed)


def _shifted(due: datetime, begin: datetime, end: datetime, allowance: Allowance,
             calendar: WorkingCalendar) -> datetime:
    """`due` moved later by the pause [begin, end] measured in the allowance's unit."""
    if begin >= due:
        return due  # pausing after the deadline does not make a case on time again
    spent = remaining(begin, end, [], calendar, allowance.unit)  # the clock stood still for all of it
    if allowance.unit == "natural_hours":
        return due + spent
    return calendar.add_working_time(due, spent)


async def _auto_assignee(p: Principal, case: dict) -> int:
    handlers = await places.organization_members(p.tenant_id, case["responsible_org"], ("handler",))
    if not handlers:
        message = _("This organisation has no handlers to assign automatically; choose a person.")
        raise Invalid(message, errors=[{"field": "assignee_user_id", "message": message}])
    load = await repo.open_load(p.tenant_id, handlers)
    return min(handlers, key=lambda u: (load[u], u))


async def _changes(p: Principal, case: dict, action: str, data: ActionIn, at: datetime,
                   after: lifecycle.CaseState) -> dict[str, Any]:
    targets = SlaTargets.from_dict(case["sla_targets"])
    resolve = targets.for_priority(case["priority"]).resolve
    calendar = await calendar_for(p.tenant_id)
    out: dict[str, Any] = {}
    pauses = [dict(x) for x in case["pauses"]]
    if pauses and pauses[-1]["end"] is None and not after.paused:  # a pause ends
        pauses[-1]["end"] = at.isoformat()
        out["pauses"] = pauses
        out["resolve_due_at"] = _shifted(case["resolve_due_at"],
                                         datetime.fromisoformat(pauses[-1]["begin"]), at,
                                         resolve, calendar)
    if action == "assign":
        out["assignee_user"] = data.assignee_user_id or await _auto_assignee(p, case)
    elif action == "acknowledge":
        out["acknowledged_at"] = case["acknowledged_at"] or at
    elif action == "return":
        window_ends = deadline(case["routed_at"], targets.return_window, calendar)
        if at > window_ends:
            raise Conflict(_("The return window for this case ended at {moment}; transfer it "
                             "with a reason instead.").format(moment=window_ends.isoformat()),
                           allowed_actions=[])
        out["assignee_user"] = None
    elif action == "transfer":
        out.update(responsible_org=data.target_organization_id, assignee_user=None, routed_at=at,
                   extension_until=None)
    elif action == "pause":
        out["pauses"] = [*pauses, {"begin": at.isoformat(), "end": None, "reason": data.reason}]
    elif action == "request_extension":
        assert data.new_due_at is not None
        if data.new_due_at.tzinfo is None or data.new_due_at <= max(at, case["resolve_due_at"]):
            message = _("The new date must be later than the current deadline.")
            raise Invalid(message, errors=[{"field": "new_due_at", "message": message}])
        out["extension_until"] = data.new_due_at
    elif action == "approve_extension":
        # a pause since the request may already have moved the deadline past the asked date
        out.update(resolve_due_at=max(case["extension_until"], case["resolve_due_at"]),
                   extension_until=None)
    elif action in ("decline_extension", "withdraw"):
        out["extension_until"] = None
    elif action == "resolve":
        out["resolution"] = data.comment
    elif action == "rate":
        out.update(rating=data.rating, rating_comment=data.comment or "")
    elif action == "mark_duplicate":
        out["duplicate_of"] = data.duplicate_of_case_id
    if after.status == "closed":
        out["closed_at"] = at
    if after.reopens > case["reopens"]:  # 重办: a fresh resolution allowance from now
        out.update(closed_at=None, resolve_due_at=deadline(at, resolve, calendar))
        if action == "reopen":
            out["rating"] = None
    return out


async def act(p: Principal, case_id: int, action: str, data: ActionIn,
              if_match: str | None = None) -> tuple[CaseOut, str]:
    if action not in lifecycle.RULES:
        raise not_found()
    case = await visible_case(p, case_id, lock=True)
    check_if_match(case, if_match)
    _check_fields(action, data)
    await _check_references(p, case, data)
    seats = actor_seats(p, case)
    before = state_of(case)
    try:
        lifecycle.check(before, action, set(seats))
    except lifecycle.NotAllowed as exc:
        raise _refuse(case, action, set(seats), exc.why) from exc
    at = now()
    after = lifecycle.apply(before, action, at, rating=data.rating,
                            assigned=True if action == "assign" else None)
    values = {"status": after.status, "paused": after.paused, "escalated": after.escalated,
              "transfers": after.transfers, "returns": after.returns, "reopens": after.reopens,
              "pause_count": after.pauses, "resolved_at": after.resolved_at,
              **await _changes(p, case, action, data, at, after)}
    updated = await repo.update_case(p.tenant_id, case_id, values)
    role = next(r for r in lifecycle.ACTORS if r in seats and r in lifecycle.RULES[action].actors)
    event_data = {k: v for k, v in {
        "assignee_user_id": values.get("assignee_user"),
        "from_organization_id": case["responsible_org"] if action == "transfer" else None,
        "to_organization_id": data.target_organization_id, "rating": data.rating,
        "new_due_at": data.new_due_at, "duplicate_of_case_id": data.duplicate_of_case_id,
        "as": role}.items() if v is not None}
    if action in ("resolve", "rate") and data.comment:
        event_data["comment"] = data.comment
    event = await record_event(p, updated, action, case["status"], actor_org=seats[role],
                               reason=data.reason, data=event_data)
    if action == "mark_duplicate" and case["reporter_user"] is not None:
        await duplicates.follow(p.tenant_id, data.duplicate_of_case_id, case["reporter_user"],
                                case_id)
    await emit(updated, event, also_orgs=(case["responsible_org"],),
               also_users=(case["assignee_user"],))
    return case_out(p, updated, unmasked=await contact_view(p, updated)), etag(updated)

