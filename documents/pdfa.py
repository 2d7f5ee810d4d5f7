"""PDF/A-3b output with machine-readable attachments, and the empty signature fields.

Order matters for signatures: the PDF/A-3b file (metadata, output intent, the source data as
associated files) is written in one go by WeasyPrint; the signature fields are then added as an
incremental update (pyHanko), and every signature after that is a further incremental update,
so nothing written later invalidates what came before.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import model
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from core.spreadsheet import formula_safe
from documents.schemas import Signer

PDF_VARIANT = "pdf/a-3b"
SOURCE_JSON = "source.json"
PDFAID_NS = "http://www.aiim.org/pdfa/ns/id/"


@dataclass(frozen=True)
class SourceFile:
    """A file embedded in the PDF (PDF/A-3 associated file, relationship Source/Data)."""

    name: str
    data: bytes
    description: str
    relationship: str = "Source"


def canonical_json(data: Any) -> bytes:
    """The JSON attached to a document: UTF-8, keys sorted, readable indentation."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1,
                      default=str).encode("utf-8")


def json_attachment(data: Any, description: str, name: str = SOURCE_JSON) -> SourceFile:
    return SourceFile(name, canonical_json(data), description, "Source")


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return formula_safe(value)  # spreadsheet formula injection: text cells only
    return "" if value is None else value


def csv_attachment(name: str, header: list[str], rows: list[list[Any]],
                   description: str) -> SourceFile:
    """A table as CSV: UTF-8 with BOM (Excel reads Chinese), CRLF, formulas neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return SourceFile(name, ("\ufeff" + buf.getvalue()).encode("utf-8"), description, "Data")


def weasy_attachments(files: list[SourceFile]) -> list:
    from weasyprint import Attachment

    return [Attachment(file_obj=io.BytesIO(f.data), name=f.name, description=f.description,
                       relationship=f.relationship) for f in files]


# pydyf computes a PDF/A file identifier (`/ID`, the MD5 of every object) by serialising every
# object a second time after writing it, and a stream's serialisation deflates it again at
# level 9: about 30 ms of a five-page report compressing fonts and pages twice to the same
# bytes. WeasyPrint calls its `finisher` just before pydyf writes; `serialise_once` makes each
# stream keep its first serialisation (nothing changes a stream once written). Same output.
_ONCE_CLASSES: dict[type, type] = {}


def _once_class(cls: type) -> type:
    once = _ONCE_CLASSES.get(cls)
    if once is None:
        serialise = cls.data.fget

        def data(self):
            cached = self.__dict__.get("_serialised")
            if cached is None:
                cached = self.__dict__["_serialised"] = serialise(self)
            return cached

        once = _ONCE_CLASSES[cls] = type(cls.__name__, (cls,), {"data": property(data)})
    return once


def serialise_once(_document, pdf) -> None:
    """WeasyPrint finisher: every stream of `pdf` is serialised (and deflated) once."""
    import pydyf

    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and type(obj) not in _ONCE_CLASSES.values():
            obj.__class__ = _once_class(type(obj))


def add_signature_fields(pdf: bytes, signers: list[Signer]) -> bytes:
    """Append one empty signature field per signer at its box (an incremental update, so the
    PDF/A-3 render stays byte for byte at the start of the file)."""
    if not signers:
        return pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    # pyHanko rewrites the XMP packet on every incremental write and does not carry over the
    # PDF/A identification as WeasyPrint writes it; restate it once here (later writers, such
    # as each signature, then keep it).
    writer._meta.xmp_extra.append(model.XmpStructure.of(
        (model.ExpandedName(PDFAID_NS, "part"), model.XmpValue("3")),
        (model.ExpandedName(PDFAID_NS, "conformance"), model.XmpValue("B"))))
    for s in signers:
        if s.box is None:
            raise ValueError(f"signer {s.field_name!r} has no reserved box")
        append_signature_field(writer, SigFieldSpec(s.field_name, on_page=s.box.page,
                                                    box=s.box.as_tuple()))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read_attachments(pdf: bytes) -> dict[str, bytes]:
    """Every embedded file of `pdf` by name (for tests, verification and re-import)."""
    root = PdfFileReader(io.BytesIO(pdf)).root
    try:
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return {}
    out: dict[str, bytes] = {}
    for i in range(0, len(names), 2):
        spec = names[i + 1].get_object()
        out[str(names[i])] = spec["/EF"]["/F"].get_object().data
    return out


def signature_field_names(pdf: bytes) -> list[str]:
    root = PdfFileReader(io.BytesIO(pdf)).root
    try:
        fields = root["/AcroForm"]["/Fields"]
    except KeyError:
        return []
    return [str(f.get_object()["/T"]) for f in fields]
