"""Exports of a campaign's results: CSV (BOM, CRLF, formula cells neutralised), XLSX with the
data dictionary sheet, JSON in the documented layout; the bureau only; audited."""
from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from core.db import db, fetch
from evaluations.export import COLUMNS, COMPANY_COLUMNS, FORMAT, FORMAT_VERSION
from tests.evaluations import results_world


@pytest.fixture(scope="module")
async def r(client):
    r = await results_world.build()
    async with db().transaction():
        await fetch("UPDATE organization SET name = '=HYPERLINK(\"http://x\")' WHERE id = $1",
                    r.orgs["p2"])
    resp = await client.post(f"/api/v1/evaluation-campaigns/{r.campaign}/results/compute",
                             headers=await r.h(client, "bureau"))
    assert resp.status_code == 200, resp.text
    return r


def export_url(r, fmt: str) -> str:
    return f"/api/v1/evaluation-campaigns/{r.campaign}/results/export?format={fmt}"


async def test_csv_has_a_bom_stable_keys_and_no_live_formulas(client, r):
    resp = await client.get(export_url(r, "csv"), headers=await r.h(client, "bureau_staff"))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    body = resp.content
    assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert list(rows[0]) == [c[0] for c in COLUMNS]
    by_estate = {int(x["estate_id"]): x for x in rows}
    e1, e3 = by_estate[r.estates["E1"]], by_estate[r.estates["E3"]]
    assert (e1["total_score"], e1["grade"], e1["rank"], e1["held"]) == ("85.75", "good", "1", "false")
    assert e1["score_owners_survey"] == "87.5" and e1["score_bureau_inspection"] == ""
    assert e1["case_count"] == "1" and e1["on_time_ack_rate"] == "1.0"
    assert e3["company_name"].startswith("'=")


async def test_xlsx_has_results_companies_and_the_data_dictionary(client, r):
    resp = await client.get(export_url(r, "xlsx"), headers=await r.h(client, "bureau"))
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["Results", "Companies", "Data dictionary"]
    results = list(wb["Results"].iter_rows(values_only=True))
    assert list(results[0]) == [c[0] for c in COLUMNS] and len(results) == 4
    assert wb["Results"]["A1"].font.bold
    companies = list(wb["Companies"].iter_rows(values_only=True))
    assert companies[0][0] == "company_id" and len(companies) == 3
    dictionary = list(wb["Data dictionary"].iter_rows(values_only=True))
    assert len(dictionary) == 1 + len(COLUMNS) + len(COMPANY_COLUMNS)
    assert ("Results", "total_score", "Total score", "decimal") == dictionary[10][:4]
    zh = await client.get(export_url(r, "xlsx"), headers={**await r.h(client, "bureau"),
                                                           "Accept-Language": "zh-CN"})
    assert load_workbook(io.BytesIO(zh.content)).sheetnames == ["评价结果", "企业汇总", "数据字典"]


async def test_json_layout(client, r):
    resp = await client.get(export_url(r, "json"), headers=await r.h(client, "bureau"))
    assert resp.status_code == 200
    doc = json.loads(resp.content)
    assert (doc["format"], doc["format_version"]) == (FORMAT, FORMAT_VERSION)
    assert doc["campaign"]["id"] == r.campaign and doc["campaign"]["grade_bands"][0]["grade"] == "excellent"
    assert len(doc["assessments"]) == 3 and len(doc["companies"]) == 2
    first = doc["assessments"][0]
    assert list(first) == [c[0] for c in COLUMNS] + ["components"]
    assert first["total_score"] == 85.75 and first["held"] is False
    assert first["components"]["kinds"]["objective_metrics"]["metrics"]["case_count"] == 1
    exported = await fetch("SELECT count(*) AS n FROM audit_entry WHERE tenant_id = $1 AND action"
                           " = 'evaluation.results_exported'", r.tenant)
    assert exported[0]["n"] >= 3


@pytest.mark.parametrize("persona", ["p1", "oc1", "rc", "p9"])
async def test_only_the_bureau_exports(client, r, persona):
    resp = await client.get(export_url(r, "csv"), headers=await r.h(client, persona))
    assert resp.status_code in (403, 404)
