"""Demo meetings for 翠湖花园: a joint meeting next week convened by the residents' committee,
an owners' committee meeting after the 7-day notice, and an owners' assembly whose vote is
open, so the demo resident finds a vote on /vote."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from core.db import fetch
from meetings import repository as repo

ESTATE = "翠湖花园"


async def _org(tenant: int, estate: int, kind: str) -> int | None:
    rows = await fetch(
        "SELECT DISTINCT o.id FROM organization o JOIN organization_coverage c ON c.organization = o.id"
        " JOIN estate e ON e.id = $2 JOIN community m ON m.id = e.community"
        " WHERE o.tenant = $1 AND o.kind = $3"
        " AND (c.estate = e.id OR c.community = m.id OR c.street = m.street) ORDER BY o.id LIMIT 1",
        tenant, estate, kind)
    return rows[0]["id"] if rows else None


async def _meeting(tenant: int, estate: int, convener: int, kind: str, title: str,
                   starts: datetime, hours: float, status: str, location: str,
                   invited: list[int], agenda: list[str], required: int) -> dict:
    m = await repo.insert("meeting", {
        "tenant": tenant, "estate": estate, "kind": kind, "title": title, "convener": convener,
        "starts_at": starts, "ends_at": starts + timedelta(hours=hours), "location": location,
        "status": status, "notice_days_required": required,
        "uid": f"{secrets.token_hex(16)}@gongzhi",
        "started_at": starts if status == "in_progress" else None})
    for org in invited:
        await repo.insert("meeting_invitee", {"tenant": tenant, "meeting": m["id"],
                                              "organization": org})
    for i, title_ in enumerate(agenda, start=1):
        await repo.insert("meeting_agenda_item", {"tenant": tenant, "meeting": m["id"],
                                                  "position": i, "title": title_})
    return m


async def seed_demo(tenant: int) -> None:
    rows = await fetch("SELECT id FROM estate WHERE tenant = $1 AND name = $2", tenant, ESTATE)
    if not rows:
        return
    estate = rows[0]["id"]
    oc, rc = await _org(tenant, estate, "owners_committee"), await _org(tenant, estate,
                                                                       "residents_committee")
    contract = await fetch("SELECT property_company FROM service_contract WHERE tenant = $1"
                           " AND estate = $2 AND status IN ('active', 'expiring') LIMIT 1",
                           tenant, estate)
    if oc is None or rc is None:
        return
    pm = [contract[0]["property_company"]] if contract else []
    today = datetime.now(timezone.utc).replace(hour=6, minute=30, second=0, microsecond=0)
    await _meeting(tenant, estate, rc, "joint", "翠湖花园三方联席会议：停车秩序与垃圾分类",
                   today + timedelta(days=6), 2, "scheduled", "青莲社区党群服务中心二楼",
                   [oc, *pm], ["地面停车位施划方案", "垃圾分类投放点调整", "上季度工单办理情况"], 3)
    await _meeting(tenant, estate, oc, "committee", "业委会第三季度例会",
                   today + timedelta(days=9), 2, "scheduled", "翠湖花园业委会办公室", [rc],
                   ["维修资金使用情况", "物业服务合同续签准备"], 7)
    assembly = await _meeting(tenant, estate, oc, "assembly", "2026年度业主大会（书面表决）",
                              today - timedelta(days=2), 24 * 16, "in_progress",
                              "书面表决 · 线上投票", [rc], ["续聘物业服务企业"], 15)
    await repo.insert("meeting_resolution", {
        "tenant": tenant, "meeting": assembly["id"], "title": "同意续聘安居乐物业服务有限公司",
        "text": "服务期三年，收费标准不变。", "matter": "ordinary", "status": "open",
        "opened_at": today - timedelta(days=2), "closes_at": today + timedelta(days=13)})
