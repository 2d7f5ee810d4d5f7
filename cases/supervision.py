"""What the system does to cases by itself: supervision (督办) and escalation of overdue cases,
and closing resolved cases the reporter never rated.

Supervision: an open, unpaused case whose acknowledgement deadline passed unacknowledged, or
whose resolution deadline passed, gets one `supervise` event per (deadline, due moment) by the
system (no actor) and a `case.overdue` outbox event for the responsible organisation and the
residents' committee covering the estate. A deadline that moves (pause, approved extension,
reopen) can be supervised again once the new moment passes. A case still overdue by its whole
allowance once more (now > due + allowance) is escalated once to the street office (the
`escalated` flag, an `escalate` event, `case.escalate` to the street office too). Paused cases
are skipped: their resolution clock stands still and their deadline moves when they resume.

Idempotent and safe with several workers: candidates are locked `FOR UPDATE SKIP LOCKED`, and
whether a case still needs something is decided again, by a fresh statement, under the lock.
The transition rules (which statuses allow `escalate` and `close`, and what they change) come
from cases.lifecycle, as for people.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import msgspec

from cases import case_repository as repo
from cases import lifecycle, policy, routing
from cases.case_service import state_of
from cases.case_util import emit, now, payload, record_event
from cases.service import calendar_for
from cases.sla import SlaTargets, deadline
from core import outbox
from core.db import db, fetch
from core.i18n import gettext as _
from tenancy import service as places

log = logging.getLogger("gongzhi.cases.supervision")

BATCH = 200
AUTO_CLOSE_DAYS = 7  # the default (cases.policy): a resolved case left unrated closes after this
STREET = "street_office"


async def _tenants() -> list[int]:
    return [r["id"] for r in await fetch("SELECT id FROM tenant ORDER BY id")]


async def _supervised(case_id: int, which: str, due: datetime) -> bool:
    rows = await fetch("SELECT 1 FROM case_event WHERE \"case\" = $1 AND action = 'supervise'"
                       " AND data->>'deadline' = $2 AND data->>'due_at' = $3 LIMIT 1",
                       case_id, which, due.isoformat())
    return bool(rows)


def _overdue(case: dict, at: datetime) -> list[tuple[str, datetime]]:
    """(deadline, due moment) pairs the case is past, at `at`."""
    if case["status"] not in repo.OPEN_STATUSES or case["paused"]:
        return []
    out = []
    if case["acknowledged_at"] is None and at > case["ack_due_at"]:
        out.append(("acknowledge", case["ack_due_at"]))
    if at > case["resolve_due_at"]:
        out.append(("resolve", case["resolve_due_at"]))
    return out


def _targets(case: dict) -> SlaTargets:
    """The case's stored SLA targets; a row whose targets do not parse (hand-edited, imported)
    is supervised on the defaults and logged, so that one bad row never stops the sweep for
    every other case of every tenant."""
    try:
        return SlaTargets.from_dict(case["sla_targets"])
    except (msgspec.ValidationError, TypeError) as exc:
        log.warning("case %s has unreadable SLA targets (%s); supervising it on the defaults",
                    case["id"], exc)
        return SlaTargets.defaults()


async def _supervise_case(case: dict, at: datetime) -> dict[str, int]:
    done = {"supervised": 0, "escalated": 0}
    overdue = _overdue(case, at)
    if not overdue:
        return done
    targets = _targets(case).for_priority(case["priority"])
    calendar = await calendar_for(case["tenant"])
    committees = await routing.audience(case["tenant"], case["estate"], case["category"])
    for which, due in overdue:
        if await _supervised(case["id"], which, due):
            continue
        late = at - due
        data = {"deadline": which, "due_at": due.isoformat(),
                "overdue_seconds": int(late.total_seconds()), "as": "system"}
        reason = _("The {deadline} deadline passed {minutes} minutes ago.").format(
            deadline=_("acknowledgement") if which == "acknowledge" else _("resolution"),
            minutes=int(late.total_seconds() // 60))
        event = await record_event(None, case, "supervise", case["status"], reason=reason,
                                   data=data, visibility="public")
        await outbox.emit(case["tenant"], "case.overdue", {**payload(case, event), **data},
                          organizations=sorted({case["responsible_org"], *committees}),
                          users=[u for u in (case["assignee_user"],) if u is not None])
        done["supervised"] += 1
    state = state_of(case)
    if "escalate" not in lifecycle.allowed_actions(state):
        return done
    for which, due in overdue:
        allowance = targets.acknowledge if which == "acknowledge" else targets.resolve
        limit = deadline(due, allowance, calendar)
        if at <= limit:
            continue
        after = lifecycle.apply(state, "escalate", at)
        updated = await repo.update_case(case["tenant"], case["id"],
                                         {"escalated": after.escalated})
        streets = await places.organizations_covering_estate(case["tenant"], case["estate"], [STREET])
        data = {"deadline": which, "due_at": due.isoformat(), "limit_at": limit.isoformat(),
                "overdue_seconds": int((at - due).total_seconds()), "as": "system",
                "to_organization_ids": streets}
        reason = _("Overdue by its whole allowance again: escalated to the street office.")
        event = await record_event(None, updated, "escalate", case["status"], reason=reason,
                                   data=data)
        await emit(updated, event, also_orgs=tuple(streets))
        done["escalated"] += 1
        break
    return done


async def _candidates(tenant_id: int, at: datetime, after_id: int) -> list[dict]:
    rows = await fetch(
        "SELECT * FROM case_record WHERE tenant = $1 AND id > $2 AND status = ANY($3::text[])"
        " AND NOT paused AND (resolve_due_at < $4 OR (acknowledged_at IS NULL AND ack_due_at < $4))"
        " ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED",
        tenant_id, after_id, list(repo.OPEN_STATUSES), at, BATCH)
    return [repo._decoded(r) for r in rows]


async def sweep_tenant(tenant_id: int, at: datetime | None = None) -> dict[str, int]:
    total = {"supervised": 0, "escalated": 0}
    after_id = 0
    while True:
        async with db().transaction():
            at_ = at or now()
            batch = await _candidates(tenant_id, at_, after_id)
            for row in batch:
                # Decided again under the lock by fresh statements: another sweep may have
                # committed between our snapshot and the lock.
                fresh = await fetch("SELECT * FROM case_record WHERE id = $1", row["id"])
                done = await _supervise_case(repo._decoded(fresh[0]), at_)
                total = {k: total[k] + done[k] for k in total}
        if len(batch) < BATCH:
            return total
        after_id = batch[-1]["id"]


async def supervise_overdue_cases(ctx: Any = None) -> dict[str, int]:
    """SAQ job: supervise and escalate every tenant's overdue cases. Safe to rerun."""
    total = {"supervised": 0, "escalated": 0}
    for tenant_id in await _tenants():
        done = await sweep_tenant(tenant_id)
        total = {k: total[k] + done[k] for k in total}
    if any(total.values()):
        outbox.kick()
    return total


# --- closing unrated cases ----------------------------------------------------------------------
async def close_tenant(tenant_id: int, at: datetime | None = None,
                       days: int | None = None) -> int:
    """`days`: the tenant's policy (cases.policy) unless given."""
    if days is None:
        days = await policy.auto_close_days(tenant_id)
    closed = after_id = 0
    while True:
        async with db().transaction():
            at_ = at or now()
            rows = await fetch(
                "SELECT * FROM case_record WHERE tenant = $1 AND status = 'resolved'"
                " AND rating IS NULL AND resolved_at < $2 AND id > $4 ORDER BY id LIMIT $3"
                " FOR UPDATE SKIP LOCKED", tenant_id, at_ - timedelta(days=days), BATCH, after_id)
            for row in rows:
                fresh = repo._decoded((await fetch(
                    "SELECT * FROM case_record WHERE id = $1", row["id"]))[0])
                state = state_of(fresh)
                if fresh["rating"] is not None or "close" not in lifecycle.allowed_actions(state):
                    continue
                after = lifecycle.apply(state, "close", at_)
                updated = await repo.update_case(tenant_id, fresh["id"],
                                                 {"status": after.status, "closed_at": at_})
                reason = _("Closed without a rating after {days} days.").format(days=days)
                event = await record_event(None, updated, "close", fresh["status"], reason=reason,
                                           data={"rated": False, "as": "system"})
                await emit(updated, event)
                closed += 1
        if len(rows) < BATCH:
            return closed
        after_id = rows[-1]["id"]


async def close_unrated_cases(ctx: Any = None) -> int:
    """SAQ job: close resolved cases left unrated for the tenant's auto-close days (7 unless
    its case policy says otherwise) as "not rated"."""
    closed = 0
    for tenant_id in await _tenants():
        closed += await close_tenant(tenant_id)
    if closed:
        outbox.kick()
    return closed
