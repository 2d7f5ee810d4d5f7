"""Ledger import: CSV/XLSX ledgers of buildings, units and owners, all or nothing."""
from __future__ import annotations

import io
import json
import secrets
import time
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from core.db import fetch
from tenancy.ledger_files import check_rows, read_sheet
from tests.factories import login

ZH = ["楼栋", "房号", "楼层", "专有面积", "开发商未售", "业主姓名", "业主电话"]
EN = ["building", "unit", "floor", "exclusive_area", "developer_unsold", "owner_name", "owner_phone"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def tag() -> str:
    return secrets.token_hex(3)


def phone() -> str:
    return "139" + "".join(secrets.choice("0123456789") for _ in range(8))


def csv_file(rows, header=ZH, *, bom=True, encoding="utf-8") -> bytes:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def xlsx_file(rows, header=EN, title=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for r in rows:
        sheet.append(list(r))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


async def upload(client, headers, estate, content, *, name="ledger.csv", dry_run=False):
    return await client.post(f"/api/v1/estates/{estate}/ledger-imports", headers=headers,
                             files={"file": (name, content, "application/octet-stream")},
                             data={"dry_run": "true"} if dry_run else {})


async def ledger_counts(estate: int, tenant: int) -> tuple[int, ...]:
    r = (await fetch(
        "SELECT (SELECT count(*) FROM building WHERE estate = $1) AS b,"
        " (SELECT count(*) FROM unit WHERE estate = $1) AS u,"
        " (SELECT count(*) FROM ownership WHERE estate = $1) AS o,"
        " (SELECT count(*) FROM person WHERE tenant = $2) AS p,"
        " (SELECT count(*) FROM audit_entry WHERE tenant_id = $2) AS a", estate, tenant))[0]
    return r["b"], r["u"], r["o"], r["p"], r["a"]


async def buildings(client, h, estate) -> dict[str, int]:
    r = await client.get(f"/api/v1/estates/{estate}/buildings?limit=500", headers=h)
    assert r.status_code == 200, r.text
    return {b["name"]: b["id"] for b in r.json()}


async def units(client, h, building) -> dict[str, dict]:
    r = await client.get(f"/api/v1/buildings/{building}/units?limit=500", headers=h)
    assert r.status_code == 200, r.text
    return {u["number"]: u for u in r.json()}


async def owners(client, h, unit) -> list[dict]:
    r = await client.get(f"/api/v1/units/{unit}/owners", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def counts(report: dict) -> tuple[int, ...]:
    return tuple(report[k] for k in ("rows", "buildings_created", "units_created", "units_updated",
                                     "persons_created", "ownerships_created"))


async def test_csv_with_bom_and_chinese_headers_imports_buildings_units_and_owners(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    t, tel = tag(), phone()
    content = csv_file([(f"{t}-A", "101", 1, "88.5", "否", f"张{t}", tel),
                        (f"{t}-A", "102", 1, "90.25", "", "", ""),
                        (f"{t}-B", "201", 2, "100", "是", "", "")])
    r = await upload(client, h, world.a1.estate, content)
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (3, 2, 3, 0, 1, 1) and r.json()["dry_run"] is False
    assert "errors" not in r.json()
    [entry] = await fetch("SELECT action, subject_id, data FROM audit_entry WHERE tenant_id = $1"
                          " ORDER BY seq DESC LIMIT 1", world.tenant_a)
    assert (entry["action"], entry["subject_id"]) == ("ledger.imported", str(world.a1.estate))
    data = json.loads(entry["data"]) if isinstance(entry["data"], str) else entry["data"]
    assert (data["units_created"], data["ownerships_created"], data["dry_run"]) == (3, 1, False)
    names = await buildings(client, h, world.a1.estate)
    a, b = await units(client, h, names[f"{t}-A"]), await units(client, h, names[f"{t}-B"])
    assert sorted(a) == ["101", "102"] and list(b) == ["201"]
    assert Decimal(a["101"]["exclusive_area"]) == Decimal("88.50") and a["101"]["floor"] == 1
    assert Decimal(a["102"]["exclusive_area"]) == Decimal("90.25")
    assert b["201"]["developer_unsold"] is True and a["101"]["developer_unsold"] is False
    [own] = await owners(client, h, a["101"]["id"])
    assert own["person"]["name"] == "张******" and own["person"]["phone"].endswith(tel[-4:])
    assert await owners(client, h, a["102"]["id"]) == []


async def test_xlsx_import_with_title_row_and_numeric_cells(client, world):
    h = await login(client, world.a1.users["residents_committee:admin"])
    t, tel = tag(), phone()
    content = xlsx_file([(f"{t}-X", 301, 3, 120.75, False, f"Wang {t}", int(tel)),
                         (f"{t}-X", 302, 3.0, 95, True, None, None)],
                        header=["Building", "Unit", "Floor", "Exclusive area (m²)",
                                "Developer unsold", "Owner name", "Owner phone"],
                        title="Estate ledger 2026")
    r = await upload(client, h, world.a1.estate, content, name="ledger.xlsx")
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (2, 1, 2, 0, 1, 1)
    got = await units(client, h, (await buildings(client, h, world.a1.estate))[f"{t}-X"])
    assert Decimal(got["301"]["exclusive_area"]) == Decimal("120.75") and got["301"]["floor"] == 3
    assert got["302"]["developer_unsold"] is True and got["302"]["floor"] == 3
    [own] = await owners(client, h, got["301"]["id"])
    assert own["person"]["phone"].endswith(tel[-4:])


async def test_co_owners_on_two_rows_share_one_unit(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    t = tag()
    rows = [(f"{t}-C", "501", 5, "130.00", "", f"李{t}", phone()),
            (f"{t}-C", "501", "", "130", "", f"赵{t}", phone())]
    r = await upload(client, h, world.a1.estate, csv_file(rows))
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (2, 1, 1, 0, 2, 2)
    unit = (await units(client, h, (await buildings(client, h, world.a1.estate))[f"{t}-C"]))["501"]
    assert len(await owners(client, h, unit["id"])) == 2

    clash = [(f"{t}-D", "601", 6, "80", "", f"甲{t}", ""), (f"{t}-D", "601", 6, "81", "", f"乙{t}", "")]
    r = await upload(client, h, world.a1.estate, csv_file(clash))
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(3, "专有面积")]


async def test_one_bad_row_among_many_rejects_the_whole_file(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    t = tag()
    existing = (await fetch("SELECT name FROM building WHERE id = $1", world.a1.building))[0]["name"]
    rows = [(f"{t}-M{i // 50}", str(1000 + i), i // 10, "66.6", "", f"业主{t}{i}", phone())
            for i in range(300)]
    rows[137] = (f"{t}-M2", "9999", 1, "abc", "", "", "")
    rows.append((existing, f"{t}-NEW", 1, "70", "", f"新{t}", phone()))
    before = await ledger_counts(world.a1.estate, world.tenant_a)
    r = await upload(client, h, world.a1.estate, csv_file(rows))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["error_count"] == 1 and body["rows"] == 301
    assert body["errors"] == [{"row": 139, "column": "专有面积", "value": "abc",
                               "message": body["errors"][0]["message"]}]
    assert await ledger_counts(world.a1.estate, world.tenant_a) == before
    assert f"{t}-NEW" not in await units(client, h, world.a1.building)


async def test_unsold_unit_with_an_owner_is_rejected(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    t = tag()
    rows = [(f"{t}-U", "101", 1, "50", "是", f"钱{t}", phone())]
    r = await upload(client, h, world.a1.estate, csv_file(rows))
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(2, "业主姓名")]


async def test_dry_run_reports_the_counts_and_writes_nothing(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    t = tag()
    content = csv_file([(f"{t}-D", str(n), 1, "77.7", "", f"孙{t}{n}", phone()) for n in range(4)])
    before = await ledger_counts(world.a1.estate, world.tenant_a)
    r = await upload(client, h, world.a1.estate, content, dry_run=True)
    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] is True and counts(r.json()) == (4, 1, 4, 0, 4, 4)
    assert await ledger_counts(world.a1.estate, world.tenant_a) == before
    r = await upload(client, h, world.a1.estate, content)
    assert r.json()["dry_run"] is False and counts(r.json()) == (4, 1, 4, 0, 4, 4)


async def test_reimporting_the_same_file_creates_nothing_new(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    t, tel = tag(), phone()
    rows = [(f"{t}-R", "101", 1, "60", "", f"周{t}", tel), (f"{t}-R", "101", 1, "60", "", f"吴{t}", None),
            (f"{t}-R", "102", 1, "61", "是", None, None)]
    assert counts((await upload(client, h, world.a1.estate, csv_file(rows))).json()) == (3, 1, 2, 0, 2, 2)
    before = await ledger_counts(world.a1.estate, world.tenant_a)
    r = await upload(client, h, world.a1.estate, csv_file(rows))
    assert counts(r.json()) == (3, 0, 0, 0, 0, 0)
    assert await ledger_counts(world.a1.estate, world.tenant_a) == (*before[:4], before[4] + 1)
    rows[2] = (f"{t}-R", "102", 2, "61.5", "", None, None)  # corrected area and floor
    assert counts((await upload(client, h, world.a1.estate, csv_file(rows))).json()) == (3, 0, 0, 1, 0, 0)


async def test_files_that_are_not_csv_or_xlsx_are_refused(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    r = await upload(client, h, world.a1.estate, png, name="ledger.csv")
    assert r.status_code == 415 and r.json()["type"] == "/problems/unsupported-media-type"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    assert (await upload(client, h, world.a1.estate, buf.getvalue(), name="x.xlsx")).status_code == 415
    assert (await upload(client, h, world.a1.estate, b"\xd0\xcf\x11\xe0" + bytes(600))).status_code == 415
    assert (await upload(client, h, world.a1.estate, b"")).status_code == 422
    too_big = csv_file([("A", "1", 1, "1", "", "x" * 100, "")] * 120_000)
    assert len(too_big) > 10 * 1024 * 1024
    assert (await upload(client, h, world.a1.estate, too_big)).status_code == 413


@pytest.mark.parametrize("persona", ["b/bureau:admin", "a2/owners_committee:admin"])
async def test_other_tenants_and_unrelated_organisations_cannot_import(client, world, persona):
    h = await login(client, world.users[persona])
    content = csv_file([(f"{tag()}-Z", "101", 1, "50", "", "入侵者", phone())])
    before = await ledger_counts(world.a1.estate, world.tenant_a)
    r = await upload(client, h, world.a1.estate, content)
    assert r.status_code in (403, 404)
    assert await ledger_counts(world.a1.estate, world.tenant_a) == before


async def test_owners_committee_member_may_not_import(client, world):
    h = await login(client, world.a1.users["owners_committee:member"])
    r = await upload(client, h, world.a1.estate, csv_file([(f"{tag()}-Z", "1", 1, "50", "", "", "")]))
    assert r.status_code == 403


async def test_template_is_a_valid_ledger_with_chinese_headers(client, world):
    assert (await client.get("/api/v1/ledger-imports/template.xlsx")).status_code == 401
    h = await login(client, world.a1.users["owners_committee:member"])
    r = await client.get("/api/v1/ledger-imports/template.xlsx", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX)
    sheet = read_sheet(r.content)
    assert sheet.rows[0][1] == ZH
    rows, errors = check_rows(sheet)
    assert len(rows) == 2 and errors == []


def test_parser_reads_gb18030_csv():
    content = csv_file([("一号楼", "101", 1, "88.5", "否", "欧阳娜娜", "0571-8888 8888")],
                       header=["楼栋（必填）", "房号", "楼层", "专有面积（㎡）", "开发商未售", "业主姓名",
                               "业主电话"], bom=False, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    [row], errors = check_rows(read_sheet(content))
    assert errors == []
    assert (row.row, row.building, row.unit, row.area, row.floor, row.unsold, row.owner) == (
        2, "一号楼", "101", Decimal("88.50"), 1, False, ("欧阳娜娜", "057188888888"))



def test_parser_reports_missing_and_repeated_columns_on_the_header_row():
    content = csv_file([("1号楼", "101", "1")], header=["小区台账"], bom=True)
    content += "楼栋,房号,building\r\n1号楼,101,x\r\n".encode()
    rows, errors = check_rows(read_sheet(content))
    assert rows == []
    assert sorted((e.row, e.column) for e in errors) == [(3, "building"), (3, "exclusive_area")]

async def test_five_thousand_rows_import_in_a_few_seconds(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    t = tag()
    rows = [(f"{t}-P{i // 200}", str(i), i % 30, "88.88", "", f"业主{t}{i}", phone())
            for i in range(5000)]
    started = time.perf_counter()
    r = await upload(client, h, world.a1.estate, csv_file(rows))
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (5000, 25, 5000, 0, 5000, 5000)
    assert elapsed < 10, elapsed


async def test_owners_are_matched_only_among_people_the_importer_can_already_see(client, world):
    """A dry run must not reveal whether a name and phone exist in someone else's estate."""
    victim = (f"{world.a1.marker}业主", "13811112222")  # owns a unit in street 1's estate
    content = csv_file([(f"{tag()}-M", "1", 1, "70", "", victim[0], victim[1])])
    outsider = await login(client, world.a2.users["residents_committee:admin"])
    r = await upload(client, outsider, world.a2.estate, content, dry_run=True)
    assert r.status_code == 200, r.text
    assert r.json()["persons_created"] == 1  # not matched: a new person would be created

    bureau = await login(client, world.a1.users["bureau:admin"])  # sees the whole tenant
    r = await upload(client, bureau, world.a2.estate, content, dry_run=True)
    assert r.json()["persons_created"] == 0
