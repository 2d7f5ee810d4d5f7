"""Spreadsheet text cells: formula injection neutralised, XML-illegal characters dropped."""
from __future__ import annotations

import io

import openpyxl

from core.spreadsheet import formula_safe, xlsx_text


def test_formula_starts_get_an_apostrophe_and_other_text_is_left_alone():
    for text in ("=1+1", "+86 138", "-5 号车位", "@SUM(A1)", "\tx", "\rx"):
        assert formula_safe(text) == "'" + text
    for text in ("3号楼电梯", "", "a=b", " =1"):
        assert formula_safe(text) == text


def test_every_control_character_xml_forbids_is_dropped_so_a_workbook_saves_and_reads_back():
    text = "".join(chr(c) for c in range(32)) + "楼道灯\u4e0d亮"
    book = openpyxl.Workbook()
    book.active.append([xlsx_text(text), xlsx_text("\x01=HYPERLINK(1)")])
    buf = io.BytesIO()
    book.save(buf)
    row = next(openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active.iter_rows(values_only=True))
    assert row[0] == "'\t\n\r楼道灯不亮"  # tab, LF and CR stay; it starts with a tab
    assert row[1] == "'=HYPERLINK(1)"
