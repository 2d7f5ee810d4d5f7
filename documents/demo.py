"""Demo data of the documents package (called by `gongzhi demo` inside its transaction, after
contracts and evaluations exist): last year's annual assessment report of the district's first
contract (翠湖花园), rendered and registered now, open for signing by the owners' committee chair
(`oc.chair`), the residents' committee director (`rc`), the street office (`street`) and then the
bureau's seal (`bureau`). Campaign ZIPs are made from the bureau's download page."""
from __future__ import annotations

from datetime import date

from core import i18n
from core.db import fetch
from documents import reports


async def seed_demo(tenant: int) -> None:
    rows = await fetch("SELECT id FROM service_contract WHERE tenant = $1 AND status <> 'draft'"
                       " ORDER BY id LIMIT 1", tenant)
    if not rows:
        return
    year = date.today().year - 1
    token = i18n.set_language("zh-CN")
    try:
        await reports.produce_contract_report(
            tenant, rows[0]["id"], date(year, 1, 1), date(year, 12, 31),
            job_key=f"demo:{tenant}:annual:{rows[0]['id']}:{year}")
    finally:
        i18n.reset_language(token)
