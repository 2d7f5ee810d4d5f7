"""The signing of rendered minutes, seen from the meeting: where it stands (who signed, whose
turn), the signatory's inbox (minutes waiting for the caller's signature or seal), signing
through documents.signing_service, and daily reminders to whoever's turn it is."""
from __future__ import annotations

from typing import Any

from core import outbox
from core.i18n import gettext as _
from core.problems import Conflict
from documents import repository as documents_repo
from documents import service as registry
from documents import signing_service
from documents.schemas import signers_from_json
from meetings import repository as repo
from meetings.meeting_service import not_found, scope_for, visible
from tenancy.principal import Principal

OPEN_STATES = ("awaiting_signatures", "signed")


def status_of(p: Principal | None, version: dict) -> dict[str, Any]:
    signers = signers_from_json(version["signers"])
    nxt = version["next_signer"]
    open_ = version["state"] in OPEN_STATES and nxt < len(signers)
    return {
        "document_id": version["document"], "version": version["version"],
        "state": version["state"], "sha256": version["sha256"],
        "signers": [{"index": i, "kind": s.kind, "name": s.name, "role": s.role,
                     "organization": s.organization, "signed": i < nxt,
                     "turn": open_ and i == nxt} for i, s in enumerate(signers)],
        "my_turn": bool(p and open_ and registry.signer_matches(p, signers[nxt])),
    }


async def _version(p: Principal, meeting_id: int) -> tuple[dict, dict]:
    meeting = await visible(p, meeting_id)
    m = await repo.minutes(p.tenant_id, meeting_id)
    if m is None or m["document"] is None:
        raise not_found()
    _doc, version = await registry.get_version(p, m["document"])
    return meeting, version


async def signature_status(p: Principal, meeting_id: int) -> dict[str, Any]:
    _meeting, version = await _version(p, meeting_id)
    return status_of(p, version)


async def sign(p: Principal, meeting_id: int, pin: str) -> dict[str, Any]:
    """Sign (or seal) the caller's slot of the meeting's minutes, in turn."""
    _meeting, version = await _version(p, meeting_id)
    if version["state"] not in OPEN_STATES:
        raise Conflict(_("These minutes are not open for signing."))
    result = await signing_service.sign_version(p, version["document"], version["version"], pin)
    return status_of(p, result.version)


async def inbox(p: Principal) -> list[dict[str, Any]]:
    """Minutes of meetings the caller sees whose next signature or seal is theirs."""
    out, scope = [], await scope_for(p)
    for row in await repo.minutes_with_documents(p.tenant_id):
        meeting = await repo.meeting(scope, row["meeting"])
        if meeting is None:
            continue
        try:
            _doc, version = await registry.get_version(p, row["document"])
        except Exception:  # the documents' own reader scope decides
            continue
        status = status_of(p, version)
        if status["my_turn"]:
            out.append({"meeting_id": meeting["id"], "title": meeting["title"],
                        "kind": meeting["kind"], "starts_at": meeting["starts_at"], **status})
    return out


async def send_reminders() -> int:
    """System level (daily job): one reminder event to each signatory whose turn it is."""
    sent = 0
    for row in await repo.minutes_with_documents(None):
        doc = await documents_repo.system_document(row["tenant"], row["document"])
        if doc is None:
            continue
        version = await documents_repo.system_version(row["tenant"], doc["id"],
                                                      doc["current_version"])
        if version is None or version["state"] not in OPEN_STATES:
            continue
        signers = signers_from_json(version["signers"])
        if version["next_signer"] >= len(signers):
            continue
        s = signers[version["next_signer"]]
        await outbox.emit(row["tenant"], "meeting.signature_reminder", {
            "meeting_id": row["meeting"], "document_id": doc["id"],
            "version": version["version"], "field": s.field_name, "kind": s.kind},
            users=[s.user_id] if s.kind == "person" and s.user_id else [],
            organizations=[s.organization_id] if s.kind == "seal" and s.organization_id else [])
        sent += 1
    return sent
