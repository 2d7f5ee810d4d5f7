"""Open311 GeoReport v2: the spec's error lists and the JSON/XML renderings (cases.open311)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any

import msgspec

from core.i18n import gettext as _
from core.problems import AppError

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# XML element names of the items inside each list-valued field.
XML_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute",
             "values": "value"}


class Open311Error(Exception):
    """An error answered in the spec's format."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found() -> Open311Error:
    return Open311Error(404, _("The requested item does not exist or you may not see it."))


def from_app_error(exc: AppError) -> Open311Error:
    return Open311Error(exc.status, exc.detail or _("The request could not be processed."))


# --- formats ------------------------------------------------------------------------------------
def split_format(value: str) -> tuple[str, str]:
    """"123.xml" -> ("123", "xml"); a value without a known extension is JSON."""
    stem, dot, ext = value.rpartition(".")
    if dot and ext in FORMATS:
        return stem, ext
    return value, "json"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value) or ""
    return str(value)


def _xml_into(parent: ET.Element, tag: str, value: Any) -> None:
    el = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_into(el, k, v)
    elif isinstance(value, list):
        for item in value:
            _xml_into(el, XML_ITEMS.get(tag, "item"), item)
    else:
        el.text = _text(value)


def render(body: Any, fmt: str, root: str, item: str | None = None) -> bytes:
    """JSON as is; XML as <root> with one <item> per list entry (or the dict's fields)."""
    if fmt == "json":
        return msgspec.json.encode(body, enc_hook=_text)
    top = ET.Element(root)
    for entry in (body if isinstance(body, list) else [body]):
        if item is None:
            for k, v in entry.items():
                _xml_into(top, k, v)
        else:
            _xml_into(top, item, entry)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


def render_error(exc: Open311Error, fmt: str) -> bytes:
    return render([{"code": exc.code, "description": exc.description}], fmt, "errors", "error")


def iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


