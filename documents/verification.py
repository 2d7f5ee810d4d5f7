"""Verification of a PDF's signatures: what a court clerk, an owner or the bureau sees when they
upload a file, and what `gongzhi verify FILE` prints.

`check_pdf` is pure and synchronous (pyHanko, CPU-bound): for each signature whether it is
intact (the signed bytes are unchanged), valid (the cryptography holds), trusted (the
certificate chains to the platform CA or a configured licensed CA, and was not revoked before
it signed), its signature timestamp, and what changed after it. The verdict is `tampered` as
soon as any byte a signature covers changed, the file cannot be read, or a signature's
/Contents carries anything but its signature (a single changed byte anywhere is caught: either
a signed byte, or one of the few unsigned bytes, which are all inside /Contents).
`verify` adds what only the database knows: revocations and whether the exact file is a
registered document version (by SHA-256), and whether it is the latest.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field

from asn1crypto import cms
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from core.i18n import N_
from documents.pki import common_name, organization_name, to_asn1

VERDICTS = {
    "valid": N_("Every signature is intact, valid and trusted."),
    "untrusted": N_("The document is unchanged, but a signature is not trusted here "
                    "(unknown or revoked certificate)."),
    "tampered": N_("The document was changed after it was signed: do not rely on it."),
    "unsigned": N_("This PDF carries no signatures."),
    "not_pdf": N_("This file is not a PDF."),
}


@dataclass
class SignatureReport:
    field: str
    kind: str  # signature | seal | document_timestamp
    signer: str = ""
    organization: str = ""
    issuer: str = ""
    serial: str = ""
    fingerprint: str = ""
    signed_at: dt.datetime | None = None  # the signer's claimed time
    timestamp: dt.datetime | None = None  # the TSA's time (signature or document timestamp)
    timestamp_trusted: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    revoked_at: dt.datetime | None = None
    revoked: bool = False  # the certificate was revoked before this signature was made
    covers_whole_file: bool = False
    changes_after: str = "none"  # none | allowed | disallowed
    reason: str = ""
    location: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return (self.intact and self.valid and self.trusted and not self.revoked
                and self.changes_after != "disallowed" and not self.problem)


@dataclass
class RegistryInfo:
    matched: bool = False
    document_id: int | None = None
    number: str = ""
    title: str = ""
    version: int | None = None
    state: str = ""
    is_latest: bool = False  # the newest file of the document's newest version
    is_latest_revision: bool = False  # no signature was added to this version since
    is_current_version: bool = False  # no newer version of the document exists
    latest_version: int | None = None


@dataclass
class Report:
    sha256: str
    size: int
    verdict: str = "unsigned"
    signatures: list[SignatureReport] = field(default_factory=list)
    registry: RegistryInfo = field(default_factory=RegistryInfo)
    problem: str = ""

    @property
    def summary(self) -> str:
        return VERDICTS[self.verdict]

    @property
    def document_timestamp(self) -> dt.datetime | None:
        stamps = [s.timestamp for s in self.signatures if s.kind == "document_timestamp"]
        return stamps[-1] if stamps else None


def _der_length(data: bytes) -> int:
    """Length of the DER value at the start of `data` (tag, length, content)."""
    if len(data) < 2:
        return len(data) + 1
    first = data[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    return 2 + n + int.from_bytes(data[2:2 + n], "big")


def _contents_problem(pdf: bytes, byte_range: list[int]) -> str:
    """The bytes a signature leaves unsigned must be exactly `<hex of its CMS, then zeros>`."""
    start, gap_end = byte_range[0] + byte_range[1], byte_range[2]
    gap = pdf[start:gap_end]
    if not (gap.startswith(b"<") and gap.endswith(b">")):
        return "the unsigned gap is not the signature value"
    hex_digits = re.sub(rb"\s", b"", gap[1:-1])
    try:
        raw = bytes.fromhex(hex_digits.decode())
    except ValueError:
        return "the signature value is not hexadecimal"
    used = _der_length(raw)
    if used > len(raw) or raw[used:].strip(b"\0"):
        return "the signature value carries extra bytes"
    return _embedded_certificates_problem(raw[:used])


def _bags(signed_data) -> list:
    """Certificate bags of a SignedData and of the timestamp tokens inside it."""
    bags = [signed_data["certificates"]]
    for info in signed_data["signer_infos"]:
        for attr in info["unsigned_attrs"] or []:
            if attr["type"].native == "signature_time_stamp_token":
                for token in attr["values"]:
                    bags += _bags(token["content"])
    return bags


def _embedded_certificates_problem(der: bytes) -> str:
    """Certificates ride along unsigned in a signature: each copy must still carry its issuer's
    valid signature, or one of its bytes was changed."""
    try:
        info = cms.ContentInfo.load(der)
        certs = [x509.load_der_x509_certificate(c.chosen.dump())
                 for bag in _bags(info["content"]) for c in (bag or [])]
    except Exception:  # noqa: BLE001 - a certificate that no longer parses was changed
        return "a certificate inside the signature is damaged"
    by_subject: dict[bytes, list[x509.Certificate]] = {}
    for c in certs:
        by_subject.setdefault(c.subject.public_bytes(), []).append(c)
    for c in certs:
        issuers = by_subject.get(c.issuer.public_bytes(), [])
        if not issuers:
            continue  # issued by someone not shipped along: the trust check judges it
        if not any(_issued_by(c, issuer) for issuer in issuers):
            return "a certificate inside the signature was altered"
    return ""


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # noqa: BLE001 - any failure means: not this issuer's signature
        return False
    return True


def _timestamp_of(status) -> tuple[dt.datetime | None, bool]:
    ts = getattr(status, "timestamp_validity", None)
    if ts is None:
        return None, False
    return ts.timestamp, bool(ts.intact and ts.valid and ts.trusted)


def _changes(status) -> str:
    level = getattr(status, "modification_level", None)
    if status.docmdp_ok is False:
        return "disallowed"
    if getattr(status, "coverage", None) == SignatureCoverageLevel.ENTIRE_FILE:
        return "none"
    return "allowed" if level is not None else "none"


def check_pdf(data: bytes, trust_roots: list[x509.Certificate], *,
              credential_kinds: dict[str, str] | None = None,
              revocations: dict[str, dt.datetime] | None = None) -> Report:
    """The signatures of `data` checked against `trust_roots`. `credential_kinds` and
    `revocations` map certificate SHA-256 fingerprints to what the platform knows (seal or
    person; when the certificate was revoked)."""
    credential_kinds = credential_kinds or {}
    revocations = revocations or {}
    report = Report(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    if not data.lstrip()[:5] == b"%PDF-":
        report.verdict = "not_pdf"
        return report
    context = ValidationContext(trust_roots=[to_asn1(c) for c in trust_roots],
                                allow_fetching=False, revocation_mode="soft-fail")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is reported, not raised
        has_sig = b"/ByteRange" in data
        report.verdict = "tampered" if has_sig else "not_pdf"
        report.problem = f"the PDF cannot be read: {exc}"[:300]
        return report
    for sig in embedded:
        report.signatures.append(_check_one(data, sig, context))
    apply_knowledge(report, credential_kinds, revocations)
    return report


def apply_knowledge(report: Report, credential_kinds: dict[str, str],
                    revocations: dict[str, dt.datetime]) -> Report:
    """Mark seals and revoked certificates (by fingerprint), then decide the verdict."""
    for s in report.signatures:
        if s.kind != "document_timestamp":
            s.kind = "seal" if credential_kinds.get(s.fingerprint) == "seal" else "signature"
        revoked_at = revocations.get(s.fingerprint)
        if revoked_at is not None:
            s.revoked_at = revoked_at
            made_at = s.timestamp or s.signed_at
            s.revoked = made_at is None or revoked_at <= made_at
    if report.verdict in ("not_pdf",) or (report.verdict == "tampered" and not report.signatures):
        return report
    if not report.signatures:
        report.verdict = "unsigned"
    elif any(not (s.intact and s.valid) or s.changes_after == "disallowed" or s.problem
             for s in report.signatures):
        report.verdict = "tampered"
    elif not report.signatures[-1].covers_whole_file:
        report.verdict = "tampered"
        report.problem = "the file was changed after its last signature"
    elif all(s.ok for s in report.signatures):
        report.verdict = "valid"
    else:
        report.verdict = "untrusted"
    return report


def _check_one(data: bytes, sig, context) -> SignatureReport:
    is_doc_ts = sig.sig_object.get("/Type") == "/DocTimeStamp"
    kind = "document_timestamp" if is_doc_ts else "signature"
    out = SignatureReport(field="%s" % (sig.field_name or ""), kind=kind)  # a plain str
    for attr, key in (("reason", "/Reason"), ("location", "/Location")):
        value = sig.sig_object.get(key)
        if value is not None:
            setattr(out, attr, "%s" % value)  # a plain str, not pyHanko's subclass
    try:
        byte_range = [int(x) for x in sig.sig_object["/ByteRange"]]
        out.problem = _contents_problem(data, byte_range)
        cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
        out.fingerprint = hashlib.sha256(sig.signer_cert.dump()).hexdigest()
        out.signer, out.organization = common_name(cert.subject), organization_name(cert.subject)
        out.issuer, out.serial = common_name(cert.issuer), format(cert.serial_number, "x")
        if is_doc_ts:
            status = validate_pdf_timestamp(sig, validation_context=context)
            out.timestamp, out.timestamp_trusted = status.timestamp, bool(status.trusted)
        else:
            status = validate_pdf_signature(sig, context)
            out.signed_at = status.signer_reported_dt
            out.timestamp, out.timestamp_trusted = _timestamp_of(status)
        out.intact, out.valid, out.trusted = bool(status.intact), bool(status.valid), \
            bool(status.trusted)
        out.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        out.changes_after = _changes(status)
    except Exception as exc:  # noqa: BLE001 - a mangled signature is a finding, not a crash
        out.intact = out.valid = out.trusted = False
        out.problem = out.problem or f"the signature cannot be read: {exc}"[:300]
    return out



# --- with what the platform knows -------------------------------------------------------------
async def verify(data: bytes, *, extra_roots: list[x509.Certificate] | None = None) -> Report:
    """`check_pdf` against the platform's trust roots, with the platform's own knowledge of its
    certificates (seal or person, revoked when) and of registered documents (by SHA-256)."""
    import asyncio

    from documents import pki
    from documents import pki_repository as repo
    from documents import service as registry

    roots = [*(await pki.trust_roots()), *(extra_roots or [])]
    report = await asyncio.to_thread(check_pdf, data, roots)
    known = await repo.by_fingerprints(sorted({s.fingerprint for s in report.signatures
                                               if s.fingerprint}))
    apply_knowledge(report, {r["fingerprint"]: r["kind"] for r in known},
                    {r["fingerprint"]: r["revoked_at"] for r in known if r["revoked_at"]})
    matches = await registry.find_by_sha256(report.sha256)
    if matches:
        m = matches[0]
        report.registry = RegistryInfo(
            matched=True, document_id=m.document_id, number=m.number, title=m.title,
            version=m.version, state=m.state,
            is_latest=m.is_latest_revision and m.is_current_version,
            is_latest_revision=m.is_latest_revision, is_current_version=m.is_current_version,
            latest_version=m.latest_version)
    return report
