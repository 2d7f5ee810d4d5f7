"""What the case pages share: the signed-in caller, estate names, local times, SLA countdown
text and the row shape of the case lists."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request
from litestar.response import Redirect

from cases import lifecycle
from cases.calendar import TZ
from cases.labels import CATEGORY_LABELS, PRIORITY_LABELS, STATUS_LABELS
from core.i18n import gettext as _, ngettext
from tenancy.principal import Principal

CATEGORIES = tuple(CATEGORY_LABELS)
PRIORITIES = ("normal", "urgent", "emergency")
MAX_PHOTOS_PER_FORM = 9


def user_of(request: Request) -> Principal | None:
    return request.scope.get("user")


def to_login(request: Request) -> Redirect:
    return Redirect(f"/login?next={request.url.path}")


def local(dt: datetime | None) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if dt else ""


def sla_text(case: Any, at: datetime) -> tuple[str, bool]:
    """("剩余 3 小时" / "已超时 2 小时", overdue) for an open case; ("", False) otherwise."""
    if case.status not in lifecycle.OPEN:
        return "", False
    if case.paused:
        return _("Paused"), False
    due = case.resolve_due_at if case.acknowledged_at else min(case.ack_due_at, case.resolve_due_at)
    seconds = (due - at).total_seconds()
    overdue = case.overdue or seconds < 0
    hours = int(abs(seconds) // 3600)
    if hours >= 48:
        span = ngettext("%(num)d day", "%(num)d days", hours // 24) % {"num": hours // 24}
    elif hours >= 1:
        span = ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours}
    else:
        minutes = max(1, int(abs(seconds) // 60))
        span = ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
    if overdue:
        return _("Overdue by %(span)s") % {"span": span}, True
    return _("%(span)s left") % {"span": span}, False


def row(case: Any, estates: dict[int, str], at: datetime) -> dict[str, Any]:
    text, overdue = sla_text(case, at)
    return {"case": case, "estate": estates.get(case.estate_id, ""), "sla": text,
            "overdue": overdue, "status_label": STATUS_LABELS.get(case.status, case.status),
            "category_label": CATEGORY_LABELS.get(case.category, case.category),
            "priority_label": PRIORITY_LABELS.get(case.priority, case.priority),
            "created": local(case.created_at)}


def is_resident(p: Principal) -> bool:
    return p.person_id is not None and not p.seats


async def photo_contents(files: list | None) -> list[bytes]:
    """The non-empty uploaded files of a form (browsers send an empty part when none is chosen)."""
    out = []
    for f in files or []:
        content = await f.read()
        if content:
            out.append(content)
    return out
