"""Verification of uploaded bytes: a single changed byte anywhere is tampering, unsigned and
non-PDF files are said to be so, unknown CAs are untrusted, and revocation counts only for
signatures made after it."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from documents import pki, signing, tsa, verification
from documents.signing import StampText
from tests.documents.signing_helpers import person, render_pdf


@pytest.fixture(scope="module")
def signed():
    ca = pki.create_ca()
    authority = pki.Authority(ca, pki.create_tsa(ca))
    stamper = tsa.PlatformTimeStamper(authority.tsa)
    one, two = person(ca, "张三", "业委会"), person(ca, "李四", "居委会")
    pdf = render_pdf()
    pdf = signing.sign_field(pdf, "signer-1", one, StampText("person", "张三", "主任", "业委会"),
                             stamper)
    after_first = pdf
    pdf = signing.sign_field(pdf, "signer-2", two, StampText("person", "李四", "主任", "居委会"),
                             stamper)
    final = signing.add_document_timestamp(pdf, stamper)
    return {"ca": ca, "final": final, "after_first": after_first, "one": one}


def _flip(data: bytes, pos: int) -> bytes:
    b = bytearray(data)
    b[pos] = (b[pos] + 1) % 256 if chr(b[pos]) not in "0123456789abcdefABCDEF" else \
        ord("1" if b[pos] == ord("0") else "0")
    return bytes(b)


def test_the_untouched_file_is_valid(signed):
    report = verification.check_pdf(signed["final"], [signed["ca"].certificate])
    assert report.verdict == "valid"
    assert [s.field for s in report.signatures][:2] == ["signer-1", "signer-2"]
    assert report.signatures[-1].kind == "document_timestamp"
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)


def test_a_single_changed_byte_anywhere_is_reported_as_tampered(signed):
    data, roots = signed["final"], [signed["ca"].certificate]
    rng = random.Random(5)
    positions = set(rng.sample(range(len(data)), 60))
    # ... and the places an attacker would pick: inside each signature's /Contents (its DER and
    # its zero padding), the first and the last bytes.
    start = 0
    while (at := data.find(b"/Contents <", start)) != -1:
        end = data.index(b">", at)
        positions |= {at + 12, at + 200, (at + end) // 2, end - 3}
        start = end
    positions |= {0, 9, len(data) - 1, len(data) - 8}
    missed = [p for p in sorted(positions)
              if verification.check_pdf(_flip(data, p), roots).verdict in ("valid", "untrusted")]
    assert not missed, f"changes at {missed} went unnoticed"


def test_content_appended_after_the_last_signature_is_tampering(signed):
    extra = signed["after_first"] + b"\n% an unsigned addition\n"
    report = verification.check_pdf(extra, [signed["ca"].certificate])
    assert report.verdict == "tampered"


def test_an_earlier_revision_is_valid_on_its_own(signed):
    report = verification.check_pdf(signed["after_first"], [signed["ca"].certificate])
    assert report.verdict == "valid" and len(report.signatures) == 1


def test_unsigned_and_non_pdf_files_are_named_as_such(signed):
    assert verification.check_pdf(render_pdf(fields={}), []).verdict == "unsigned"
    assert verification.check_pdf(b"GIF89a not a pdf", []).verdict == "not_pdf"
    assert verification.check_pdf(b"", []).verdict == "not_pdf"


def test_signatures_from_a_ca_not_trusted_here_are_untrusted_not_tampered(signed):
    stranger = pki.create_ca()
    report = verification.check_pdf(signed["final"], [stranger.certificate])
    assert report.verdict == "untrusted"
    assert all(s.intact and s.valid and not s.trusted for s in report.signatures)


def test_revocation_counts_for_signatures_made_after_it_only(signed):
    roots = [signed["ca"].certificate]
    report = verification.check_pdf(signed["final"], roots)
    fp = pki.fingerprint(signed["one"].certificate)
    made = report.signatures[0].timestamp
    later = verification.apply_knowledge(verification.check_pdf(signed["final"], roots), {},
                                         {fp: made + dt.timedelta(days=1)})
    assert later.verdict == "valid" and later.signatures[0].revoked_at is not None
    assert not later.signatures[0].revoked
    before = verification.apply_knowledge(verification.check_pdf(signed["final"], roots), {},
                                          {fp: made - dt.timedelta(minutes=1)})
    assert before.verdict == "untrusted" and before.signatures[0].revoked
    assert not before.signatures[0].ok and before.signatures[1].ok


def test_the_platform_marks_seals_by_certificate(signed):
    roots = [signed["ca"].certificate]
    fp = pki.fingerprint(signed["one"].certificate)
    report = verification.apply_knowledge(verification.check_pdf(signed["final"], roots),
                                          {fp: "seal"}, {})
    assert [s.kind for s in report.signatures] == ["seal", "signature", "document_timestamp"]


def test_the_cli_verifies_offline_with_only_the_ca_certificate(signed, tmp_path):
    from click.testing import CliRunner

    from documents.verify_cli import verify
    from tests.documents.signing_helpers import pem

    (tmp_path / "ca.pem").write_bytes(pem(signed["ca"].certificate))
    (tmp_path / "doc.pdf").write_bytes(signed["final"])
    result = CliRunner().invoke(verify, [str(tmp_path / "doc.pdf"), "--no-db", "--trust",
                                         str(tmp_path / "ca.pem"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Every signature is intact, valid and trusted." in result.output
    assert "张三" in result.output and "Document timestamp" in result.output
    (tmp_path / "bad.pdf").write_bytes(_flip(signed["final"], 1000))
    result = CliRunner().invoke(verify, [str(tmp_path / "bad.pdf"), "--no-db", "--trust",
                                         str(tmp_path / "ca.pem"), "--json"])
    assert result.exit_code == 2 and '"verdict":"tampered"' in result.output
