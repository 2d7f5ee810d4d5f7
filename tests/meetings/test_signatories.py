"""Who signs the minutes, in which order: owners' committee meetings — every attending member,
chair first (tenant option: the first more-than-half of ALL members among those present);
joint meetings — one representative per organisation present, the convener's last; the
convener's seal after every person."""
from __future__ import annotations

from core.db import db
from meetings import repository as repo
from meetings.minutes_documents import minutes_signers
from tests.meetings.helpers import at, committee_estate, post, schedule


async def committee_meeting_with(client, world, present: int):
    e = await committee_estate(world, members=5)
    m = await schedule(client, e.chair, kind="committee", estate_id=e.id,
                       convener_organization_id=e.committee, title="签名顺序测试",
                       starts_at=at(days=8), ends_at=at(days=8, hours=1))
    await post(client, e.chair, f"/api/v1/meetings/{m['id']}/start")
    for _uid, username in reversed(e.members[:present]):  # the chair signs in last
        await post(client, username, f"/api/v1/meetings/{m['id']}/attendance")
    meeting = await repo.row("meeting", world.tenant_a, m["id"])
    return e, meeting, await repo.attendance(world.tenant_a, m["id"])


async def test_every_attending_member_signs_chair_first_then_the_seal(client, world):
    e, meeting, attendance = await committee_meeting_with(client, world, present=4)
    signers = await minutes_signers(meeting, attendance)
    assert [s.user_id for s in signers[:-1]] == [e.chair_id, *(u for u, _ in reversed(e.members[1:4]))]
    assert [s.role for s in signers[:2]] == ["业主委员会主任", "业主委员会委员"]
    assert signers[-1].kind == "seal" and signers[-1].organization_id == e.committee
    assert "chair" in signers[-1].roles and [s.field_name for s in signers] == [
        "sig_1", "sig_2", "sig_3", "sig_4", "seal_convener"]


async def test_tenant_option_more_than_half_of_all_members(client, world):
    e, meeting, attendance = await committee_meeting_with(client, world, present=4)
    async with db().transaction():
        await repo.update_settings(world.tenant_a, {"committee_signers": "majority_of_all"})
    try:
        signers = await minutes_signers(meeting, attendance)
    finally:
        async with db().transaction():
            await repo.update_settings(world.tenant_a, {"committee_signers": "attending"})
    persons = [s for s in signers if s.kind == "person"]
    assert len(persons) == 3  # 5 members: more than half is 3, taken from the 4 present
    assert persons[0].user_id == e.chair_id


async def test_joint_meeting_one_representative_per_organisation_convener_last(client, world):
    a1 = world.a1
    rc = a1.users["residents_committee:admin"]
    m = await schedule(client, rc, kind="joint", estate_id=a1.estate,
                       convener_organization_id=a1.orgs["residents_committee"], title="签名",
                       starts_at=at(days=4), ends_at=at(days=4, hours=1))
    await post(client, rc, f"/api/v1/meetings/{m['id']}/start")
    for persona in ("residents_committee:admin", "owners_committee:member",
                    "owners_committee:chair", "property_company:manager"):
        await post(client, a1.users[persona], f"/api/v1/meetings/{m['id']}/attendance")
    meeting = await repo.row("meeting", world.tenant_a, m["id"])
    signers = await minutes_signers(meeting, await repo.attendance(world.tenant_a, m["id"]))
    assert [(s.kind, s.user_id) for s in signers] == [
        ("person", a1.user_ids["owners_committee:member"]),
        ("person", a1.user_ids["property_company:manager"]),
        ("person", a1.user_ids["residents_committee:admin"]),
        ("seal", None)]
    assert signers[-1].organization_id == a1.orgs["residents_committee"]
