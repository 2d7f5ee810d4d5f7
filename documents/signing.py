"""PAdES signing with pyHanko: CPU-bound and synchronous (callers run it in a worker thread).

Each signature goes into its own pre-created, empty signature field as an incremental update,
so every earlier signature keeps covering exactly the bytes it signed. Signatures are PAdES
B-T (CAdES detached, `ETSI.CAdES.detached`, with a signature timestamp from the TSA); the
visible stamp shows, in Chinese, who signed, in which role, for which organisation and when
(China time). After the last slot a PAdES document timestamp seals the whole file.

Stamps use Noto Sans CJK SC. A stamp embeds only the glyphs it shows: HarfBuzz cuts the face
out of the system's .ttc collection and subsets it to the stamp's characters (no layout tables,
no hinting) in a few milliseconds, and that small font is embedded as it is. (Loading the whole
16 MB face per signature would cost ~0.7 s; letting pyHanko subset the subset again with
fontTools and recompile its CFF cost ~40 ms a stamp.)

The room reserved in the file for each signature's CMS is computed from the certificates it
will carry, when the timestamps come from the platform's own TSA; pyHanko would otherwise make
a whole dummy signature (and a dummy timestamp) first, just to measure it. With an external TSA,
whose certificates are unknown until it answers, pyHanko's estimate is used.
"""
from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable
from zoneinfo import ZoneInfo

import uharfbuzz as hb
from asn1crypto import cms
from asn1crypto import keys as akeys
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import CIDFontType0, GlyphAccumulator
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SigningCertificateV2Provider
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from core.i18n import gettext as _
from documents.pki import Identity, key_der, to_asn1

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


# Tables a stamp does not need: shaping (CJK text in a stamp uses no substitutions), vertical
# metrics, baselines, the original digital signature.
_DROPPED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "VORG", "vhea", "vmtx", "DSIG")


def subset_font(text: str) -> bytes:
    """Noto Sans CJK SC cut down to the characters of `text` (and □, and a space)."""
    inp = hb.SubsetInput()
    for ch in set(text) | {" ", "□"}:
        inp.unicode_set.add(ord(ch))
    for tag in _DROPPED_TABLES:
        inp.drop_table_tag_set.add(int.from_bytes(tag.encode(), "big"))
    inp.flags = hb.SubsetFlags.NO_HINTING | hb.SubsetFlags.NO_LAYOUT_CLOSURE
    return bytes(hb.subset(_face(), inp).blob.data)


class _SubsetGlyphAccumulator(GlyphAccumulator):
    """pyHanko's font engine over a font that is already the subset it needs: it is embedded
    as it is, instead of being subset again and its CFF recompiled."""

    def __init__(self, *args, font_bytes: bytes, **kwargs) -> None:
        super().__init__(*args, font_handle=io.BytesIO(font_bytes), **kwargs)
        if isinstance(self.cidfont_obj, CIDFontType0):  # Noto CJK: a CID-keyed CFF font
            self.cidfont_obj.set_font_file = partial(_embed_cff, self.cidfont_obj,
                                                     raw=self.tt.reader["CFF "])

    def _extract_subset(self, options=None):  # HarfBuzz made the subset already
        return None


def _embed_cff(cidfont: CIDFontType0, writer, *, raw: bytes):
    """What pyHanko's CIDFontType0.set_font_file writes, from the CFF table's own bytes."""
    stream = generic.StreamObject({pdf_name("/Subtype"): pdf_name("/CIDFontType0C")},
                                  stream_data=raw)
    stream.compress()
    ref = writer.add_object(stream)
    cidfont._font_descriptor[pdf_name("/FontFile3")] = ref
    return ref


class SubsetFontFactory(FontEngineFactory):
    """pyHanko font engine over a font subset to exactly the stamp's characters."""

    def __init__(self, text: str, size: int = STAMP_FONT_SIZE) -> None:
        self.font_bytes = subset_font(text)
        self.size = size

    def create_font_engine(self, writer, obj_stream=None):
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return _SubsetGlyphAccumulator(writer=writer, font_bytes=self.font_bytes,
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
@lru_cache(maxsize=256)
def _signing_certificate_attribute(certificate_der: bytes) -> bytes:
    """The DER of the signed attribute naming the signer's certificate (ESS
    signing-certificate-v2), built once per certificate."""
    cert = ax509.Certificate.load(certificate_der)
    return simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(cert)).dump()


class _PreparedAttribute(CMSAttributeProvider):
    """A signed attribute whose encoding is known in advance."""

    def __init__(self, der: bytes) -> None:
        self.der = der

    async def get_attribute(self, dry_run=False) -> cms.CMSAttribute:
        return cms.CMSAttribute.load(self.der)


class _KeyWhenNeeded(signers.SimpleSigner):
    """pyHanko's in-memory signer, but the private key is asked for only when the signature
    value is computed: everything before (parsing, the stamp's appearance, the document digest,
    the signed attributes) runs while the signer's PIN key derivation is still working.

    The signing-certificate-v2 attribute is the same for every signature of a certificate;
    asn1crypto takes ~6 ms to build and encode it afresh (a quarter of a signature), so it is
    encoded once and parsed back each time (same bytes)."""

    def __init__(self, key: Callable[[], object], **kwargs) -> None:
        super().__init__(signing_key=None, **kwargs)  # type: ignore[arg-type]
        self._key = key

    def _signed_attr_providers(self, *args, **kwargs):
        for provider in super()._signed_attr_providers(*args, **kwargs):
            if isinstance(provider, SigningCertificateV2Provider):
                yield _PreparedAttribute(_signing_certificate_attribute(
                    provider.signing_cert.dump()))
            else:
                yield provider

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        if self.signing_key is None:
            self.signing_key = akeys.PrivateKeyInfo.load(key_der(self._key()))
        return super().sign_raw(data, digest_algorithm)


def sign_field(pdf: bytes, field_name: str, identity: Identity, stamp: StampText,
               timestamper: TimeStamper, *, reason: str = "", location: str = "",
               at: dt.datetime | None = None, key: Callable[[], object] | None = None) -> bytes:
    """`pdf` with a PAdES B-T signature by `identity` in the empty field `field_name`, appended
    as an incremental update (the input bytes are an exact prefix of the output).

    `key`, when given, is called for the private key at the moment the signature value is
    computed (identity.key is not used); it may block, and whatever it raises is raised here,
    with nothing signed."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    state = {name: value is not None
             for name, value, _ref in fields.enumerate_sig_fields(writer.prev)}
    if field_name not in state:
        raise SigningError(f"the document has no signature field {field_name!r}")
    if state[field_name]:
        raise SigningError(f"the signature field {field_name!r} is already signed")
    at = at or dt.datetime.now(dt.timezone.utc)
    text = stamp_lines(stamp, at)
    signer = _KeyWhenNeeded(
        key or (lambda: identity.key), signing_cert=identity.asn1_certificate,
        cert_registry=SimpleCertificateStore.from_certs([to_asn1(c) for c in identity.chain]))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None, location=location or None, name=stamp.name or None)
    pdf_signer = signers.PdfSigner(meta, signer, timestamper=timestamper,
                                   stamp_style=stamp_style(text, stamp.kind))
    unused = [writer]  # the writer that read the fields signs first; a retry reads afresh

    def sign(reserved: int | None) -> bytes:
        w = unused.pop() if unused else IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        return pdf_signer.sign_pdf(w, existing_fields_only=True, bytes_reserved=reserved,
                                   appearance_text_params={"stamp": text}).getvalue()

    return _with_room(sign, reserved_room([identity.certificate, *identity.chain], timestamper))


def add_document_timestamp(pdf: bytes, timestamper: TimeStamper) -> bytes:
    """`pdf` with a PAdES document timestamp (ETSI.RFC3161) over everything, incrementally."""
    def stamp(reserved: int | None) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        return signers.PdfTimeStamper(timestamper).timestamp_pdf(
            writer, "sha256", timestamper=timestamper, bytes_reserved=reserved).getvalue()

    return _with_room(stamp, reserved_room([], timestamper))


# Everything in a CMS signature container but its certificates, generously: signed attributes,
# the signature value (RSA-4096 at most), the timestamp token's TSTInfo, attributes and value.
CMS_OVERHEAD = 6144


def reserved_room(certificates: list, timestamper: TimeStamper) -> int | None:
    """Hex digits to reserve for a CMS carrying `certificates` and a timestamp token from
    `timestamper`; None (pyHanko measures a dummy signature) when the timestamper's
    certificates are not known before it answers (an external TSA)."""
    if not isinstance(timestamper, DummyTimeStamper):
        return None
    tsa_certs = [timestamper.tsa_cert, *timestamper.certs_to_embed]
    size = sum(len(c.public_bytes(Encoding.DER)) for c in certificates)
    size += sum(len(c.dump()) for c in tsa_certs)
    return 2 * (size + CMS_OVERHEAD)


def _with_room(write, reserved: int | None) -> bytes:
    """`write(reserved)`; if the container outgrew the room, once more with pyHanko's own
    estimate (the room only decides how many zero digits pad the signature)."""
    if reserved is None:
        return write(None)
    try:
        return write(reserved)
    except PyHankoSigningError as exc:
        if "larger than expected" not in str(exc):
            raise
        return write(None)
