"""Case photos: JPEG, PNG or WebP up to 10 MB, checked by content and cleaned of metadata
(EXIF with GPS included) by core.images, stored content-addressed through core.storage with a
JPEG thumbnail; at most MAX_PHOTOS per case (like a WeChat post).

Who: anyone who sees the case may add a public photo (the reporter to their own case, the
organisations that see it); only organisations add or see internal ones. The case is checked
before the upload's content is looked at, so a stranger learns nothing from the answer.
Each photo writes an `attach` case event (its audit entry) and an outbox event.
"""
from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from cases.case_service import actor_seats, not_found, org_view, visible_case
from cases.case_util import emit, record_event
from cases.schemas import AttachmentOut
from core.db import fetch, require_transaction
from core.i18n import gettext as _
from core.images import process_photo_async
from core.problems import Conflict, Forbidden, Invalid
from core.storage import key_for, storage
from tenancy.principal import Principal

MAX_PHOTOS = 9
FINISHED = ("closed", "rejected", "duplicate", "withdrawn")  # a reopened case is in_progress again
STORAGE_NAMESPACE = "cases"


def attachment_out(r: dict[str, Any]) -> AttachmentOut:
    base = f"/api/v1/attachments/{r['id']}"
    return AttachmentOut(id=r["id"], case_id=r["case"], event_seq=r.get("event_seq"),
                         kind=r["kind"], content_type=r["content_type"], size=r["size"],
                         sha256=r["sha256"], width=r["width"], height=r["height"],
                         uploaded_by_user_id=r["uploaded_by"], uploaded_at=r["uploaded_at"],
                         visibility=r["visibility"], url=base, thumbnail_url=f"{base}/thumbnail")


async def count(tenant_id: int, case_id: int) -> int:
    rows = await fetch("SELECT count(*) AS n FROM case_attachment WHERE tenant = $1"
                       " AND \"case\" = $2", tenant_id, case_id)
    return rows[0]["n"]


def _too_many() -> Invalid:
    message = _("A case can have at most {limit} photos.").format(limit=MAX_PHOTOS)
    return Invalid(message, errors=[{"field": "file", "message": message}])


async def add_photo(p: Principal, case_id: int, content: bytes,
                    visibility: str = "public") -> AttachmentOut:
    case = await visible_case(p, case_id)  # 404 before the content is looked at
    internal = visibility == "internal"
    if not (org_view(p, case) or actor_seats(p, case)):  # a follower reads, nothing more
        raise Forbidden(_("Only the reporter and the organisations handling the case may add "
                          "photos."))
    if internal and not org_view(p, case):
        raise Forbidden(_("Only organisations may add internal photos."))
    if case["status"] in FINISHED:
        raise Conflict(_("Photos cannot be added to a case that is {status}.").format(
            status=case["status"]))
    if await count(p.tenant_id, case_id) >= MAX_PHOTOS:
        raise _too_many()
    if not content:
        raise Invalid(_("The file is empty."))
    photo = await process_photo_async(content)  # 413 / 415 / 422
    case = await visible_case(p, case_id, lock=True)
    if await count(p.tenant_id, case_id) >= MAX_PHOTOS:  # a parallel upload took the last slot
        raise _too_many()
    store = storage()
    main = await store.put(key_for(STORAGE_NAMESPACE, p.tenant_id, photo.sha256, photo.extension),
                           photo.data, photo.content_type)
    thumb = photo.thumbnail
    thumb_sha = hashlib.sha256(thumb.data).hexdigest()
    small = await store.put(key_for(STORAGE_NAMESPACE, p.tenant_id, thumb_sha, thumb.extension),
                            thumb.data, thumb.content_type)
    actor_org = next((o for o in actor_seats(p, case).values() if o is not None), None)
    event = await record_event(p, case, "attach", case["status"], actor_org=actor_org,
                               data={"kind": "photo", "sha256": photo.sha256},
                               visibility=visibility)
    require_transaction()
    rows = await fetch(
        "INSERT INTO case_attachment (tenant, \"case\", event, kind, storage_key, thumb_key,"
        " content_type, size, sha256, width, height, uploaded_by, uploaded_at, visibility)"
        " VALUES ($1, $2, $3, 'photo', $4, $5, $6, $7, $8, $9, $10, $11, now(), $12) RETURNING *",
        p.tenant_id, case_id, event["id"], main.key, small.key, photo.content_type, photo.size,
        photo.sha256, photo.width, photo.height, p.user_id, visibility)
    await emit(case, event, internal=internal)
    return attachment_out({**rows[0], "event_seq": event["seq"]})


_SELECT = ("SELECT a.*, e.seq AS event_seq FROM case_attachment a"
           " LEFT JOIN case_event e ON e.id = a.event")


async def list_photos(p: Principal, case_id: int) -> list[AttachmentOut]:
    case = await visible_case(p, case_id)
    rows = await fetch(f"{_SELECT} WHERE a.tenant = $1 AND a.\"case\" = $2"
                       " AND ($3 OR a.visibility = 'public') ORDER BY a.id",
                       p.tenant_id, case_id, org_view(p, case))
    return [attachment_out(r) for r in rows]


async def open_photo(p: Principal, attachment_id: int, *,
                     thumbnail: bool = False) -> tuple[dict, AsyncIterator[bytes]]:
    """The attachment's row and the bytes of the photo or its thumbnail, for anyone who sees
    the case (internal photos: organisations only); 404 otherwise."""
    rows = await fetch(f"{_SELECT} WHERE a.tenant = $1 AND a.id = $2", p.tenant_id, attachment_id)
    if not rows:
        raise not_found()
    row = rows[0]
    case = await visible_case(p, row["case"])
    if row["visibility"] == "internal" and not org_view(p, case):
        raise not_found()
    key = row["thumb_key"] if thumbnail else row["storage_key"]
    return row, await storage().open(key)
