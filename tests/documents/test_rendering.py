"""Rendering: the annual report's PDF is PDF/A-3b, its Chinese text extracts as text (pdftotext),
its charts are vector, its source data round-trips through the attachment, and the empty
signature fields sit exactly in the boxes the template reserved."""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest

from documents import pdfa, reports
from documents.report_data import to_source
from documents.report_gather import gather_contract_report
from documents.rendering import Header, page_footer_css, render_pdf


def pdftotext(pdf: bytes, *args: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        return subprocess.run(["pdftotext", *args, fh.name, "-"], check=True,
                              capture_output=True, text=True).stdout


def pdftool(tool: str, pdf: bytes, *args: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        return subprocess.run([tool, *args, fh.name], check=True, capture_output=True,
                              text=True).stdout


@pytest.fixture(scope="module")
async def rendered(world):
    year = date.today().year
    start, end = date(year, 1, 1), date(year, 12, 31)
    data = await gather_contract_report(world.tenant_a, world.a1.contract, start, end)
    signers = await reports.contract_report_signers(world.tenant_a, data)
    header = Header(title=reports.report_title(data.period), number="GZ-PJ-TEST-1", version=1,
                    issuer=data.bureau.name, issued_on=date.today(), verify_code="c0de",
                    subtitle=data.estate.name)
    out = render_pdf(reports.TEMPLATE_CONTRACT,
                     {"data": data, "charts": reports.case_charts(data.cases), "header": header,
                      "labels": reports.labels()},
                     signers=signers, attachments=reports.contract_attachments(data))
    return data, out


async def test_chinese_text_extracts_as_text_not_boxes(rendered):
    data, out = rendered
    text = pdftotext(out.pdf)
    for expected in ("年度物业服务评价报告", "尚未评价", data.estate.name, data.company.name,
                     "工单统计", "按月工单数量", "第1页", f"共{out.page_count}页", "GZ-PJ-TEST-1",
                     "扫码验证"):
        assert expected.replace(" ", "") in text.replace(" ", ""), expected
    assert "\ufffd" not in text and "□" not in text


async def test_the_pdf_is_pdf_a_3b_with_vector_charts(rendered):
    _data, out = rendered
    meta = pdftool("pdfinfo", out.pdf, "-meta")
    assert re.search(r'pdfaid:part(="|>)3', meta) and re.search(r'pdfaid:conformance(="|>)B', meta)
    assert pdftool("pdfimages", out.pdf, "-list").count("\n") <= 2  # header lines only: no raster
    fonts = pdftool("pdffonts", out.pdf)
    assert "Noto-Sans-CJK-SC" in fonts and "Noto-Serif-CJK-SC" in fonts
    embedded = [line.split()[-5] for line in fonts.splitlines()[2:]]
    assert embedded and all(e == "yes" for e in embedded)  # every font embedded (PDF/A)


async def test_the_attached_source_data_round_trips_to_the_same_json(rendered):
    data, out = rendered
    files = pdfa.read_attachments(out.pdf)
    assert json.loads(files["source.json"]) == json.loads(pdfa.canonical_json(to_source(data)))
    assert files["cases_by_month.csv"].startswith("\ufeffmonth,cases\r\n".encode())
    assert len(files["cases_by_month.csv"].decode("utf-8-sig").splitlines()) == 13


async def test_signature_fields_are_created_in_the_reserved_boxes(rendered):
    _data, out = rendered
    names = [s.field_name for s in out.signers]
    assert names == ["sig_owners_committee", "sig_residents_committee", "sig_street_office",
                     "seal_bureau"]
    assert pdfa.signature_field_names(out.pdf) == names
    for s in out.signers:
        assert s.box is not None and 0 <= s.box.page < out.page_count
        width, height = s.box.x2 - s.box.x1, s.box.y2 - s.box.y1
        if s.kind == "seal":
            assert abs(width - 119) < 2 and abs(height - 119) < 2  # 42 mm square
        else:
            assert abs(width - 198.4) < 2 and abs(height - 79.4) < 2  # 70 x 28 mm
        assert 0 < s.box.x1 < s.box.x2 < 595.3 and 0 < s.box.y1 < s.box.y2 < 841.9
    assert "not signed" in pdftool("pdfsig", out.pdf)


def test_the_footer_is_translated_and_uses_page_counters():
    assert str(page_footer_css("zh-CN")) == '"第 " counter(page) " 页 / 共 " counter(pages) " 页"'
    assert str(page_footer_css("en")) == '"Page " counter(page) " of " counter(pages)'
