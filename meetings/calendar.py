"""iCalendar: a meeting's invitation (.ics, METHOD:REQUEST, or CANCEL once cancelled) and each
organisation's feed of its meetings. Calendar clients cannot send bearer tokens, so a feed is
read through an unguessable token in its URL (only the token's SHA-256 is stored); an
organisation's administrators create and revoke feeds.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from icalendar import Calendar, Event

from core import audit
from core.i18n import gettext as _
from core.problems import Forbidden, NotFound, Unauthenticated
from meetings import repository as repo
from meetings.meeting_service import now, visible
from meetings.schemas import FeedOut
from tenancy.guards import administers
from tenancy.principal import Principal

FEED_PATH = "/meetings/feed/"
KIND_LABELS = {"joint": "联席会议", "committee": "业委会会议", "assembly": "业主大会"}


def _event(m: dict) -> Event:
    e = Event()
    e.add("uid", m["uid"])
    e.add("dtstamp", now())
    e.add("dtstart", m["starts_at"])
    e.add("dtend", m["ends_at"])
    e.add("summary", f"[{KIND_LABELS.get(m['kind'], m['kind'])}] {m['title']}")
    location = m["location"] or m["online_url"]
    if location:
        e.add("location", location)
    if m["online_url"]:
        e.add("url", m["online_url"])
    e.add("sequence", m["sequence"])
    e.add("status", "CANCELLED" if m["status"] == "cancelled" else "CONFIRMED")
    return e


def calendar_bytes(meetings: list[dict], *, method: str | None = None, name: str = "") -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Gongzhi//Meetings//ZH")
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for m in meetings:
        cal.add_component(_event(m))
    return cal.to_ical()


async def invitation(p: Principal, meeting_id: int) -> bytes:
    m = await visible(p, meeting_id)
    return calendar_bytes([m], method="CANCEL" if m["status"] == "cancelled" else "REQUEST")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_out(row: dict, url: str | None = None) -> FeedOut:
    return FeedOut(id=row["id"], organization_id=row["organization"], label=row["label"],
                   created_at=row["created_at"], revoked_at=row["revoked_at"], url=url)


async def _administered(p: Principal, org_id: int) -> None:
    if p.seat_in(org_id) is None and not p.is_tenant_admin:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    if await repo.organization(p.tenant_id, org_id) is None:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    if not administers(p, org_id):
        raise Forbidden(_("Only the organisation's administrators manage its calendar feeds."))


async def create_feed(p: Principal, org_id: int, label: str, base_url: str) -> FeedOut:
    await _administered(p, org_id)
    token = secrets.token_urlsafe(32)
    row = await repo.insert("meeting_calendar_feed", {
        "tenant": p.tenant_id, "organization": org_id, "token_hash": token_hash(token),
        "label": label.strip(), "created_by": p.user_id})
    await audit.record(p.tenant_id, "meeting.feed_created", subject_type="organization",
                       subject_id=org_id, actor_user_id=p.user_id, data={"feed": row["id"]})
    return feed_out(row, f"{base_url.rstrip('/')}{FEED_PATH}{token}.ics")


async def list_feeds(p: Principal, org_id: int) -> list[FeedOut]:
    await _administered(p, org_id)
    return [feed_out(r) for r in await repo.feeds(p.tenant_id, org_id)]


async def revoke_feed(p: Principal, feed_id: int) -> None:
    row = await repo.row("meeting_calendar_feed", p.tenant_id, feed_id, lock=True)
    if row is None:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    await _administered(p, row["organization"])
    if row["revoked_at"] is None:
        await repo.update("meeting_calendar_feed", p.tenant_id, feed_id, {"revoked_at": now()})
        await audit.record(p.tenant_id, "meeting.feed_revoked", subject_type="organization",
                           subject_id=row["organization"], actor_user_id=p.user_id,
                           data={"feed": feed_id})


async def feed(token: str) -> bytes:
    """The organisation's meetings from 30 days ago on, for the holder of a live token."""
    token = token.removesuffix(".ics")
    row = await repo.feed_by_hash(token_hash(token)) if 20 <= len(token) <= 100 else None
    if row is None:  # the token is the credential: an unknown or revoked one is refused
        raise Unauthenticated(_("This calendar link is not valid (it may have been revoked)."))
    org = await repo.organization(row["tenant"], row["organization"])
    meetings = await repo.organization_meetings(row["tenant"], row["organization"],
                                                now() - timedelta(days=30))
    return calendar_bytes(meetings, name=f"{org['name'] if org else ''} 会议")
