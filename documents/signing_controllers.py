"""Signing API: sign a document version with one's PIN; one's own signing certificate and PIN;
organisations' seals (created here or imported from a licensed CA); revocation; and the
platform's public trust anchors (CA certificate, RFC 3161 timestamp authority)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from documents import credentials, pki, pki_repository, signing_service, tsa
from documents.signing_schemas import (
    CredentialOut,
    EnrollIn,
    PinChangeIn,
    RevokeIn,
    SealIn,
    SignedVersionOut,
    SignIn,
    credential_out,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
MAX_P12_BYTES = 1024 * 1024


class CredentialsOut(msgspec.Struct):
    active: CredentialOut | None
    history: list[CredentialOut]  # every credential, revoked ones too, newest first


@dataclass
class Pkcs12Upload:
    file: UploadFile
    passphrase: str = ""
    pin: str = ""  # the seal PIN custodians will enter when sealing


def _all(active: dict | None, rows: list[dict]) -> CredentialsOut:
    return CredentialsOut(active=credential_out(active) if active else None,
                          history=[credential_out(r) for r in rows])


class SignatureController(Controller):
    path = "/api/v1/documents"
    guards = [authenticated]
    tags = ["documents"]

    @post("/{document_id:int}/versions/{version:int}/signatures",
          summary="Sign the version (or apply your organisation's seal) when it is your turn, "
                  "with your signing PIN (the seal PIN for a seal)")
    async def sign(self, request: Req, document_id: int, version: int, data: SignIn,
                   tx: object) -> SignedVersionOut:
        result = await signing_service.sign_version(request.user, document_id, version,
                                                    data.pin)
        row = result.version
        return SignedVersionOut(
            document_id=document_id, version=version, state=row["state"], sha256=row["sha256"],
            size=row["size"], next_signer=row["next_signer"], signed_field=result.field_name,
            timestamped=result.timestamped,
            download_url=f"/api/v1/documents/{document_id}/versions/{version}/pdf")


class CredentialController(Controller):
    path = "/api/v1/signing"
    guards = [authenticated]
    tags = ["signing"]

    @get("/me", summary="My signing certificate (and revoked earlier ones)")
    async def mine(self, request: Req, tx: object) -> CredentialsOut:
        p = request.user
        return _all(await credentials.my_credential(p), await credentials.history(p))

    @post("/me", summary="Create my signing key and certificate, protected by a PIN only I know "
                         "(never stored)")
    async def enroll(self, request: Req, data: EnrollIn, tx: object) -> CredentialOut:
        return credential_out(await credentials.enroll(request.user, data.pin))

    @post("/me/pin", summary="Change my signing PIN (the key is re-encrypted; wrong PINs count "
                             "towards the lockout)")
    async def change_pin(self, request: Req, data: PinChangeIn, tx: object) -> CredentialOut:
        return credential_out(await credentials.change_pin(request.user, data.old_pin,
                                                           data.new_pin))

    @post("/credentials/{credential_id:int}/revoke",
          summary="Revoke a certificate: my own, my organisation's seal (administrators), or "
                  "any of the jurisdiction (bureau administrators)")
    async def revoke(self, request: Req, credential_id: int, data: RevokeIn,
                     tx: object) -> CredentialOut:
        return credential_out(await credentials.revoke(request.user, credential_id, data.reason))


class SealController(Controller):
    path = "/api/v1/organizations/{organization_id:int}/seal"
    guards = [authenticated]
    tags = ["signing"]

    @get("", summary="The organisation's electronic seal (电子印章) and earlier ones")
    async def get_seal(self, request: Req, organization_id: int, tx: object) -> CredentialsOut:
        p = request.user
        active = await credentials.seal_of(p, organization_id)
        return _all(active, await credentials.history(p, organization_id=organization_id))

    @post("", summary="Create the organisation's seal from the platform CA, protected by a seal "
                      "PIN its custodians know (administrators)")
    async def create(self, request: Req, organization_id: int, data: SealIn,
                     tx: object) -> CredentialOut:
        return credential_out(await credentials.create_seal(request.user, organization_id,
                                                            data.pin))

    @post("/pkcs12", summary="Import the organisation's certificate from a licensed CA "
                             "(PKCS#12) as its seal (administrators)")
    async def import_p12(self, request: Req, organization_id: int, tx: object,
                         data: Annotated[Pkcs12Upload,
                                         Body(media_type=RequestEncodingType.MULTI_PART)],
                         ) -> CredentialOut:
        content = await data.file.read(MAX_P12_BYTES + 1)
        return credential_out(await credentials.import_seal(
            request.user, organization_id, content, data.passphrase,
            data.pin))


class TrustController(Controller):
    """Public: what anyone needs to check our signatures with their own tools."""

    path = "/api/v1"
    tags = ["signing"]

    @get("/signing/ca.pem", summary="The platform CA certificate (PEM): trust it in a PDF "
                                    "reader or in pdfsig's NSS database", security=[])
    async def ca_certificate(self) -> Response[bytes]:
        authority = await pki.platform_authority()
        return Response(pki.ca_pem(authority), media_type="application/x-pem-file",
                        headers={"Content-Disposition": 'attachment; filename="gongzhi-ca.pem"',
                                 "Cache-Control": "public, max-age=3600"})

    @get("/signing/crl", summary="The platform CA's certificate revocation list (DER), named "
                                 "in every certificate it issues", security=[])
    async def revocation_list(self) -> Response[bytes]:
        authority = await pki.platform_authority()
        rows = await pki_repository.revoked_platform_serials()
        crl = pki.revocation_list(authority.ca, [(int(r["serial"], 16), r["revoked_at"])
                                                 for r in rows])
        return Response(crl, media_type="application/pkix-crl",
                        headers={"Cache-Control": "public, max-age=300"})

    @post("/tsa", summary="RFC 3161 timestamp authority: POST an application/timestamp-query, "
                          "get an application/timestamp-reply", security=[], status_code=200)
    async def timestamp(self, request: Request) -> Response[bytes]:
        query = await request.body()
        return Response(await tsa.answer(query[:64 * 1024]),
                        media_type="application/timestamp-reply")
