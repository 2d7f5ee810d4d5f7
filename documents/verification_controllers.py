"""Verification API: anyone (signed in or not) uploads a PDF and gets the signature report.
Public because the people who must trust a document (a court, an owner, another bureau) have
no account here; rate limited per client address (VERIFY_PER_MINUTE_PER_IP)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core.i18n import gettext as _
from core.problems import Invalid, TooManyRequests
from core.ratelimit import hit
from core.redis import key
from core.settings import get_settings
from documents import verification
from documents.signing_schemas import RegistryOut, SignatureOut, VerificationOut
from tenancy.controllers import client_ip

MAX_PDF_BYTES = 20 * 1024 * 1024


@dataclass
class PdfUpload:
    file: UploadFile


async def check_rate(request: Request) -> None:
    """At most VERIFY_PER_MINUTE_PER_IP verifications a minute from one address."""
    count, reset = await hit(key("verify", "ip", client_ip(request)))
    if count > get_settings().verify_per_minute_per_ip:
        raise TooManyRequests(_("Too many verifications from this address; try again in a "
                                "minute."), headers={"Retry-After": str(reset)})


async def read_upload(upload: UploadFile) -> bytes:
    content = await upload.read(MAX_PDF_BYTES + 1)
    if len(content) > MAX_PDF_BYTES:
        message = _("The file is larger than 20 MB.")
        raise Invalid(message, errors=[{"field": "file", "message": message}])
    if not content:
        message = _("The file is empty.")
        raise Invalid(message, errors=[{"field": "file", "message": message}])
    return content


def report_out(report: verification.Report) -> VerificationOut:
    reg = report.registry
    return VerificationOut(
        sha256=report.sha256, size=report.size, verdict=report.verdict,
        summary=_(report.summary),
        signatures=[SignatureOut(
            field=s.field, kind=s.kind, signer=s.signer, organization=s.organization,
            issuer=s.issuer, serial=s.serial, signed_at=s.signed_at, timestamp=s.timestamp,
            timestamp_trusted=s.timestamp_trusted, intact=s.intact, valid=s.valid,
            trusted=s.trusted, revoked=s.revoked, revoked_at=s.revoked_at,
            covers_whole_file=s.covers_whole_file, changes_after=s.changes_after,
            reason=s.reason, location=s.location, ok=s.ok, problem=s.problem)
            for s in report.signatures],
        document_timestamp=report.document_timestamp,
        registry=RegistryOut(
            matched=reg.matched, document_id=reg.document_id, number=reg.number, title=reg.title,
            version=reg.version, state=reg.state, is_latest=reg.is_latest,
            is_latest_revision=reg.is_latest_revision, is_current_version=reg.is_current_version,
            latest_version=reg.latest_version),
        problem=report.problem)


class VerificationController(Controller):
    path = "/api/v1/documents/verify"
    tags = ["documents"]

    @post("", summary="Verify a PDF's signatures and whether it is a registered document "
                      "(and its latest version); public, rate limited", security=[],
          status_code=200)
    async def verify(self, request: Request,
                     data: Annotated[PdfUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
                     ) -> VerificationOut:
        await check_rate(request)
        content = await read_upload(data.file)
        return report_out(await verification.verify(content))
