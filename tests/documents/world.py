"""The documents package's part of the test world (see tests/factories.py WORLD_EXTENSIONS).

Each side gets a registered annual report (version 1, awaiting signatures: the owners'
committee chair, then the residents' committee admin, then the owners' committee seal),
owned by the street office and concerning the estate's committees and property company.
`registered_document` is its id; the route walker fills `document_id` on /api/v1/documents
and /documents routes with it (`document_id` means a contract scan elsewhere).
"""
from __future__ import annotations

from core.db import fetch
from documents import service
from documents.schemas import Box, Signer
from tenancy.principal import Principal
from tenancy.repository import load_seats

WALKER_IDS = {"/api/v1/documents:document_id": "registered_document",
              "/documents:document_id": "registered_document",
              "export_id": "document_export"}


def tiny_pdf(text: str = "Gongzhi") -> bytes:
    """A valid one-page PDF (no fonts needed), for registry tests that do not render."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"]
    stream = f"% {text}\n".encode()
    objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def world_signers(side) -> list[Signer]:
    return [
        Signer(field_name="sig_oc_chair", kind="person", role="业主委员会主任",
               organization=f"{side.marker} owners_committee",
               organization_id=side.orgs["owners_committee"],
               user_id=side.user_ids["owners_committee:chair"], name="chair",
               box=Box(page=0, x1=60, y1=80, x2=240, y2=160)),
        Signer(field_name="sig_rc_admin", kind="person", role="居民委员会",
               organization=f"{side.marker} residents_committee",
               organization_id=side.orgs["residents_committee"],
               user_id=side.user_ids["residents_committee:admin"], name="rc admin",
               box=Box(page=0, x1=300, y1=80, x2=480, y2=160)),
        Signer(field_name="seal_oc", kind="seal", role="业主委员会（盖章）",
               organization=f"{side.marker} owners_committee",
               organization_id=side.orgs["owners_committee"], roles=["admin"],
               box=Box(page=0, x1=360, y1=200, x2=520, y2=360)),
    ]


async def seed(tenant: int, tag: str, side) -> None:
    version = await service.register_version(
        tenant_id=tenant, kind="annual_report", subject_type="service_contract",
        subject_id=side.contract, period="2025", title=f"{side.marker} 2025 年度物业服务评价报告",
        owner_organization_id=side.orgs["street_office"], estate_id=side.estate,
        organizations=[side.orgs["owners_committee"], side.orgs["residents_committee"],
                       side.orgs["property_company"]],
        pdf=tiny_pdf(side.marker), page_count=1, signers=world_signers(side),
        source={"marker": side.marker}, template="world", job_key=f"world:{tag}",
        open_for_signing=True)
    side.extra["registered_document"] = version["document"]
    side.extra["registered_version"] = version["version"]
    await fetch("UPDATE outbox_event SET published_at = now() WHERE tenant_id = $1"
                " AND topic LIKE 'document.%' AND published_at IS NULL", tenant)
    # A finished campaign download of the street office (exports are read by the requesting
    # organisation's members only).
    side.extra["document_export"] = (await fetch(
        "INSERT INTO document_export (tenant, kind, subject_type, subject_id, requested_by,"
        " organization, state, done, total, file_name, storage_key, sha256, size, created_at)"
        " VALUES ($1, 'campaign_zip', 'evaluation_campaign', 0, $2, $3, 'ready', 1, 1,"
        " $4, $5, $6, $7, now()) RETURNING id", tenant, side.user_ids["street_office:admin"],
        side.orgs["street_office"], f"{side.marker}.zip", version["storage_key"],
        version["sha256"], version["size"]))[0]["id"]


async def principal(tenant: int, user_id: int, username: str = "") -> Principal:
    """A Principal for a world user, as the authentication middleware would build it."""
    return Principal(user_id=user_id, tenant_id=tenant, tenant_name="", username=username,
                     display_name=username, language="zh-CN", person_id=None, token_id=0,
                     token_kind="api", seats=await load_seats(user_id, tenant))


# --- keys and signing (documents/credentials.py) ------------------------------------------------
# Each side's owners' committee chair holds a signing certificate (PIN "482916") and the owners'
# committee has a seal (same PIN); `/sign/...` pages take the registered document's id.
WALKER_IDS["/sign:document_id"] = "registered_document"
WALKER_IDS["credential_id"] = "signing_credential"
WORLD_PIN = "482916"
_seed_registry = seed


async def seed(tenant: int, tag: str, side) -> None:  # noqa: F811 - extends the registry's seed
    from documents import credentials

    await _seed_registry(tenant, tag, side)
    chair = await principal(tenant, side.user_ids["owners_committee:chair"], f"{tag} chair")
    side.extra["signing_credential"] = (await credentials.enroll(chair, WORLD_PIN))["id"]
    admin = await principal(tenant, side.user_ids["owners_committee:admin"], f"{tag} oc admin")
    side.extra["seal_credential"] = (await credentials.create_seal(
        admin, side.orgs["owners_committee"], WORLD_PIN))["id"]
