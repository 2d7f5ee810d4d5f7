"""Meetings API: scheduling, invitations (.ics), agenda notes, attendance and the tenant's
meeting rules."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import HeaderParameter, Parameter

from meetings import attendance, calendar, meeting_service, settings_service
from meetings.schemas import (
    AgendaItemOut,
    AgendaNotesIn,
    AttendanceIn,
    AttendanceOut,
    Kind,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    SettingsOut,
    SettingsPatch,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
Limit = Annotated[int, Parameter(ge=1, le=500)]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000)]
IfMatch = Annotated[str | None, HeaderParameter(
    name="If-Match", required=False, description="The ETag from GET; a stale one gets 412")]
ICS = "text/calendar; charset=utf-8"


def changes(body: msgspec.Struct) -> dict:
    return {f: v for f in body.__struct_fields__ if (v := getattr(body, f)) is not msgspec.UNSET}


def with_etag(out: MeetingOut) -> Response[MeetingOut]:
    return Response(out, headers={"ETag": f'"m{out.id}v{out.version}"'})


class MeetingController(Controller):
    path = "/api/v1/meetings"
    guards = [authenticated]
    tags = ["meetings"]

    @get("", summary="Meetings you convene, are invited to or oversee (the calendar)")
    async def list_meetings(self, request: Req, starts_from: datetime | None = None,
                            starts_to: datetime | None = None, estate_id: int | None = None,
                            kind: Kind | None = None, limit: Limit = 100,
                            offset: Offset = 0) -> list[MeetingOut]:
        return await meeting_service.list_meetings(
            request.user, starts_from=starts_from, starts_to=starts_to, estate_id=estate_id,
            kind=kind, limit=limit, offset=offset)

    @post("", summary="Schedule a meeting (joint: residents' committee or street office; owners' "
                      "committee meeting or assembly: the owners' committee). Less notice than "
                      "the tenant's rule needs short_notice_reason and is flagged")
    async def create_meeting(self, request: Req, data: MeetingIn, tx: object) -> MeetingOut:
        return await meeting_service.create_meeting(request.user, data)

    @get("/{meeting_id:int}")
    async def get_meeting(self, request: Req, meeting_id: int, tx: object) -> Response[MeetingOut]:
        return with_etag(await meeting_service.get_meeting(request.user, meeting_id))

    @patch("/{meeting_id:int}", summary="Reschedule or edit a meeting that has not started "
                                        "(If-Match: its ETag)")
    async def update_meeting(self, request: Req, meeting_id: int, data: MeetingPatch, tx: object,
                             if_match: IfMatch = None) -> Response[MeetingOut]:
        return with_etag(await meeting_service.update_meeting(request.user, meeting_id,
                                                              changes(data), if_match))

    @post("/{meeting_id:int}/start", status_code=200)
    async def start(self, request: Req, meeting_id: int, tx: object) -> MeetingOut:
        return await meeting_service.transition(request.user, meeting_id, "start")

    @post("/{meeting_id:int}/end", status_code=200)
    async def end(self, request: Req, meeting_id: int, tx: object) -> MeetingOut:
        return await meeting_service.transition(request.user, meeting_id, "end")

    @post("/{meeting_id:int}/cancel", status_code=200)
    async def cancel(self, request: Req, meeting_id: int, tx: object) -> MeetingOut:
        return await meeting_service.transition(request.user, meeting_id, "cancel")

    @get("/{meeting_id:int}/invitation.ics", summary="The invitation as an iCalendar file",
         media_type=ICS)
    async def invitation(self, request: Req, meeting_id: int, tx: object) -> Response[bytes]:
        body = await calendar.invitation(request.user, meeting_id)
        return Response(body, media_type=ICS, headers={
            "Content-Disposition": f'attachment; filename="meeting-{meeting_id}.ics"'})

    @put("/{meeting_id:int}/agenda/{agenda_item_id:int}/notes", summary="Discussion notes")
    async def agenda_notes(self, request: Req, meeting_id: int, agenda_item_id: int,
                           data: AgendaNotesIn, tx: object) -> AgendaItemOut:
        return await meeting_service.set_agenda_notes(request.user, meeting_id, agenda_item_id,
                                                      data.notes)

    @get("/{meeting_id:int}/attendance", summary="Who signed in, and the live quorum")
    async def get_attendance(self, request: Req, meeting_id: int, tx: object) -> AttendanceOut:
        return await attendance.get_attendance(request.user, meeting_id)

    @post("/{meeting_id:int}/attendance", status_code=200,
          summary="Sign in (yourself, or the secretary records user_id); proxies are refused")
    async def sign_in(self, request: Req, meeting_id: int, data: AttendanceIn,
                      tx: object) -> AttendanceOut:
        return await attendance.sign_in(request.user, meeting_id, data)


class MeetingSettingsController(Controller):
    path = "/api/v1/meeting-settings"
    guards = [authenticated]
    tags = ["meetings"]

    @get("", summary="The tenant's meeting rules: notice periods, 公示 period, signers, thresholds")
    async def get_settings(self, request: Req, tx: object) -> SettingsOut:
        return await settings_service.get_settings(request.user)

    @patch("", summary="Change the meeting rules (housing-bureau administrators)")
    async def update_settings(self, request: Req, data: SettingsPatch, tx: object) -> SettingsOut:
        return await settings_service.update_settings(request.user, changes(data))
