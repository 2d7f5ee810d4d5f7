"""The queue's SLA countdown text (cases.page_util.sla_text), computed on the server."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from cases.page_util import sla_text
from core.i18n import reset_language, set_language

AT = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def _case(**kw):
    base = dict(status="assigned", paused=False, overdue=False, acknowledged_at=None,
                ack_due_at=AT + timedelta(hours=3, minutes=10), resolve_due_at=AT + timedelta(days=3))
    return SimpleNamespace(**{**base, **kw})


def _zh(case):
    token = set_language("zh-CN")
    try:
        return sla_text(case, AT)
    finally:
        reset_language(token)


def test_remaining_hours_until_acknowledgement() -> None:
    assert _zh(_case()) == ("剩余 3 小时", False)


def test_after_acknowledgement_the_resolution_deadline_counts_in_days() -> None:
    assert _zh(_case(acknowledged_at=AT)) == ("剩余 3 天", False)


def test_overdue_is_flagged() -> None:
    case = _case(ack_due_at=AT - timedelta(hours=2), overdue=True)
    assert _zh(case) == ("已超时 2 小时", True)


def test_paused_and_finished_cases() -> None:
    assert _zh(_case(paused=True)) == ("已暂停", False)
    assert _zh(_case(status="resolved")) == ("", False)
