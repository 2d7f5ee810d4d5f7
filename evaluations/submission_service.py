"""Evaluator submissions: an organisation scores every leaf criterion of the campaign's scheme
version 0–100, with an optional comment and evidence (its own uploaded photos; cases of the
estate the user may see).

Who: the estate's owners' committee (any member), its residents' committee (administrators,
directors, staff), its street office and the housing bureau (administrators, staff; the
bureau's as `bureau_inspection`). Members of the evaluator organisation read its submission,
draft or not; bureau members read submitted ones. Nobody who is a member of the evaluated
property company, or of an organisation the tenant declared in conflict with it, may submit or
see a draft: 403, even when they also act for an evaluator.

Lifecycle: draft → submitted (every leaf scored) → locked (when the campaign closes). Drafts and
submitted ones stay editable while the campaign is open and before its deadline (423 after);
every change bumps `version` (the ETag), needs If-Match (412 when stale, 428 when missing) and
writes an audit entry with the scores before and after.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec

from cases import case_service as cases
from core import audit, outbox
from core.i18n import gettext as _
from core.problems import AppError, Conflict, Forbidden, Invalid, Locked, PreconditionFailed
from evaluations import campaign_service as campaigns
from evaluations import repository as repo
from evaluations import scheme_service as schemes
from evaluations.schemas import Criterion, Evidence, ScoreIn, ScoreOut, SubmissionOut
from tenancy.principal import Principal, Seat

KIND_OF_ORG = {"owners_committee": "owners_committee", "residents_committee": "residents_committee",
               "street_office": "street_office", "housing_bureau": "bureau_inspection"}
WRITER_ROLES = {"owners_committee": ("admin", "chair", "vice_chair", "secretary", "member"),
                "residents_committee": ("admin", "director", "staff"),
                "street_office": ("admin", "staff"), "housing_bureau": ("admin", "staff")}


class PreconditionRequired(AppError):
    status = 428


def now() -> datetime:
    return datetime.now(timezone.utc)


def etag(row: dict) -> str:
    return f'"v{row["version"]}"'


def check_if_match(row: dict, if_match: str | None) -> int:
    """The version the caller saw; 428 without If-Match, 412 when it is not the current one."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(_("Send the If-Match header with the ETag you read, so that "
                                     "no one else's change is overwritten."))
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if etag(row) not in tags:
        raise PreconditionFailed(_("The submission has changed since you loaded it; reload it "
                                   "and try again."), etag=etag(row))
    return row["version"]


# --- who ----------------------------------------------------------------------------------------------
async def conflicted(p: Principal, assessment: dict) -> bool:
    """A member of the evaluated company, or of an organisation declared in conflict with it."""
    company = assessment["property_company"]
    if company in p.organization_ids:
        return True
    return bool(await repo.conflicted_orgs(p.tenant_id, company, sorted(p.organization_ids)))


async def refuse_conflicted(p: Principal, assessment: dict) -> None:
    if await conflicted(p, assessment):
        raise Forbidden(_("You have a conflict of interest with the evaluated property company: "
                          "you may not evaluate it or see draft evaluations."))


def evaluator_seats(p: Principal, estate_id: int) -> list[Seat]:
    """The caller's seats that may score an assessment of the estate."""
    return [s for s in p.seats if s.kind in KIND_OF_ORG and s.role in WRITER_ROLES[s.kind]
            and s.covers(estate=estate_id)]


async def readable(p: Principal, sub: dict, *, write: bool = False) -> None:
    """404 unless the caller acts for the evaluator (or, reading a submitted one, the bureau);
    403 for anyone conflicted, or a reader trying to write."""
    member = p.seat_in(sub["organization"])
    bureau_reader = p.tenant_wide and sub["status"] != "draft"
    if member is None and not bureau_reader:
        raise schemes.not_found()
    await refuse_conflicted(p, sub)
    if write and not (member and member.role in WRITER_ROLES.get(member.kind, ())
                      and member.covers(estate=sub["estate"])):
        raise Forbidden(_("Your role does not allow this action here."))


def editable(sub: dict) -> bool:
    return (sub["campaign_status"] == "open" and sub["submission_deadline"] > now()
            and sub["status"] in ("draft", "submitted"))


def check_editable(sub: dict) -> None:
    if not editable(sub):
        raise Locked(_("The deadline has passed: this evaluation is locked."))


# --- reading ------------------------------------------------------------------------------------------
async def _criteria(tenant_id: int, version_id: int) -> list[dict]:
    return (await repo.version(tenant_id, version_id))["criteria"]  # type: ignore[index]


async def submission_out(sub: dict, criteria: list[dict] | None = None) -> SubmissionOut:
    criteria = criteria or await _criteria(sub["tenant"], sub["scheme_version"])
    rows = await repo.scores([sub["id"]])
    scored = {r["criterion_key"] for r in rows}
    return SubmissionOut(
        id=sub["id"], assessment_id=sub["assessment"], campaign_id=sub["campaign"],
        estate_id=sub["estate"], property_company_id=sub["property_company"],
        organization_id=sub["organization"], evaluator_kind=sub["evaluator_kind"],
        status=sub["status"], score=float(sub["score"]) if sub["score"] is not None else None,
        version=sub["version"], submitted_at=sub["submitted_at"], updated_at=sub["updated_at"],
        submission_deadline=sub["submission_deadline"], editable=editable(sub),
        criteria=msgspec.convert(criteria, list[Criterion]),
        scores=[ScoreOut(criterion_key=r["criterion_key"], score=float(r["score"]),
                         comment=r["comment"], evidence=msgspec.convert(
                             r["evidence"], Evidence)) for r in rows],
        missing=[k for k in schemes.leaf_keys(criteria) if k not in scored])


async def row(p: Principal, submission_id: int, *, lock: bool = False,
              write: bool = False) -> dict:
    sub = await repo.submission(p.tenant_id, submission_id, lock=lock)
    if sub is None:
        raise schemes.not_found()
    await readable(p, sub, write=write)
    return sub


async def get_submission(p: Principal, submission_id: int) -> SubmissionOut:
    return await submission_out(await row(p, submission_id))


async def my_submissions(p: Principal, *, campaign_id: int | None = None,
                         open_only: bool = False) -> list[SubmissionOut]:
    """Submissions of the caller's evaluator organisations (conflicted ones left out)."""
    orgs = [s.organization_id for s in p.seats if s.kind in KIND_OF_ORG]
    out = []
    for sub in await repo.submissions_of(p.tenant_id, orgs, campaign_id=campaign_id,
                                         open_only=open_only):
        if not await conflicted(p, sub):
            out.append(await submission_out(sub))
    return out


# --- writing ------------------------------------------------------------------------------------------
async def start_submission(p: Principal, assessment_id: int,
                           organization_id: int | None) -> tuple[SubmissionOut, bool]:
    """The caller's organisation's submission for the assessment, created as a draft when it
    does not exist yet (the bureau's inspection, or an organisation that joined late).
    Returns (submission, created)."""
    assessment = await campaigns.assessment_row(p, assessment_id)
    seats = evaluator_seats(p, assessment["estate"])
    if organization_id is not None:
        seats = [s for s in seats if s.organization_id == organization_id]
    if not seats:
        if organization_id is not None and p.seat_in(organization_id) is None:
            message = _("This organisation does not exist or you may not act for it.")
            raise Invalid(message, errors=[{"field": "organization_id", "message": message}])
        raise Forbidden(_("Only the estate's owners' committee, its residents' committee, its "
                          "street office or the housing bureau evaluate the property company."))
    await refuse_conflicted(p, assessment)
    seat = seats[0]
    sub = await repo.submission_for(p.tenant_id, assessment_id, seat.organization_id)
    created = False
    if sub is None:
        campaign = await campaigns.get_row(p, assessment["campaign"])
        check_editable({"campaign_status": campaign["status"], "status": "draft",
                        "submission_deadline": campaign["submission_deadline"]})
        ids = await repo.insert_submissions(p.tenant_id, assessment_id,
                                            [(seat.organization_id, KIND_OF_ORG[seat.kind])],
                                            p.user_id)
        created = bool(ids)
        sub = await repo.submission_for(p.tenant_id, assessment_id, seat.organization_id)
        if created:
            await _log(p, sub, "evaluation.submission_started")  # type: ignore[arg-type]
    return await submission_out(sub), created  # type: ignore[arg-type]


async def _log(p: Principal, sub: dict, action: str, **data: Any) -> None:
    await audit.record(p.tenant_id, action, subject_type="evaluation_submission",
                       subject_id=sub["id"], actor_user_id=p.user_id,
                       actor_org_id=sub["organization"],
                       data={"assessment": sub["assessment"], **data})


async def _check_evidence(p: Principal, sub: dict, items: list[ScoreIn]) -> None:
    own_photos = {ph["id"] for ph in await repo.photos(sub["id"])}
    errors = []
    for i, item in enumerate(items):
        for photo_id in item.evidence.photos:
            if photo_id not in own_photos:
                errors.append({"field": f"scores[{i}].evidence.photos",
                               "message": _("Upload the photo to this evaluation first.")})
        for case_id in item.evidence.cases:
            try:
                case = await cases.visible_case(p, case_id)
            except AppError:
                case = None
            if case is None or case["estate"] != sub["estate"]:
                errors.append({"field": f"scores[{i}].evidence.cases",
                               "message": _("Link cases of this estate that you can see.")})
    if errors:
        raise Invalid(_("Some evidence cannot be used."), errors=errors)


async def save_scores(p: Principal, submission_id: int, items: list[ScoreIn],
                      if_match: str | None) -> tuple[SubmissionOut, str]:
    sub = await row(p, submission_id, lock=True, write=True)
    seen_version = check_if_match(sub, if_match)
    check_editable(sub)
    criteria = await _criteria(p.tenant_id, sub["scheme_version"])
    keys = set(schemes.leaf_keys(criteria))
    bad = [{"field": f"scores[{i}].criterion_key",
            "message": _("This criterion is not scored in this scheme.")}
           for i, item in enumerate(items) if item.criterion_key not in keys]
    if bad or len({i.criterion_key for i in items}) != len(items):
        raise Invalid(_("Score each criterion of the scheme once."), errors=bad or [
            {"field": "scores", "message": _("Score each criterion of the scheme once.")}])
    await _check_evidence(p, sub, items)
    before = {r["criterion_key"]: (float(r["score"]), r["comment"])
              for r in await repo.scores([sub["id"]])}
    values = [{"criterion_key": i.criterion_key, "score": round(i.score, 2),
               "comment": i.comment.strip(), "evidence": msgspec.to_builtins(i.evidence)}
              for i in items]
    await repo.upsert_scores(p.tenant_id, sub["id"], values)
    after = {r["criterion_key"]: float(r["score"]) for r in await repo.scores([sub["id"]])}
    score = schemes.weighted_score(criteria, after)
    if await repo.bump_submission(sub["id"], seen_version,
                                  {"score": score, "updated_by": p.user_id}) is None:
        raise PreconditionFailed(_("The submission has changed since you loaded it; reload it "
                                   "and try again."))
    await _log(p, sub, "evaluation.submission_saved", status=sub["status"], score=score,
               changes=[{"criterion_key": v["criterion_key"],
                         "before": before.get(v["criterion_key"], (None,))[0],
                         "after": v["score"], "comment": v["comment"],
                         "evidence": v["evidence"]} for v in values])
    new = await repo.submission(p.tenant_id, sub["id"])
    return await submission_out(new, criteria), etag(new)  # type: ignore[arg-type]


async def submit(p: Principal, submission_id: int,
                 if_match: str | None) -> tuple[SubmissionOut, str]:
    sub = await row(p, submission_id, lock=True, write=True)
    seen_version = check_if_match(sub, if_match)
    check_editable(sub)
    if sub["status"] != "draft":
        raise Conflict(_("This evaluation has already been submitted."))
    out = await submission_out(sub)
    if out.missing:
        raise Invalid(_("Score every criterion before submitting."), errors=[
            {"field": "scores", "message": _("Not scored yet: {keys}").format(
                keys=", ".join(out.missing))}])
    if await repo.bump_submission(sub["id"], seen_version, {
            "status": "submitted", "submitted_at": now(), "updated_by": p.user_id}) is None:
        raise PreconditionFailed(_("The submission has changed since you loaded it; reload it "
                                   "and try again."))
    await _log(p, sub, "evaluation.submission_submitted", score=out.score)
    await outbox.emit(p.tenant_id, "evaluation.submission_submitted", {
        "submission_id": sub["id"], "assessment_id": sub["assessment"],
        "campaign_id": sub["campaign"], "evaluator_kind": sub["evaluator_kind"]},
        organizations=[sub["organization"]])
    new = await repo.submission(p.tenant_id, sub["id"])
    return await submission_out(new), etag(new)  # type: ignore[arg-type]
