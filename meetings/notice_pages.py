"""Web pages for owners: the estate's public notices (公示) with their download, and the
voting page for the owners' assembly (made for a phone)."""
from __future__ import annotations

from litestar import Request, get
from markupsafe import Markup
from litestar.response import Redirect, Response, Stream, Template

from meetings import meeting_service, notice_service, vote_service
from meetings import repository as repo
from meetings.pages import _labels, _login, _user, local
from meetings.minutes_controllers import notice_download_response
from meetings.printing import record_html


@get("/notices", include_in_schema=False)
async def notices_page(request: Request, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    notices = await notice_service.list_notices(p, estate_id=None, current_only=True)
    estates = {e: await repo.estate_name(p.tenant_id, e) for e in {n.estate_id for n in notices}}
    return Template("meetings/notices.html", context={
        "me": p, "notices": notices, "estates": estates, **_labels()})


@get("/notices/{notice_id:int}", include_in_schema=False)
async def notice_page(request: Request, notice_id: int, tx: object) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    notice = await notice_service.get_notice(p, notice_id)
    return Template("meetings/notice.html", context={
        "me": p, "notice": notice, "record": Markup(record_html(notice.content)), **_labels()})


@get("/notices/{notice_id:int}/download", include_in_schema=False)
async def notice_download(request: Request, notice_id: int,
                          tx: object) -> Response | Stream | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    return await notice_download_response(p, notice_id)


@get("/vote", include_in_schema=False)
async def vote_page(request: Request, tx: object) -> Template | Redirect:
    """Open votes the caller may cast: owners' assembly resolutions of their estates, and the
    resolutions of meetings they attend."""
    p = _user(request)
    if p is None:
        return _login(request)
    at = meeting_service.now()
    meetings = await meeting_service.list_meetings(p, starts_from=None, starts_to=None,
                                                   estate_id=None, kind=None, limit=200, offset=0)
    items = []
    for m in meetings:
        if m.status == "cancelled" or m.ends_at < at:
            continue
        row = await meeting_service.visible(p, m.id)
        if not await vote_service.my_keys(p, row):
            continue
        for r in await vote_service.list_resolutions(p, m.id):
            if r.status == "open":
                items.append((m, r))
    return Template("meetings/vote.html", context={"me": p, "items": items, "local": local,
                                                   **_labels()})


PAGES = [notices_page, notice_page, notice_download, vote_page]
