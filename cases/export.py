"""CSV and XLSX exports of the filtered case list.

Exports leave the platform for other organisations, so the reporter's name and phone are
always masked (PIPL, DESIGN.md §4). Rows are read in keyset batches and written as they come:
CSV is streamed, XLSX goes through openpyxl's write-only mode into a spooled temporary file.
CSV is UTF-8 with a BOM (Excel) and CRLF; a text cell that a spreadsheet would take for a
formula (= + - @, tab, CR) gets a leading apostrophe, and XLSX text drops the control
characters XML cannot carry (core.spreadsheet). Numbers and dates are left alone. The XLSX is
built whole before the response starts, so a failure is a problem document, never a body cut
off after a 200.
Every export is audited (who, filters, row count) before its first byte is sent.
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from cases import search
from cases.calendar import TZ
from cases.case_service import is_overdue, scope_for
from cases.case_util import now
from cases.labels import CATEGORY_LABELS, PRIORITY_LABELS, STATUS_LABELS
from core import audit
from core.i18n import N_, current_language, gettext
from core.i18n import gettext as _
from core.problems import Invalid
from core.spreadsheet import formula_safe
from core.spreadsheet import xlsx_text
from tenancy.masking import mask_name, mask_phone
from tenancy.principal import Principal

MAX_ROWS = 100_000
BATCH = 1000
DATE_FORMAT = "yyyy-mm-dd hh:mm"
CSV_TYPE = "text/csv; charset=utf-8"
YES, NO, SHEET = N_("Yes"), N_("No"), N_("Cases")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def local(value: datetime | None) -> datetime | None:
    """Asia/Shanghai wall time without tzinfo (spreadsheets know no time zones)."""
    return value.astimezone(TZ).replace(tzinfo=None, microsecond=0) if value else None


# (msgid of the header, cell of a row: str for text, int, datetime or None)
def _columns(lang: str) -> list[tuple[str, Callable[[dict, datetime], Any]]]:
    def label(labels: dict[str, str], key: str) -> str:
        return gettext(labels[key], lang) if key in labels else key
    return [
        (N_("Case number"), lambda c, at: c["id"]),
        (N_("Created at"), lambda c, at: local(c["created_at"])),
        (N_("Status"), lambda c, at: label(STATUS_LABELS, c["status"])),
        (N_("Category"), lambda c, at: label(CATEGORY_LABELS, c["category"])),
        (N_("Priority"), lambda c, at: label(PRIORITY_LABELS, c["priority"])),
        (N_("Estate number"), lambda c, at: c["estate"]),
        (N_("Location"), lambda c, at: c["location"]),
        (N_("Description"), lambda c, at: c["description"]),
        (N_("Reporter"), lambda c, at: mask_name(c["reporter_name"]) or ""),
        (N_("Reporter phone"), lambda c, at: mask_phone(c["reporter_phone"]) or ""),
        (N_("Responsible organisation number"), lambda c, at: c["responsible_org"]),
        (N_("Acknowledge by"), lambda c, at: local(c["ack_due_at"])),
        (N_("Resolve by"), lambda c, at: local(c["resolve_due_at"])),
        (N_("Overdue"), lambda c, at: gettext(YES if is_overdue(c, at) else NO, lang)),
        (N_("Resolved at"), lambda c, at: local(c["resolved_at"])),
        (N_("Rating"), lambda c, at: c["rating"]),
    ]


def row_values(columns, case: dict, at: datetime) -> list[Any]:
    values = [cell(case, at) for _msgid, cell in columns]
    return [formula_safe(v) if isinstance(v, str) else v for v in values]


def file_name(extension: str) -> tuple[str, str]:
    """(ASCII fallback, Content-Disposition header value with the RFC 5987 UTF-8 name)."""
    day = datetime.now(TZ).date().isoformat()
    label = _("Case export")
    name = f"{label}-{day}.{extension}"
    ascii_name = f"cases-{day}.{extension}"
    return name, f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


async def start_export(p: Principal, filters: search.Filters, fmt: str) -> AsyncIterator[bytes]:
    """Check the size, audit the export, and return the file's byte stream."""
    scope = scope_for(p)
    rows = await search.count(scope, filters, limit=MAX_ROWS)
    if rows > MAX_ROWS:
        raise Invalid(_("The export would have more than {limit} rows; narrow the filters (for "
                        "example the date range).").format(limit=f"{MAX_ROWS:,}"))
    await audit.record(p.tenant_id, "case.exported", subject_type="case_export",
                       actor_user_id=p.user_id,
                       data={"format": fmt, "filters": filters.described(), "rows": rows})
    lang = current_language()
    batches = search.batches(scope, filters, size=BATCH, cap=MAX_ROWS)
    if fmt == "csv":
        return _csv(batches, _columns(lang), lang)
    return _chunks(await _xlsx(batches, _columns(lang), lang))


async def _csv(batches: AsyncIterator[list[dict]], columns, lang: str) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow([gettext(msgid, lang) for msgid, _cell in columns])
    yield b"\xef\xbb\xbf" + flush()
    at = now()
    async for batch in batches:
        for case in batch:
            writer.writerow(["" if v is None else
                             v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v
                             for v in row_values(columns, case, at)])
        yield flush()


async def _xlsx(batches: AsyncIterator[list[dict]], columns, lang: str) -> IO[bytes]:
    """The whole workbook in a spooled temporary file (memory up to 8 MiB, then disk)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(gettext(SHEET, lang))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def header(msgid: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=gettext(msgid, lang))
        cell.font = bold
        return cell

    def cell(value: Any) -> Any:
        if isinstance(value, datetime):
            c = WriteOnlyCell(sheet, value=value)
            c.number_format = DATE_FORMAT
            return c
        if isinstance(value, str):
            c = WriteOnlyCell(sheet, value=xlsx_text(value))
            c.data_type = "s"  # never a formula, whatever the text starts with
            return c
        return value

    sheet.append([header(msgid) for msgid, _cell in columns])
    at = now()
    async for batch in batches:
        for case in batch:
            sheet.append([cell(v) for v in row_values(columns, case, at)])
    out = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    try:
        workbook.save(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


async def _chunks(out: IO[bytes]) -> AsyncIterator[bytes]:
    with out:
        while chunk := out.read(64 << 10):
            yield chunk
