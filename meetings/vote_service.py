"""Resolutions and votes (no HTTP); the counting itself is meetings.voting (pure).

- Owners' committee meetings: voting opens only while the meeting is in progress with its
  quorum present; each member present votes in person (never through someone else); the
  decision needs more than half of ALL members.
- Joint meetings: each attending organisation casts one vote through one of its attendees.
- Owners' assembly: the secretary opens a voting period; every owner votes once per resolution,
  online with their own account (the resident account linked to a person on the register) or
  on a signed paper ballot that the owners' committee records with the ballot's scan (PDF,
  JPEG, PNG or WebP, checked by content). Counted per Civil Code art. 278 (meetings.voting).
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from core import audit, outbox
from core.i18n import gettext as _
from core.images import sniff
from core.problems import AppError, Conflict, Forbidden, Invalid
from core.storage import key_for, storage
from meetings import repository as repo
from meetings import voting
from meetings.attendance import quorum
from meetings.meeting_service import (
    TZ,
    aware,
    forbidden,
    invalid,
    invalid_reference,
    log,
    manages,
    not_found,
    now,
    visible,
)
from meetings.schemas import OpenVotingIn, ResolutionIn, ResolutionOut, VoteOut
from meetings.settings_service import thresholds
from tenancy.principal import Principal

MAX_BALLOT_BYTES = 20 * 1024 * 1024
BALLOT_TYPES = {"PDF": ("application/pdf", "pdf"), "JPEG": ("image/jpeg", "jpg"),
                "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


class BallotTooLarge(AppError):
    status = 413


class UnsupportedBallot(AppError):
    status = 415


def resolution_out(row: dict, votes_cast: int = 0, my_vote: str | None = None) -> ResolutionOut:
    result = repo.decoded(dict(row), "result")["result"]  # type: ignore[index]
    return ResolutionOut(
        id=row["id"], meeting_id=row["meeting"], agenda_item_id=row["agenda_item"],
        title=row["title"], text=row["text"], matter=row["matter"], status=row["status"],
        opened_at=row["opened_at"], closes_at=row["closes_at"], closed_at=row["closed_at"],
        passed=row["passed"], result=result, votes_cast=votes_cast, my_vote=my_vote)


def vote_out(row: dict) -> VoteOut:
    return VoteOut(id=row["id"], resolution_id=row["resolution"], voter_key=row["voter_key"],
                   choice=row["choice"], channel=row["channel"], cast_at=row["cast_at"],
                   has_ballot=row["ballot_key"] is not None)


async def _resolution(p: Principal, resolution_id: int, *, lock: bool = False) -> tuple[dict, dict]:
    row = await repo.row("meeting_resolution", p.tenant_id, resolution_id, lock=lock)
    if row is None:
        raise not_found()
    meeting = await visible(p, row["meeting"])
    return row, meeting


async def _managed_resolution(p: Principal, resolution_id: int) -> tuple[dict, dict]:
    row, meeting = await _resolution(p, resolution_id, lock=True)
    if not manages(p, meeting):
        raise forbidden()
    return row, meeting


async def list_resolutions(p: Principal, meeting_id: int) -> list[ResolutionOut]:
    meeting = await visible(p, meeting_id)
    rows = await repo.rows("meeting_resolution", p.tenant_id, meeting_id)
    counts = await repo.vote_counts(p.tenant_id, [r["id"] for r in rows])
    mine = set(await my_keys(p, meeting))
    out = []
    for r in rows:
        votes = await repo.votes(p.tenant_id, r["id"]) if mine else []
        my_vote = next((v["choice"] for v in votes if v["voter_key"] in mine), None)
        out.append(resolution_out(r, counts.get(r["id"], 0), my_vote))
    return out


async def get_resolution(p: Principal, resolution_id: int) -> ResolutionOut:
    row, meeting = await _resolution(p, resolution_id)
    votes = await repo.votes(p.tenant_id, resolution_id)
    mine = set(await my_keys(p, meeting))
    return resolution_out(row, len(votes), next((v["choice"] for v in votes
                                                 if v["voter_key"] in mine), None))


async def create_resolution(p: Principal, meeting_id: int, data: ResolutionIn) -> ResolutionOut:
    meeting = await visible(p, meeting_id, lock=True)
    if not manages(p, meeting):
        raise forbidden()
    if data.agenda_item_id is not None:
        item = await repo.row("meeting_agenda_item", p.tenant_id, data.agenda_item_id)
        if item is None or item["meeting"] != meeting_id:
            raise invalid_reference("agenda_item_id")
    if meeting["status"] in ("ended", "cancelled"):
        raise Conflict(_("The meeting is over."))
    if data.matter == "special" and meeting["kind"] != "assembly":
        raise invalid("matter", _("Only the owners' assembly decides special matters."))
    row = await repo.insert("meeting_resolution", {
        "tenant": p.tenant_id, "meeting": meeting_id, "agenda_item": data.agenda_item_id,
        "title": data.title.strip(), "text": data.text, "matter": data.matter})
    await log(p, "meeting.resolution_created", meeting_id, resolution=row["id"],
              matter=data.matter, title=row["title"])
    return resolution_out(row)


async def open_voting(p: Principal, resolution_id: int, data: OpenVotingIn) -> ResolutionOut:
    row, meeting = await _managed_resolution(p, resolution_id)
    if row["status"] != "draft":
        raise Conflict(_("Voting on this resolution has already been opened."))
    closes_at = None
    if meeting["kind"] == "assembly":
        if data.closes_at is None or aware(data.closes_at) <= now():
            raise invalid("closes_at", _("Set when the owners' voting period ends (in the future)."))
        closes_at = aware(data.closes_at)
        if meeting["status"] == "cancelled":
            raise Conflict(_("The meeting is over."))
    else:
        if meeting["status"] != "in_progress":
            raise Conflict(_("Votes are taken while the meeting is in progress."))
        q = await quorum(meeting)
        if not q.reached:
            raise Conflict(_("The quorum is not reached: {present} of {members} members are "
                             "present; more than half must be.").format(present=q.present,
                                                                        members=q.members))
    new = await repo.update("meeting_resolution", p.tenant_id, resolution_id, {
        "status": "open", "opened_at": now(), "closes_at": closes_at}, bump=True)
    await log(p, "meeting.voting_opened", meeting["id"], resolution=resolution_id,
              closes_at=closes_at)
    await outbox.emit(p.tenant_id, "meeting.voting_opened", {
        "meeting_id": meeting["id"], "resolution_id": resolution_id, "kind": meeting["kind"],
        "closes_at": closes_at.isoformat() if closes_at else None},
        organizations=[meeting["convener"]])
    return resolution_out(new)


async def assembly_voters(meeting: dict) -> dict[str, voting.Voter]:
    units = await repo.register(meeting["tenant"], meeting["estate"])
    return voting.voters(voting.RegisterUnit(u["id"], Decimal(u["exclusive_area"]),
                                             frozenset(u["owners"]), u["developer_unsold"])
                         for u in units)


async def my_keys(p: Principal, meeting: dict) -> list[str]:
    """The voter keys the caller votes as in this meeting (empty: they do not vote here)."""
    if meeting["kind"] == "assembly":
        if p.person_id is None:
            return []
        return voting.keys_of_person(await assembly_voters(meeting), p.person_id)
    rows = [r for r in await repo.attendance(meeting["tenant"], meeting["id"])
            if r["user"] == p.user_id]
    if not rows:
        return []
    if meeting["kind"] == "committee":
        return [f"user:{p.user_id}"] if rows[0]["committee_member"] else []
    return [f"org:{rows[0]['organization']}"] if rows[0]["organization"] else []


def _check_open(row: dict) -> None:
    if row["status"] != "open" or (row["closes_at"] is not None and row["closes_at"] <= now()):
        raise Conflict(_("Voting on this resolution is not open."))


async def _record(p: Principal, row: dict, meeting: dict, keys: list[str], choice: str,
                  **extra) -> list[dict]:
    cast = []
    for key in keys:
        vote = await repo.add_vote({"tenant": p.tenant_id, "resolution": row["id"],
                                    "voter_key": key, "choice": choice, **extra})
        if vote is not None:
            cast.append(vote)
    if not cast:
        raise Conflict(_("This vote has already been cast; each voter votes once."))
    await log(p, "meeting.vote_cast", meeting["id"], resolution=row["id"],
              voters=[v["voter_key"] for v in cast], choice=choice, channel=extra["channel"])
    return cast


async def cast_vote(p: Principal, resolution_id: int, choice: str) -> list[VoteOut]:
    row, meeting = await _resolution(p, resolution_id, lock=True)
    _check_open(row)
    if meeting["kind"] != "assembly" and meeting["status"] != "in_progress":
        raise Conflict(_("Votes are taken while the meeting is in progress."))
    keys = await my_keys(p, meeting)
    if not keys:
        raise Forbidden({
            "committee": _("Only owners' committee members present at the meeting vote, in "
                           "person."),
            "joint": _("Only representatives of the organisations present vote."),
            "assembly": _("Only owners of this estate vote in its owners' assembly."),
        }[meeting["kind"]])
    votes = await _record(p, row, meeting, keys, choice, channel="online", cast_by=p.user_id,
                          person=p.person_id if meeting["kind"] == "assembly" else None)
    return [vote_out(v) for v in votes]


def check_ballot(content: bytes) -> tuple[str, str]:
    if len(content) > MAX_BALLOT_BYTES:
        raise BallotTooLarge(_("The file is larger than {limit} MB.").format(
            limit=MAX_BALLOT_BYTES >> 20))
    kind = "PDF" if content.startswith(b"%PDF-") else sniff(content)
    if kind is None:
        raise UnsupportedBallot(_("A ballot scan must be a PDF, JPEG, PNG or WebP file."))
    return BALLOT_TYPES[kind]


async def record_paper_ballot(p: Principal, resolution_id: int, *, person_id: int | None,
                              developer: bool, choice: str, content: bytes) -> list[VoteOut]:
    row, meeting = await _managed_resolution(p, resolution_id)
    voters = await assembly_voters(meeting)
    if developer:
        keys = [voting.DEVELOPER] if voting.DEVELOPER in voters else []
    elif person_id is not None:
        keys = voting.keys_of_person(voters, person_id)
    else:
        raise invalid("person_id", _("Name the owner who signed the ballot."))
    if not keys:
        raise invalid("person_id", _("This person owns no unit in this estate."))
    if meeting["kind"] != "assembly":
        raise Conflict(_("Paper ballots are for owners' assembly votes; members vote in person."))
    _check_open(row)
    content_type, ext = check_ballot(content)
    digest = hashlib.sha256(content).hexdigest()
    stored = await storage().put(key_for("meetings", p.tenant_id, digest, ext), content,
                                 content_type)
    votes = await _record(p, row, meeting, keys, choice, channel="paper", recorded_by=p.user_id,
                          person=person_id, ballot_key=stored.key, ballot_sha256=digest,
                          ballot_content_type=content_type, ballot_size=len(content))
    return [vote_out(v) for v in votes]


async def list_votes(p: Principal, resolution_id: int) -> list[VoteOut]:
    row, meeting = await _resolution(p, resolution_id)
    if not manages(p, meeting):
        raise forbidden()
    return [vote_out(v) for v in await repo.votes(p.tenant_id, resolution_id)]


async def ballot(p: Principal, vote_id: int):
    """A paper ballot's scan, for the meeting's secretary."""
    vote = await repo.row("meeting_vote", p.tenant_id, vote_id)
    if vote is None or vote["ballot_key"] is None:
        raise not_found()
    _row, meeting = await _managed_resolution(p, vote["resolution"])
    return vote, await storage().open(vote["ballot_key"])


async def tally(meeting: dict, row: dict) -> voting.Tally:
    votes = {v["voter_key"]: v["choice"] for v in await repo.votes(meeting["tenant"], row["id"])}
    rules = await thresholds(meeting["tenant"])
    if meeting["kind"] == "assembly":
        return voting.count_assembly(await assembly_voters(meeting), votes, row["matter"], rules)
    if meeting["kind"] == "committee":
        members = await repo.committee_members(meeting["tenant"], meeting["convener"])
        return voting.count_committee(len(members), votes, rules)
    present = {r["organization"] for r in await repo.attendance(meeting["tenant"], meeting["id"])
               if r["organization"]}
    return voting.count_joint(len(present), votes)


async def close_voting(p: Principal, resolution_id: int) -> ResolutionOut:
    row, meeting = await _managed_resolution(p, resolution_id)
    if row["status"] != "open":
        raise Conflict(_("Voting on this resolution is not open."))
    if meeting["kind"] == "assembly" and row["closes_at"] > now():
        voters = await assembly_voters(meeting)
        if len(await repo.votes(p.tenant_id, resolution_id)) < len(voters):
            raise Conflict(_("The owners' voting period ends {at}; it is counted then (or as "
                             "soon as every owner has voted).").format(
                at=row["closes_at"].astimezone(TZ).strftime("%Y-%m-%d %H:%M")))
    new = await decide(meeting, row, actor=p.user_id)
    return resolution_out(new, new["votes_cast"])


async def decide(meeting: dict, row: dict, *, actor: int | None) -> dict:
    """Count and close a resolution (the secretary, or the job at the end of the period)."""
    result = await tally(meeting, row)
    at: datetime = now()
    new = await repo.update("meeting_resolution", meeting["tenant"], row["id"], {
        "status": "closed", "closed_at": at, "passed": result.passed,
        "result": result.as_dict()}, bump=True)
    await audit.record(meeting["tenant"], "meeting.resolution_decided", subject_type="meeting",
                       subject_id=meeting["id"], actor_user_id=actor,
                       data={"resolution": row["id"], "passed": result.passed,
                             "result": result.as_dict()})
    await outbox.emit(meeting["tenant"], "meeting.resolution_decided", {
        "meeting_id": meeting["id"], "resolution_id": row["id"], "passed": result.passed},
        organizations=[meeting["convener"]])
    return {**new, "votes_cast": sum(result.counts.values())}


async def close_due(at: datetime) -> int:
    """System level (job): count every owners' assembly resolution whose period has ended."""
    closed = 0
    for row in await repo.due_resolutions(at):
        meeting = await repo.row("meeting", row["tenant"], row["meeting"])
        await decide(meeting, row, actor=None)  # type: ignore[arg-type]
        closed += 1
    return closed
