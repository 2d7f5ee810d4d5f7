"""The tenant's meeting rules: notice periods per kind, the 公示 period, who signs owners'
committee minutes, and the vote thresholds (exact fractions). Defaults follow DESIGN.md §4;
places whose rules differ change them (housing-bureau administrators)."""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from core import audit
from core.i18n import gettext as _
from core.problems import Forbidden, Invalid
from meetings import repository as repo
from meetings.schemas import SettingsOut
from meetings.voting import Threshold, Thresholds, parse_fraction
from tenancy.principal import Principal

FRACTIONS = ("participation", "ordinary", "special", "committee_decision")


def settings_out(row: dict) -> SettingsOut:
    return SettingsOut(**{f: row[f] for f in SettingsOut.__struct_fields__})


async def notice_days(tenant: int, kind: str) -> int:
    return (await repo.settings(tenant))[f"{kind}_notice_days"]


def thresholds_of(row: dict) -> Thresholds:
    return Thresholds(
        participation=Threshold(parse_fraction(row["participation"]), row["participation_strict"]),
        ordinary=Threshold(parse_fraction(row["ordinary"]), row["ordinary_strict"]),
        special=Threshold(parse_fraction(row["special"]), row["special_strict"]),
        committee=Threshold(parse_fraction(row["committee_decision"]), True))


async def thresholds(tenant: int) -> Thresholds:
    return thresholds_of(await repo.settings(tenant))


async def get_settings(p: Principal) -> SettingsOut:
    return settings_out(await repo.settings(p.tenant_id))


async def update_settings(p: Principal, changes: dict[str, Any]) -> SettingsOut:
    if not p.is_tenant_admin:
        raise Forbidden(_("Only the housing bureau's administrators may change the meeting rules."))
    for name in FRACTIONS:
        if name in changes:
            try:
                value = parse_fraction(changes[name])
            except (ValueError, ZeroDivisionError):
                message = _("Write a fraction above 0 and at most 1, such as 2/3.")
                raise Invalid(message, errors=[{"field": name, "message": message}]) from None
            changes[name] = f"{value.numerator}/{value.denominator}"
    merged = {**await repo.settings(p.tenant_id), **changes}
    if parse_fraction(merged["special"]) < parse_fraction(merged["ordinary"]):
        message = _("Special matters cannot need less approval than ordinary ones.")
        raise Invalid(message, errors=[{"field": "special", "message": message}])
    row = await repo.update_settings(p.tenant_id, changes) if changes else merged
    await audit.record(p.tenant_id, "meeting_settings.updated", subject_type="meeting_settings",
                       subject_id=p.tenant_id, actor_user_id=p.user_id, data=changes)
    return settings_out(row)


def fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"
