"""PAdES signing as a library: two signers, the seal and a document timestamp, each an
incremental update into its own pre-created field, validated by pyHanko and by poppler's
pdfsig with the CA trusted."""
from __future__ import annotations

import io
import time

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from documents import pki, signing, tsa, verification
from documents.signing import SigningError, StampText
from tests.documents.signing_helpers import (
    person,
    pdfsig,
    pdfsig_signatures,
    pdftotext,
    render_pdf,
)


@pytest.fixture(scope="module")
def authority():
    ca = pki.create_ca()
    return pki.Authority(ca, pki.create_tsa(ca))


@pytest.fixture(scope="module")
def chain(authority):
    """The render, then signer 1, signer 2, the seal and the document timestamp, with the
    seconds each signature took."""
    ca = authority.ca
    stamper = tsa.PlatformTimeStamper(authority.tsa)
    steps = [("signer-1", person(ca, "张三", "翠湖花园业主委员会"),
              StampText("person", "张三", "业主委员会主任", "翠湖花园业主委员会")),
             ("signer-2", person(ca, "李四", "青莲社区居民委员会"),
              StampText("person", "李四", "居委会主任", "青莲社区居民委员会")),
             ("seal", person(ca, "示范区住房和城乡建设局", "示范区住房和城乡建设局"),
              StampText("seal", "王五", "", "示范区住房和城乡建设局"))]
    files, seconds = [render_pdf()], []
    for field, identity, stamp in steps:
        started = time.perf_counter()
        files.append(signing.sign_field(files[-1], field, identity, stamp, stamper,
                                        reason="签署", location=stamp.organization))
        seconds.append(time.perf_counter() - started)
    files.append(signing.add_document_timestamp(files[-1], stamper))
    return files, seconds


def test_each_signature_is_an_incremental_update_of_the_file_before(chain):
    files, _ = chain
    for before, after in zip(files, files[1:]):
        assert len(after) > len(before) and after.startswith(before)


def test_two_signers_the_seal_and_the_document_timestamp_validate_in_pyhanko(chain, authority):
    files, _ = chain
    context = ValidationContext(trust_roots=[pki.to_asn1(authority.ca.certificate)],
                                allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(files[-1]))
    sigs = reader.embedded_signatures
    assert [s.field_name for s in sigs][:3] == ["signer-1", "signer-2", "seal"]
    assert len(sigs) == 4
    for sig in sigs[:3]:
        status = validate_pdf_signature(sig, context)
        assert status.bottom_line, status.pretty_print_details()
        assert status.intact and status.valid and status.trusted
        # PAdES B-T: CAdES detached with a trusted signature timestamp.
        assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
        assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    doc_ts = validate_pdf_timestamp(sigs[3], validation_context=context)
    assert doc_ts.intact and doc_ts.valid and doc_ts.trusted
    assert sigs[3].sig_object["/SubFilter"] == "/ETSI.RFC3161"


def test_signatures_validate_in_poppler_pdfsig_with_the_platform_ca_trusted(chain, authority):
    files, _ = chain
    found = pdfsig_signatures(pdfsig(files[-1], [authority.ca.certificate]))
    for field, cn in (("signer-1", "张三"), ("signer-2", "李四"),
                      ("seal", "示范区住房和城乡建设局")):
        assert found[field]["Signature Validation"] == "Signature is Valid.", found
        assert found[field]["Certificate Validation"] == "Certificate is Trusted.", found
        assert found[field]["Signer Certificate Common Name"] == cn
        assert found[field]["Signature Type"] == "ETSI.CAdES.detached"
    # Without the CA in its database pdfsig still finds the signatures valid but not trusted.
    untrusted = pdfsig_signatures(pdfsig(files[-1], []))
    assert untrusted["signer-1"]["Signature Validation"] == "Signature is Valid."
    assert untrusted["signer-1"]["Certificate Validation"] != "Certificate is Trusted."


def test_visible_stamps_show_name_role_organisation_and_time_in_chinese(chain):
    files, _ = chain
    text = pdftotext(files[-1])
    for expected in ("签署人：张三", "职务：业主委员会主任", "单位：翠湖花园业主委员会",
                     "签署人：李四", "示范区住房和城乡建设局电子印章", "盖章人：王五", "北京时间"):
        assert expected in text, text
    assert "翠湖花园业主委员会会议纪要" in text  # the document's own text is untouched


def test_the_platform_verifier_reports_everything_valid(chain, authority):
    files, _ = chain
    report = verification.check_pdf(files[-1], [authority.ca.certificate])
    assert report.verdict == "valid", report
    assert [s.kind for s in report.signatures] == ["signature", "signature", "signature",
                                                   "document_timestamp"]
    assert all(s.timestamp_trusted for s in report.signatures)
    assert report.document_timestamp is not None


def test_a_signed_field_cannot_be_signed_again_and_unknown_fields_are_refused(chain, authority):
    files, _ = chain
    ident = person(authority.ca, "赵六", "X")
    stamper = tsa.PlatformTimeStamper(authority.tsa)
    with pytest.raises(SigningError, match="already signed"):
        signing.sign_field(files[1], "signer-1", ident, StampText("person", "赵六", "r", "o"),
                           stamper)
    with pytest.raises(SigningError, match="no signature field"):
        signing.sign_field(files[1], "nobody", ident, StampText("person", "赵六", "r", "o"),
                           stamper)


def test_a_name_with_a_character_the_font_lacks_still_signs(authority):
    pdf = render_pdf(fields={"s": (0, (40, 40, 200, 120))})
    ident = person(authority.ca, "A", "B")
    out = signing.sign_field(pdf, "s", ident, StampText("person", "王\U0001F600", "r", "o"),
                             tsa.PlatformTimeStamper(authority.tsa))
    assert "王□" in pdftotext(out)


def test_signing_takes_well_under_a_second_per_signature(chain, capsys):
    _, seconds = chain
    with capsys.disabled():
        print(f"\nsigning seconds per signature (PAdES B-T with CJK stamp): "
              f"{', '.join(f'{s:.3f}' for s in seconds)}")
    # The first signature also loads the font face; all stay far below a second.
    assert max(seconds) < 1.5


def test_signatures_reserve_room_from_their_certificates_and_fall_back_when_it_is_short(
        authority, monkeypatch):
    pdf = render_pdf(fields={"s": (0, (40, 40, 200, 120))})
    ident = person(authority.ca, "钱七", "翠湖花园业主委员会")
    stamper = tsa.PlatformTimeStamper(authority.tsa)
    room = signing.reserved_room([ident.certificate, *ident.chain], stamper)
    out = signing.sign_field(pdf, "s", ident, StampText("person", "钱七", "委员", "业委会"), stamper)
    contents = PdfFileReader(io.BytesIO(out)).embedded_signatures[0].sig_object["/Contents"]
    used = len(contents.rstrip(b"\0")) * 2
    assert used < room <= 4 * used  # enough, and not wildly more
    assert signing.reserved_room([ident.certificate], object()) is None  # an external TSA
    # Room too small (a container larger than computed): signed again with pyHanko's estimate.
    monkeypatch.setattr(signing, "CMS_OVERHEAD", 64)
    tries: list = []
    sign_pdf = signing.signers.PdfSigner.sign_pdf

    def recording(self, *args, **kwargs):
        tries.append(kwargs.get("bytes_reserved"))
        return sign_pdf(self, *args, **kwargs)

    monkeypatch.setattr(signing.signers.PdfSigner, "sign_pdf", recording)
    out = signing.sign_field(pdf, "s", ident, StampText("person", "钱七", "委员", "业委会"), stamper)
    assert len(tries) == 2 and 0 < tries[0] < used and tries[1] is None
    trust = ValidationContext(trust_roots=[pki.to_asn1(authority.ca.certificate)])
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(out)).embedded_signatures[0], trust)
    assert status.intact and status.valid


def test_a_key_supplied_late_signs_only_when_it_arrives_and_its_failure_signs_nothing(authority):
    pdf = render_pdf(fields={"s": (0, (40, 40, 200, 120))})
    ident = person(authority.ca, "孙八", "翠湖花园业主委员会")
    pending = pki.Identity(ident.certificate, None, ident.chain)  # certificate only, no key
    stamper = tsa.PlatformTimeStamper(authority.tsa)
    asked: list = []

    def key():
        asked.append(True)
        return ident.key

    out = signing.sign_field(pdf, "s", pending, StampText("person", "孙八", "委员", "业委会"),
                             stamper, key=key)
    assert asked == [True] and out.startswith(pdf)
    trust = ValidationContext(trust_roots=[pki.to_asn1(authority.ca.certificate)])
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(out)).embedded_signatures[0], trust)
    assert status.intact and status.valid and status.trusted

    class WrongPin(Exception):
        pass

    def wrong():
        raise WrongPin

    with pytest.raises(WrongPin):
        signing.sign_field(pdf, "s", pending, StampText("person", "孙八", "委员", "业委会"),
                           stamper, key=wrong)


def test_the_signing_certificate_attribute_names_the_signers_certificate_as_pyhanko_builds_it(
        authority):
    from hashlib import sha256

    from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute

    pdf = render_pdf(fields={"a": (0, (40, 40, 200, 120)), "b": (0, (220, 40, 380, 120))})
    one, two = person(authority.ca, "周九", "甲"), person(authority.ca, "吴十", "乙")
    stamper = tsa.PlatformTimeStamper(authority.tsa)
    pdf = signing.sign_field(pdf, "a", one, StampText("person", "周九", "r", "甲"), stamper)
    pdf = signing.sign_field(pdf, "b", two, StampText("person", "吴十", "r", "乙"), stamper)
    for sig, ident in zip(PdfFileReader(io.BytesIO(pdf)).embedded_signatures, (one, two)):
        [attr] = [a for a in sig.signer_info["signed_attrs"]
                  if a["type"].native == "signing_certificate_v2"]
        cert_der = ident.asn1_certificate.dump()
        [cert_id] = attr["values"][0]["certs"]
        assert cert_id["cert_hash"].native == sha256(cert_der).digest()
        assert attr.dump() == simple_cms_attribute(
            "signing_certificate_v2", as_signing_certificate_v2(ident.asn1_certificate)).dump()
