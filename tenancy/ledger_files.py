"""Reading ledger spreadsheets: CSV (UTF-8, UTF-8 with BOM, GB18030, UTF-16) or XLSX.

The file type is told by content, never by name. The header row may sit below a title row;
columns are recognised by English or Chinese header; other columns are ignored. Row numbers
are the ones the spreadsheet shows, so users can find the rows an error report names.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import openpyxl

from core.i18n import gettext as _
from core.problems import AppError, Invalid

MAX_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a 10 MB zip may not expand into gigabytes
MAX_ROWS = 50_000
MAX_COLUMNS = 60
HEADER_SEARCH_ROWS = 10
MAX_AREA = Decimal(100000)
CENT = Decimal("0.01")

COLUMNS: dict[str, tuple[str, ...]] = {  # key -> accepted headers (lower case, no spaces)
    "building": ("building", "楼栋", "楼号"),
    "unit": ("unit", "房号", "房间号"),
    "floor": ("floor", "楼层"),
    "exclusive_area": ("exclusive_area", "专有面积"),
    "developer_unsold": ("developer_unsold", "开发商未售"),
    "owner_name": ("owner_name", "业主姓名"),
    "owner_phone": ("owner_phone", "业主电话"),
}
REQUIRED = ("building", "unit", "exclusive_area")
_HEADER_KEYS = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}
_YES, _NO = {"1", "true", "yes", "y", "是"}, {"0", "false", "no", "n", "否"}
_PHONE = re.compile(r"\+?[0-9]{7,19}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and other OLE2 files)


class UnsupportedFile(AppError):
    status = 415


class FileTooLarge(AppError):
    status = 413


class RowError(msgspec.Struct):
    row: int
    column: str
    message: str
    value: str


@dataclass
class Sheet:
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells), blank rows left out
    header_row: int = 0
    columns: dict[str, int] = field(default_factory=dict)  # key -> cell index
    headers: dict[str, str] = field(default_factory=dict)  # key -> header as written
    data_rows: int = 0


@dataclass
class LedgerRow:
    row: int
    building: str
    unit: str
    area: Decimal
    floor: int | None
    unsold: bool | None  # None: not given
    owner: tuple[str, str | None] | None  # (name, phone)


def row_error(sheet: Sheet, row: int, key: str, message: str, value: Any) -> RowError:
    return RowError(row=row, column=sheet.headers.get(key, key), message=message,
                    value=_text(value)[:100])


# --- reading --------------------------------------------------------------------------------
def read_sheet(content: bytes) -> Sheet:
    """The first sheet's non-blank rows; raises a 413/415/422 problem for unusable files."""
    if len(content) > MAX_BYTES:
        raise FileTooLarge(_("The file is larger than {limit} MB.").format(limit=MAX_BYTES >> 20))
    if not content.strip():
        raise Invalid(_("The file is empty."))
    if content.startswith(b"PK"):
        return Sheet(rows=_xlsx_rows(content))
    if content.startswith(_OLE_MAGIC):
        raise UnsupportedFile(_("Old Excel .xls files cannot be imported; save the sheet as "
                                ".xlsx or CSV (UTF-8)."))
    return Sheet(rows=_csv_rows(_decode(content)))


def _decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 as Chinese Excel writes it; binary is refused."""
    utf16 = content[:2] in (b"\xff\xfe", b"\xfe\xff")
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _CONTROL.search(text):
            return text
    raise UnsupportedFile(_("Only CSV and XLSX files can be imported."))


def _keep(rows: list, number: int, cells: list[Any]) -> None:
    if any(_text(c) for c in cells):
        rows.append((number, cells))
        if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise Invalid(_("The file has more than {limit} data rows.").format(limit=MAX_ROWS))


def _csv_rows(text: str) -> list[tuple[int, list[Any]]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""),
                                                  delimiter=delimiter), start=1):
            _keep(rows, number, cells[:MAX_COLUMNS])
    except csv.Error as exc:
        raise Invalid(_("The CSV file could not be read: {reason}").format(reason=exc)) from exc
    return rows


def _xlsx_rows(content: bytes) -> list[tuple[int, list[Any]]]:
    rows: list[tuple[int, list[Any]]] = []
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise FileTooLarge(_("The workbook is too large once unpacked."))
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            # read-only mode yields an empty row for every row missing from the file, so the
            # position is the spreadsheet's row number
            for number, cells in enumerate(book.worksheets[0].iter_rows(values_only=True),
                                           start=1):
                _keep(rows, number, list(cells[:MAX_COLUMNS]))
        finally:
            book.close()
    except AppError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign zip
        raise UnsupportedFile(_("The XLSX file could not be read.")) from exc
    return rows


# --- checking ---------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 101 and 13800000000 as floats
    return str(value).strip()


def _header_key(value: Any) -> str | None:
    text = re.sub(r"[(（].*?[)）]|[\s*＊]", "", _text(value).lower().replace(" ", "_"))
    return _HEADER_KEYS.get(text) or _HEADER_KEYS.get(text.strip("_"))


def locate_header(sheet: Sheet) -> list[RowError]:
    """Find the header row among the first rows and map the known columns."""
    for number, cells in sheet.rows[:HEADER_SEARCH_ROWS]:
        found = {i: key for i, c in enumerate(cells) if (key := _header_key(c))}
        if len(set(found.values())) < 2:
            continue
        sheet.header_row, errors = number, []
        for index, key in found.items():
            if key in sheet.columns:
                errors.append(RowError(number, _text(cells[index]),
                                       _("This column appears more than once."), _text(cells[index])))
            else:
                sheet.columns[key], sheet.headers[key] = index, _text(cells[index])
        errors += [RowError(number, key, _("This required column is missing."), "")
                   for key in REQUIRED if key not in sheet.columns]
        return errors
    raise Invalid(_("No header row was found: the first rows must name the columns "
                    "(building, unit, exclusive_area …)."))


def _parse_area(raw: Any) -> Decimal:
    text = re.sub(r"(㎡|m²|m2|平方米)$", "", _text(raw)).strip()
    try:
        area = Decimal(text)
        ok = area.is_finite() and 0 < area <= MAX_AREA and area == area.quantize(CENT)
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValueError
    return area.quantize(CENT)


def _parse_floor(raw: Any) -> int | None:
    text = _text(raw)
    if not text:
        return None
    floor = int(text)  # ValueError for "3F" or "3.5"
    if not -10 <= floor <= 300:
        raise ValueError
    return floor


def _parse_flag(raw: Any) -> bool | None:
    text = _text(raw).lower()
    if text in _YES or text in _NO:
        return text in _YES
    if text:
        raise ValueError
    return None


def _parse_phone(raw: Any) -> str | None:
    text = re.sub(r"[\s\-]", "", _text(raw))
    if text and not _PHONE.fullmatch(text):
        raise ValueError
    return text or None


def check_rows(sheet: Sheet) -> tuple[list[LedgerRow], list[RowError]]:
    """Every data row checked on its own; all problems are collected, not just the first."""
    errors = locate_header(sheet)
    data = [(n, cells) for n, cells in sheet.rows if n > sheet.header_row]
    sheet.data_rows = len(data)
    if len(data) > MAX_ROWS:
        raise Invalid(_("The file has more than {limit} data rows.").format(limit=MAX_ROWS))
    if errors:
        return [], errors
    if not data:
        raise Invalid(_("The file has no data rows below the header."))
    rows = [row for n, cells in data if (row := _check_row(sheet, n, cells, errors))]
    return rows, errors


def _check_row(sheet: Sheet, number: int, cells: list[Any], errors: list[RowError]) -> LedgerRow | None:
    before = len(errors)

    def cell(key: str) -> Any:
        index = sheet.columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def fail(key: str, message: str) -> None:
        errors.append(row_error(sheet, number, key, message, cell(key)))

    def parse(key: str, parser, message: str) -> Any:
        try:
            return parser(cell(key))
        except ValueError:
            fail(key, message)
            return None

    texts = {k: _text(cell(k)) for k in ("building", "unit", "owner_name")}
    for key, limit in (("building", 50), ("unit", 50), ("owner_name", 100)):
        if not texts[key] and key in REQUIRED:
            fail(key, _("A value is required."))
        elif len(texts[key]) > limit:
            fail(key, _("Too long: at most {limit} characters.").format(limit=limit))
    if not _text(cell("exclusive_area")):
        fail("exclusive_area", _("A value is required."))
        area = None
    else:
        area = parse("exclusive_area", _parse_area, _(
            "The exclusive area must be more than 0 and at most 100000 m², with at most two decimals."))
    floor = parse("floor", _parse_floor, _("The floor must be a whole number from -10 to 300."))
    unsold = parse("developer_unsold", _parse_flag, _("Write yes or no (是/否, true/false, 1/0)."))
    phone = parse("owner_phone", _parse_phone, _("The phone number must have 7 to 19 digits."))
    if phone and not texts["owner_name"]:
        fail("owner_name", _("A phone number needs the owner's name."))
    if len(errors) > before or area is None:
        return None
    owner = (texts["owner_name"], phone) if texts["owner_name"] else None
    return LedgerRow(number, texts["building"], texts["unit"], area, floor, unsold, owner)

