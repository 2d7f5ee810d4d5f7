"""Text cells for spreadsheets (CSV and XLSX exports of every domain).

Two hazards, handled once here:
- formula injection: a text cell that Excel or WPS would run as a formula (it starts with
  = + - @, a tab or CR) gets a leading apostrophe, for CSV and XLSX alike;
- XML: an XLSX is XML 1.0, which cannot carry most C0 control characters. openpyxl raises
  IllegalCharacterError on such a cell, and an export that has already sent its headers would
  break mid-body, so XLSX text drops them (the CSV keeps the stored text as it is).
"""
from __future__ import annotations

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def xlsx_text(value: str) -> str:
    """A text cell an XLSX can hold: no XML-illegal control characters, formula-safe."""
    return formula_safe(ILLEGAL_CHARACTERS_RE.sub("", value))
