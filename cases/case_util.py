"""What every case change writes besides the case row: the immutable event, the audit entry
and the outbox event (no names or phone numbers: organisations' webhooks receive it)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cases import case_repository as repo
from cases import routing
from cases.schemas import CaseEventOut
from core import audit, outbox
from tenancy.principal import Principal



def now() -> datetime:
    return datetime.now(timezone.utc)


async def record_event(p: Principal | None, case: dict, action: str, from_status: str | None, *,
                       actor_org: int | None = None, reason: str | None = None,
                       data: dict[str, Any] | None = None, visibility: str = "public") -> dict:
    """Append the case's next event and the matching audit entry (same transaction).
    `p` None: the system did it (the supervision and auto-close jobs)."""
    actor = p.user_id if p is not None else None
    event = await repo.append_event(case["tenant"], case["id"], {
        "actor_user": actor, "actor_org": actor_org, "action": action,
        "from_status": from_status, "to_status": case["status"], "reason": reason,
        "data": data, "visibility": visibility})
    audit_data = {"seq": event["seq"], "from": from_status, "to": case["status"],
                  "visibility": visibility}
    if action != "comment":
        audit_data.update(reason=reason or "", **(data or {}))
    await audit.record(case["tenant"], f"case.{action}", subject_type="case",
                       subject_id=case["id"], actor_user_id=actor, actor_org_id=actor_org,
                       data=audit_data)
    return event


def payload(case: dict, event: dict) -> dict[str, Any]:
    """Ids, status and deadlines only: the payload reaches organisations' webhooks."""
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(timezone.utc).isoformat() if value else None
    return {"case_id": case["id"], "estate_id": case["estate"], "action": event["action"],
            "seq": event["seq"], "status": case["status"], "category": case["category"],
            "priority": case["priority"], "paused": case["paused"], "escalated": case["escalated"],
            "responsible_organization_id": case["responsible_org"],
            "assignee_user_id": case["assignee_user"], "ack_due_at": iso(case["ack_due_at"]),
            "resolve_due_at": iso(case["resolve_due_at"]), "version": case["version"],
            "visibility": event["visibility"]}


async def emit(case: dict, event: dict, *, internal: bool = False,
               also_orgs: tuple[int, ...] = (), also_users: tuple[int | None, ...] = ()) -> None:
    """Tell the responsible organisation, the committees covering the estate, the reporter and
    the assignee (internal events: organisations and the assignee only)."""
    orgs = {case["responsible_org"], *also_orgs,
            *await routing.audience(case["tenant"], case["estate"], case["category"])}
    users = {case["assignee_user"], *also_users}
    if not internal:
        users.add(case["reporter_user"])
        users.update(await repo.followers(case["tenant"], case["id"]))
    await outbox.emit(case["tenant"], f"case.{event['action']}", payload(case, event), organizations=sorted(orgs),
                      users=sorted(u for u in users if u is not None))


def event_out(r: dict) -> CaseEventOut:
    return CaseEventOut(seq=r["seq"], at=r["at"].astimezone(timezone.utc), action=r["action"],
                        from_status=r["from_status"], to_status=r["to_status"],
                        actor_user_id=r["actor_user"], actor_organization_id=r["actor_org"],
                        reason=r["reason"], data=r["data"], visibility=r["visibility"])
