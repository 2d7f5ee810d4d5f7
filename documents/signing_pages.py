"""Web pages for signing and verification.

- /sign/{document_id}/{version}: the version's PDF (page previews and a link to the file), its
  signer list with who has signed, and — when it is the caller's turn — the PIN form.
- /signing: my signing certificate: set the PIN (enrol), change it, revoke.
- /verify: public; anyone uploads a PDF and sees the report; /verify?code=… (the QR code
  printed on every document) says which registered version the paper copy is.
Pages call the services inside the request's transaction, never the JSON API over HTTP.
"""
from __future__ import annotations

import asyncio
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import Struct

from core.i18n import N_
from core.i18n import gettext as _
from core.problems import AppError, Invalid
from core.storage import storage
from documents import credentials, signing_service, verification
from documents import service as registry
from documents.schemas import signers_from_json
from documents.signing import china_time
from documents.verification_controllers import check_rate, read_upload
from tenancy.principal import Principal

MAX_PREVIEW_PAGES = 12
STATE_LABELS = {"draft": N_("Draft"), "awaiting_signatures": N_("Awaiting signatures"),
                "signed": N_("Signed"), "sealed": N_("Sealed"), "superseded": N_("Superseded")}


def _user(request: Request) -> Principal | None:
    return request.scope.get("user")


def _login(request: Request) -> Redirect:
    return Redirect(f"/login?next={request.url.path}")


class PinForm(Struct):
    pin: str = ""


class PinChangeForm(Struct):
    old_pin: str = ""
    new_pin: str = ""
    new_pin_again: str = ""


class EnrollForm(Struct):
    pin: str = ""
    pin_again: str = ""


class RevokeForm(Struct):
    reason: str = ""


@dataclass
class VerifyForm:
    file: UploadFile


# --- the signing page -------------------------------------------------------------------------
async def _sign_context(p: Principal, document_id: int, version: int) -> dict[str, Any]:
    doc, row = await registry.get_version(p, document_id, version)
    signers = signers_from_json(row["signers"])
    slots = []
    for i, s in enumerate(signers):
        slots.append({"signer": s, "done": i < row["next_signer"],
                      "next": i == row["next_signer"] and row["state"] in
                      ("awaiting_signatures", "signed"),
                      "mine": registry.signer_matches(p, s)})
    my_turn = any(s["next"] and s["mine"] for s in slots)
    mine = await credentials.my_credential(p)
    pages = min(max(row["page_count"] or 1, 1), MAX_PREVIEW_PAGES)
    return {"me": p, "doc": doc, "row": row, "slots": slots, "my_turn": my_turn,
            "seal_turn": my_turn and any(s["next"] and s["signer"].kind == "seal" for s in slots),
            "enrolled": mine is not None, "pages": list(range(1, pages + 1)),
            "base": f"/sign/{document_id}/{version}", "state_labels": STATE_LABELS}


@get("/sign/{document_id:int}/{version:int}", include_in_schema=False)
async def sign_page(request: Request, document_id: int, version: int, tx: object,
                    done: str = "") -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    ctx = await _sign_context(p, document_id, version)
    return Template("documents/sign.html", context={**ctx, "error": None, "done": done})


@post("/sign/{document_id:int}/{version:int}", include_in_schema=False)
async def sign_submit(request: Request, document_id: int, version: int, tx: object,
                      data: Annotated[PinForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                      ) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    try:
        result = await signing_service.sign_version(p, document_id, version, data.pin)
    except AppError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        ctx = await _sign_context(p, document_id, version)
        return Template("documents/sign.html", status_code=exc.status,
                        context={**ctx, "error": exc.detail, "done": ""})
    return Redirect(f"/sign/{document_id}/{version}?done={result.field_name}")


@get("/sign/{document_id:int}/{version:int}/pdf", include_in_schema=False)
async def sign_pdf(request: Request, document_id: int, version: int, tx: object
                   ) -> Response | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    doc, row = await registry.get_version(p, document_id, version)
    pdf = await storage().get(row["storage_key"])
    name = f"{doc['number']}-v{row['version']}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"',
                             "Cache-Control": "private, no-store",
                             "X-Content-Type-Options": "nosniff"})


def _preview_png(pdf: bytes, page: int) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "doc.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page),
                        "-singlefile", str(src), str(Path(d) / "page")], check=True,
                       capture_output=True, timeout=30)
        return (Path(d) / "page.png").read_bytes()


@get("/sign/{document_id:int}/{version:int}/page/{page:int}", include_in_schema=False)
async def sign_preview(request: Request, document_id: int, version: int, page: int,
                       tx: object) -> Response | Redirect:
    """A low-resolution PNG of one page (the CSP lets no PDF be embedded in a page)."""
    p = _user(request)
    if p is None:
        return _login(request)
    _doc, row = await registry.get_version(p, document_id, version)
    if not 1 <= page <= min(max(row["page_count"] or 1, 1), MAX_PREVIEW_PAGES):
        return Response(b"", status_code=404)
    pdf = await storage().get(row["storage_key"])
    try:
        png = await asyncio.to_thread(_preview_png, pdf, page)
    except (subprocess.SubprocessError, OSError):
        return Response(b"", status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


# --- my signing certificate ---------------------------------------------------------------------
async def _credentials_page(p: Principal, *, error: str | None = None, done: str = "",
                            status: int = 200) -> Template:
    active = await credentials.my_credential(p)
    history = await credentials.history(p)
    return Template("documents/sign_credentials.html", status_code=status, context={
        "me": p, "active": active, "history": history, "error": error, "done": done,
        "local": lambda at: china_time(at) if at else ""})


@get("/signing", include_in_schema=False)
async def credentials_page(request: Request, tx: object, done: str = "") -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    return await _credentials_page(p, done=done)


async def _credential_action(request: Request, action) -> Template | Redirect:
    p = _user(request)
    if p is None:
        return _login(request)
    try:
        done = await action(p)
    except AppError as exc:
        if exc.status >= 500:
            raise
        return await _credentials_page(p, error=exc.detail, status=exc.status)
    return Redirect(f"/signing?done={done}")


def _mismatch() -> AppError:
    return Invalid(_("The two PINs differ."))


@post("/signing/enroll", include_in_schema=False)
async def enroll_submit(request: Request, tx: object,
                        data: Annotated[EnrollForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                        ) -> Template | Redirect:
    async def act(p):
        if data.pin != data.pin_again:
            raise _mismatch()
        await credentials.enroll(p, data.pin)
        return "enrolled"
    return await _credential_action(request, act)


@post("/signing/pin", include_in_schema=False)
async def pin_submit(request: Request, tx: object,
                     data: Annotated[PinChangeForm,
                                     Body(media_type=RequestEncodingType.URL_ENCODED)]
                     ) -> Template | Redirect:
    async def act(p):
        if data.new_pin != data.new_pin_again:
            raise _mismatch()
        await credentials.change_pin(p, data.old_pin, data.new_pin)
        return "pin_changed"
    return await _credential_action(request, act)


@post("/signing/revoke", include_in_schema=False)
async def revoke_submit(request: Request, tx: object,
                        data: Annotated[RevokeForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                        ) -> Template | Redirect:
    async def act(p):
        row = await credentials.my_credential(p)
        if row is None:
            raise credentials.not_found()
        await credentials.revoke(p, row["id"], data.reason)
        return "revoked"
    return await _credential_action(request, act)


# --- public verification --------------------------------------------------------------------------
async def _code_match(code: str) -> dict | None:
    if not code or len(code) > 64:
        return None
    found = await registry.find_by_code(code)
    if found is None:
        return None
    doc, row = found["document"], found["version"]
    return {"number": doc["number"], "title": doc["title"], "version": row["version"],
            "current_version": doc["current_version"], "state": row["state"],
            "sha256": row["sha256"]}


@get("/verify", include_in_schema=False)
async def verify_page(request: Request, code: str = "") -> Template:
    return Template("documents/verify.html", context={
        "me": _user(request), "report": None, "error": None, "code": code[:64],
        "code_match": await _code_match(code), "local": china_time})


@post("/verify", include_in_schema=False)
async def verify_submit(request: Request,
                        data: Annotated[VerifyForm, Body(media_type=RequestEncodingType.MULTI_PART)]
                        ) -> Template:
    context: dict[str, Any] = {"me": _user(request), "report": None, "error": None, "code": "",
                               "code_match": None, "local": china_time}
    try:
        await check_rate(request)
        content = await read_upload(data.file)
    except AppError as exc:
        return Template("documents/verify.html", status_code=exc.status,
                        context={**context, "error": exc.detail})
    report = await verification.verify(content)
    return Template("documents/verify_report.html", context={**context, "report": report})


PAGES = [sign_page, sign_submit, sign_pdf, sign_preview, credentials_page, enroll_submit,
         pin_submit, revoke_submit, verify_page, verify_submit]
