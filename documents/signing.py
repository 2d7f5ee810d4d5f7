"""PAdES signing with pyHanko: CPU-bound and synchronous (callers run it in a worker thread).

Each signature goes into its own pre-created, empty signature field as an incremental update,
so every earlier signature keeps covering exactly the bytes it signed. Signatures are PAdES
B-T (CAdES detached, `ETSI.CAdES.detached`, with a signature timestamp from the TSA); the
visible stamp shows, in Chinese, who signed, in which role, for which organisation and when
(China time). After the last slot a PAdES document timestamp seals the whole file.

Stamps use Noto Sans CJK SC. A stamp embeds only the glyphs it shows: HarfBuzz cuts the face
out of the system's .ttc collection and subsets it to the stamp's characters in a few
milliseconds, and pyHanko embeds that small font (loading the whole 16 MB face per signature
would cost ~0.7 s).
"""
from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import uharfbuzz as hb
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from core.i18n import gettext as _
from documents.pki import Identity, to_asn1

CHINA = ZoneInfo("Asia/Shanghai")
FONT_FAMILY = "Noto Sans CJK SC"
_FALLBACK_FONT = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2)
STAMP_FONT_SIZE = 8
ZH = "zh-CN"


class SigningError(Exception):
    """The PDF cannot be signed as asked (no such empty field, not a PDF …)."""


# --- the stamp font -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def font_location() -> tuple[str, int]:
    """(file, face index) of Noto Sans CJK SC, as fontconfig finds it."""
    if shutil.which("fc-match"):
        out = subprocess.run(["fc-match", "-f", "%{file}\n%{index}", FONT_FAMILY],
                             capture_output=True, text=True, timeout=10).stdout.split("\n")
        if len(out) >= 2 and "CJK" in out[0]:
            return out[0], int(out[1] or 0)
    return _FALLBACK_FONT


@lru_cache(maxsize=1)
def _face() -> hb.Face:
    path, index = font_location()
    return hb.Face(hb.Blob.from_file_path(path), index)


@lru_cache(maxsize=1)
def _font_codepoints() -> frozenset[int]:
    return frozenset(_face().unicodes)


def printable(text: str) -> str:
    """`text` with characters the font lacks shown as □ (a name with a rare character must not
    make signing fail)."""
    have = _font_codepoints()
    return "".join(c if c == "\n" or ord(c) in have else "□" for c in text)


def subset_font(text: str) -> bytes:
    inp = hb.SubsetInput()
    for ch in set(text) | {chr(c) for c in range(0x20, 0x7F)} | {"□"}:
        inp.unicode_set.add(ord(ch))
    return bytes(hb.subset(_face(), inp).blob.data)


class SubsetFontFactory(FontEngineFactory):
    """pyHanko font engine over a font subset to exactly the stamp's characters."""

    def __init__(self, text: str, size: int = STAMP_FONT_SIZE) -> None:
        self.font_bytes = subset_font(text)
        self.size = size

    def create_font_engine(self, writer, obj_stream=None):
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(writer=writer, font_handle=io.BytesIO(self.font_bytes),
                                font_size=self.size, obj_stream=obj_stream)


# --- stamps -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StampText:
    """What the visible stamp says. `kind` person: signer, role, organisation; seal: the
    organisation, and who applied the seal."""

    kind: str  # person | seal
    name: str  # the signer (person) or who applied the seal
    role: str
    organization: str


def china_time(at: dt.datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def stamp_lines(stamp: StampText, at: dt.datetime) -> str:
    when = _("Time: {time} (Beijing time)", ZH).format(time=china_time(at))
    if stamp.kind == "seal":
        lines = [_("Electronic seal of {organization}", ZH).format(organization=stamp.organization),
                 _("Applied by: {name}", ZH).format(name=stamp.name), when]
    else:
        lines = [_("Signed by: {name}", ZH).format(name=stamp.name),
                 _("Role: {role}", ZH).format(role=stamp.role),
                 _("Organisation: {organization}", ZH).format(organization=stamp.organization),
                 when]
    return printable("\n".join(lines))


SEAL_RED = (0.78, 0.08, 0.08)


def _seal_ring() -> RawContent:
    """A red double ring, the outline of a Chinese organisation seal, drawn behind the text."""
    k = 0.5523  # Bézier approximation of a quarter circle

    def circle(r: float) -> str:
        c, d = 50, r * k
        return (f"{c + r} {c} m {c + r} {c + d} {c + d} {c + r} {c} {c + r} c "
                f"{c - d} {c + r} {c - r} {c + d} {c - r} {c} c "
                f"{c - r} {c - d} {c - d} {c - r} {c} {c - r} c "
                f"{c + d} {c - r} {c + r} {c - d} {c + r} {c} c S ")
    ops = f"{SEAL_RED[0]} {SEAL_RED[1]} {SEAL_RED[2]} RG 3 w {circle(47)}1 w {circle(42)}"
    return RawContent(ops.encode(), box=BoxConstraints(100, 100))


def stamp_style(text: str, kind: str = "person") -> TextStampStyle:
    font = TextBoxStyle(font=SubsetFontFactory(text))
    if kind == "seal":
        return TextStampStyle(stamp_text="%(stamp)s", border_width=0, text_box_style=font,
                              background=_seal_ring(), background_opacity=0.9)
    return TextStampStyle(stamp_text="%(stamp)s", border_width=1, text_box_style=font)


# --- fields -------------------------------------------------------------------------------------
def signature_fields(pdf: bytes) -> dict[str, bool]:
    """Signature field name -> whether it is already signed, in document order."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return {name: value is not None for name, value, _ref in fields.enumerate_sig_fields(reader)}


def add_signature_fields(pdf: bytes, boxes: dict[str, tuple[int, tuple[int, int, int, int]]]
                         ) -> bytes:
    """Append empty signature fields {name: (page, (x1, y1, x2, y2))} as an incremental update
    (documents rendered by the registry already have theirs; tests and imports use this)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for name, (page, box) in boxes.items():
        fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=page, box=box))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- signing ------------------------------------------------------------------------------------
def sign_field(pdf: bytes, field_name: str, identity: Identity, stamp: StampText,
               timestamper: TimeStamper, *, reason: str = "", location: str = "",
               at: dt.datetime | None = None) -> bytes:
    """`pdf` with a PAdES B-T signature by `identity` in the empty field `field_name`, appended
    as an incremental update (the input bytes are an exact prefix of the output)."""
    state = signature_fields(pdf)
    if field_name not in state:
        raise SigningError(f"the document has no signature field {field_name!r}")
    if state[field_name]:
        raise SigningError(f"the signature field {field_name!r} is already signed")
    at = at or dt.datetime.now(dt.timezone.utc)
    text = stamp_lines(stamp, at)
    signer = signers.SimpleSigner(
        signing_cert=identity.asn1_certificate, signing_key=identity.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([to_asn1(c) for c in identity.chain]))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None, location=location or None, name=stamp.name or None)
    pdf_signer = signers.PdfSigner(meta, signer, timestamper=timestamper,
                                   stamp_style=stamp_style(text, stamp.kind))
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = pdf_signer.sign_pdf(writer, existing_fields_only=True,
                              appearance_text_params={"stamp": text})
    return out.getvalue()


def add_document_timestamp(pdf: bytes, timestamper: TimeStamper) -> bytes:
    """`pdf` with a PAdES document timestamp (ETSI.RFC3161) over everything, incrementally."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = signers.PdfTimeStamper(timestamper).timestamp_pdf(writer, "sha256",
                                                            timestamper=timestamper)
    return out.getvalue()
