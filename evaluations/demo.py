"""Demo data of the joint evaluation (called by `gongzhi demo` inside its transaction, after the
places, organisations and contracts exist).

- The tenant's default scheme (DESIGN §4).
- Last quarter's campaign, closed: every expected evaluator submitted (now locked), so the
  bureau's results have something to compute.
- This quarter's campaign, open until two weeks from now: one estate's owners' committee has
  submitted and its residents' committee has a draft half done; the rest wait (and get the
  daily reminders). Residents answer the survey themselves (log in as `resident`).
Scores are drawn from a fixed seed, so two fresh demos are identical.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from evaluations import campaign_service, scheme_service
from evaluations import repository as repo

SEED = 2026


def _previous_quarter(start: date) -> date:
    month = start.month - 3
    return date(start.year - (month < 1), (month - 1) % 12 + 1, 1)


async def _campaign(tenant: int, version: dict, name: str, start: date,
                    deadline: datetime) -> dict:
    end = campaign_service.period_end("quarter", start)
    row = await repo.insert_campaign(
        tenant=tenant, name=name, period_kind="quarter", period_start=start, period_end=end,
        scheme_version=version["id"], submission_deadline=deadline, status="draft", version=1)
    campaign = {"id": row["id"], "name": name, "period_start": start, "period_end": end,
                "submission_deadline": deadline}
    await repo.update_campaign(row["id"], {"status": "open",
                                           "opened_at": datetime.now(timezone.utc)})
    await campaign_service.create_assessments(tenant, campaign, None)
    return campaign


async def _score(sub: dict, keys: list[str], criteria: list[dict], rng: random.Random,
                 status: str) -> None:
    items = [{"criterion_key": k, "score": float(rng.randrange(140, 196)) / 2,
              "comment": "", "evidence": {"photos": [], "cases": []}} for k in keys]
    await repo.upsert_scores(sub["tenant"], sub["id"], items)
    score = scheme_service.weighted_score(criteria, {i["criterion_key"]: i["score"]
                                                     for i in items})
    values: dict = {"score": score}
    if status != "draft":
        values.update(status=status, submitted_at=datetime.now(timezone.utc))
    await repo.bump_submission(sub["id"], None, values)


async def seed_demo(tenant: int) -> None:
    rng = random.Random(SEED)
    version = await scheme_service.ensure_default_scheme(tenant)
    criteria = version["criteria"]
    keys = scheme_service.leaf_keys(criteria)
    today = datetime.now(timezone.utc).astimezone(campaign_service.TZ).date()
    this_quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    last_quarter = _previous_quarter(this_quarter)

    past = await _campaign(tenant, version, f"{last_quarter.year}年第{(last_quarter.month + 2) // 3}"
                           "季度物业服务联合评价", last_quarter,
                           datetime.now(timezone.utc) + timedelta(days=1))
    for a in await repo.assessments(repo.Reach(tenant, everything=True), past["id"]):
        for sub in await repo.submissions_of_assessment(tenant, a["id"]):
            await _score(sub, keys, criteria, rng, "submitted")
    await repo.update_campaign(past["id"], {
        "submission_deadline": datetime.now(timezone.utc) - timedelta(days=3)})
    await campaign_service.close_due_campaigns(tenant_id=tenant)

    current = await _campaign(tenant, version, f"{this_quarter.year}年第"
                              f"{(this_quarter.month + 2) // 3}季度物业服务联合评价", this_quarter,
                              datetime.now(timezone.utc) + timedelta(days=14))
    # The last contract's estate (not 翠湖花园, whose owners' committee chair has a draft to fill).
    rows = await repo.assessments(repo.Reach(tenant, everything=True), current["id"])
    shown = sorted(rows, key=lambda a: a["contract"])[-1:]
    for a in shown:
        for sub in await repo.submissions_of_assessment(tenant, a["id"]):
            if sub["evaluator_kind"] == "owners_committee":
                await _score(sub, keys, criteria, rng, "submitted")
            elif sub["evaluator_kind"] == "residents_committee":
                await _score(sub, keys[:3], criteria, rng, "draft")
