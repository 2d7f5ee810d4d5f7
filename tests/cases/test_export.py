"""CSV and XLSX exports of the case list: encoding, formula safety, masking, isolation, cap."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from urllib.parse import quote

import openpyxl

from cases import export
from core.db import fetch
from tests.cases.helpers import headers, report


def token() -> str:
    return f"X{uuid.uuid4().hex[:8]}"


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def xlsx_rows(content: bytes):
    book = openpyxl.load_workbook(io.BytesIO(content))
    return book.worksheets[0]


async def test_csv_is_excel_safe_masked_and_audited(client, world):
    tok = token()
    formula = await report(client, world, description="=1+1", location=f"{tok} 大堂")
    plain = await report(client, world, description="-5 号车位被占", location=f"{tok} 车库")
    h = await headers(client, world, "property_company:manager")
    r = await client.get("/api/v1/cases/export.csv", params={"q": tok}, headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    day = datetime.now(export.TZ).date().isoformat()
    assert f"filename*=UTF-8''{quote('工单导出')}-{day}.csv" in r.headers["content-disposition"]
    rows = csv_rows(r.content)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["工单编号", "受理时间", "状态"]
    assert len(body) == 2 and all(len(row) == len(header) for row in body)
    by_id = {int(row[0]): dict(zip(header, row)) for row in body}  # numbers are not prefixed
    assert by_id[formula["id"]]["问题描述"] == "'=1+1"
    assert by_id[plain["id"]]["问题描述"] == "'-5 号车位被占"
    assert by_id[formula["id"]]["状态"] == "待受理" and by_id[formula["id"]]["类别"] == "报修"
    assert by_id[formula["id"]]["反映人电话"] == "138****2222"
    assert "13811112222" not in r.text and world.a1.marker + "业主" not in r.text
    assert by_id[formula["id"]]["受理时间"][:4].isdigit()  # a date, not text with a prefix
    audit = await fetch("SELECT actor_user_id, data FROM audit_entry WHERE tenant_id = $1 AND"
                        " action = 'case.exported' ORDER BY seq DESC LIMIT 1", world.tenant_a)
    assert audit and '"rows": 2' in audit[0]["data"] and tok in audit[0]["data"]
    assert audit[0]["actor_user_id"] == world.a1.user_ids["property_company:manager"]


async def test_xlsx_has_the_same_rows_with_real_dates(client, world):
    tok = token()
    await report(client, world, description="=HYPERLINK(\"http://x\")", location=f"{tok} 门口")
    await report(client, world, description="3号楼电梯停运", location=f"{tok} 3号楼",
                 priority="urgent")
    h = await headers(client, world, "property_company:manager")
    from_csv = csv_rows((await client.get("/api/v1/cases/export.csv", params={"q": tok},
                                          headers=h)).content)
    r = await client.get("/api/v1/cases/export.xlsx", params={"q": tok}, headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(export.XLSX_TYPE)
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    sheet = xlsx_rows(r.content)
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows())
    assert all(c.font.bold for c in rows[0])
    values = [[c.value for c in row] for row in rows]
    assert values[0] == from_csv[0]
    assert isinstance(values[1][1], datetime) and isinstance(values[1][0], int)

    def text(v) -> str:
        if v is None:
            return ""
        return v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v)
    assert [[text(v) for v in row] for row in values[1:]] == from_csv[1:]
    descriptions = {c.value: c.data_type for row in rows[1:] for c in row[7:8]}
    assert descriptions["'=HYPERLINK(\"http://x\")"] == "s"
    assert "138****2222" in [row[9] for row in values[1:]]
    assert "13811112222" not in str(values)


async def test_exports_show_other_organisations_none_of_the_victims_cases(client, world):
    marker = world.a1.marker
    for side, persona in (("b", "bureau:admin"), ("a2", "property_company:admin"),
                          ("a2", "street_office:admin")):
        h = await headers(client, world, persona, side)
        r = await client.get("/api/v1/cases/export.csv", params={"q": marker}, headers=h)
        assert r.status_code == 200 and len(csv_rows(r.content)) == 1, (side, persona)
        r = await client.get("/api/v1/cases/export.csv", headers=h)
        assert marker not in r.text and "138****2222" not in r.text
        r = await client.get("/api/v1/cases/export.xlsx",
                             params={"estate_id": world.a1.estate}, headers=h)
        assert r.status_code == 200 and xlsx_rows(r.content).max_row == 1


async def test_too_large_an_export_is_refused(client, world, monkeypatch):
    h = await headers(client, world, "property_company:manager")
    monkeypatch.setattr(export, "MAX_ROWS", 1)
    for fmt in ("csv", "xlsx"):
        r = await client.get(f"/api/v1/cases/export.{fmt}", headers=h)
        assert r.status_code == 422, r.text
        assert "1" in r.json()["detail"]


async def test_xlsx_export_survives_control_characters_a_spreadsheet_cannot_hold(client, world):
    # XML 1.0 (and so XLSX) cannot carry most C0 control characters; a case whose text holds
    # one (a form or an API client may send it) must still export, with the character dropped,
    # and the CSV keeps the text as it was stored.
    tok = token()
    weird = await report(client, world, description="灯\x01不亮\x1b[0m\x0b", location=f"{tok}\x08 大堂")
    h = await headers(client, world, "property_company:manager")
    r = await client.get("/api/v1/cases/export.xlsx", params={"q": tok}, headers=h)
    assert r.status_code == 200, r.text
    values = [[c.value for c in row] for row in xlsx_rows(r.content).iter_rows()]
    assert len(values) == 2 and values[1][0] == weird["id"]
    assert values[1][7] == "灯不亮[0m" and values[1][6] == f"{tok} 大堂"
    rows = csv_rows((await client.get("/api/v1/cases/export.csv", params={"q": tok},
                                      headers=h)).content)
    assert rows[1][7] == "灯\x01不亮\x1b[0m\x0b"


async def test_a_refused_export_filter_leaves_no_transaction_or_connection_open(client, world):
    # The fuzzer found it: a filter refused after the request's transaction had started left
    # that transaction (and its pooled connection) open until garbage collection, so a run of
    # bad export requests exhausted the pool and the next ones hung.
    from core.db import db

    h = await headers(client, world, "bureau:admin")
    pool = db().pool
    for path in ("/api/v1/cases/export.xlsx", "/api/v1/cases/export.csv"):
        for bad in ({"overdue": "0.5"}, {"estate_id": "0"}, {"created_from": "2026-02-30"}):
            r = await client.get(path, params=bad, headers=h)
            assert r.status_code == 400, (path, bad, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert pool.get_idle_size() == pool.get_size(), (path, bad)
    r = await client.get("/api/v1/cases/export.xlsx", params={"overdue": "true"}, headers=h)
    assert r.status_code == 200 and pool.get_idle_size() == pool.get_size()
