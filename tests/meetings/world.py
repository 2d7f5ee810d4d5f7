"""The meetings part of the test world: per side, a joint meeting in progress (convened by the
residents' committee; the owners' committee and property company invited) with an agenda item
on the side's case, the committee's attendance and vote on an open resolution, an action item,
minutes in review with a proposed amendment, a posted public notice and a calendar feed.
Everything carries the side's marker, so the route walker notices any leak."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from meetings import repository as repo

WALKER_IDS = {"meeting_id": "meeting", "agenda_item_id": "agenda_item",
              "resolution_id": "resolution", "vote_id": "vote", "action_item_id": "action_item",
              "amendment_id": "amendment", "notice_id": "notice", "feed_id": "feed"}
WALKER_ALIASES = {"proxy_for_user_id": "user_id", "owner_user_id": "user_id",
                  "owner_organization_id": "organization_id",
                  "convener_organization_id": "organization_id",
                  "invited_organization_id": "organization_id", "invited_user_id": "user_id"}


async def seed(tenant: int, tag: str, side) -> None:
    now = datetime.now(timezone.utc)
    rc, oc, pm = (side.orgs[k] for k in ("residents_committee", "owners_committee",
                                        "property_company"))
    rc_user = side.user_ids["residents_committee:admin"]
    m = await repo.insert("meeting", {
        "tenant": tenant, "estate": side.estate, "kind": "joint", "convener": rc,
        "title": f"{side.marker} 联席会议", "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(hours=2), "location": f"{side.marker} 会议室",
        "status": "in_progress", "uid": f"{secrets.token_hex(8)}@test", "created_by": rc_user,
        "started_at": now - timedelta(hours=1)})
    for org in (oc, pm):
        await repo.insert("meeting_invitee", {"tenant": tenant, "meeting": m["id"],
                                              "organization": org})
    item = await repo.insert("meeting_agenda_item", {
        "tenant": tenant, "meeting": m["id"], "position": 1, "title": f"{side.marker} 漏水",
        "case": side.case, "contract": side.contract, "notes": f"{side.marker} 讨论"})
    await repo.insert("meeting_attendance", {
        "tenant": tenant, "meeting": m["id"], "user": rc_user, "organization": rc,
        "method": "self", "recorded_by": rc_user})
    res = await repo.insert("meeting_resolution", {
        "tenant": tenant, "meeting": m["id"], "agenda_item": item["id"],
        "title": f"{side.marker} 决议", "status": "open", "opened_at": now})
    vote = await repo.insert("meeting_vote", {
        "tenant": tenant, "resolution": res["id"], "voter_key": f"org:{rc}", "choice": "for",
        "channel": "online", "cast_by": rc_user})
    action = await repo.insert("meeting_action_item", {
        "tenant": tenant, "meeting": m["id"], "title": f"{side.marker} 维修",
        "owner_organization": pm})
    minutes = await repo.insert("meeting_minutes", {
        "tenant": tenant, "meeting": m["id"], "status": "review",
        "content": {"summary": f"{side.marker} 纪要", "agenda": [
            {"id": item["id"], "position": 1, "title": item["title"], "notes": item["notes"]}]}})
    amendment = await repo.insert("meeting_minutes_amendment", {
        "tenant": tenant, "minutes": minutes["id"], "section": "summary",
        "before": f"{side.marker} 纪要", "after": f"{side.marker} 修改", "author": rc_user})
    notice = await repo.insert("meeting_notice", {
        "tenant": tenant, "meeting": m["id"], "estate": side.estate,
        "title": f"{side.marker} 公示", "content": {"summary": f"{side.marker} 公示内容"},
        "posted_until": now + timedelta(days=3), "posted_by": rc_user})
    feed = await repo.insert("meeting_calendar_feed", {
        "tenant": tenant, "organization": rc,
        "token_hash": hashlib.sha256(f"{tag}-feed".encode()).hexdigest(),
        "label": f"{side.marker} feed", "created_by": rc_user})
    side.extra.update(meeting=m["id"], agenda_item=item["id"], resolution=res["id"],
                      vote=vote["id"], action_item=action["id"], amendment=amendment["id"],
                      notice=notice["id"], feed=feed["id"])
