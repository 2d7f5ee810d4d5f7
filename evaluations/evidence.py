"""Evidence photos of a submission: JPEG, PNG or WebP up to 10 MB, cleaned of metadata (EXIF
with GPS included) by core.images and stored content-addressed through core.storage with a
thumbnail; at most MAX_PHOTOS per submission. Uploaded by those who may edit the submission
while it is editable; read by those who may read it. A score's evidence names these photos."""
from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from core.i18n import gettext as _
from core.images import process_photo_async
from core.problems import Invalid
from core.storage import key_for, storage
from evaluations import repository as repo
from evaluations import scheme_service as schemes
from evaluations import submission_service as submissions
from evaluations.schemas import PhotoOut
from tenancy.principal import Principal

MAX_PHOTOS = 30
STORAGE_NAMESPACE = "evaluations"


def photo_out(r: dict) -> PhotoOut:
    base = f"/api/v1/evaluation-photos/{r['id']}"
    return PhotoOut(id=r["id"], submission_id=r["submission"], content_type=r["content_type"],
                    width=r["width"], height=r["height"], size=r["size"],
                    uploaded_at=r["uploaded_at"], url=base, thumbnail_url=f"{base}/thumbnail")


async def add_photo(p: Principal, submission_id: int, content: bytes) -> PhotoOut:
    sub = await submissions.row(p, submission_id, write=True)  # 404/403 before the content
    submissions.check_editable(sub)
    if not content:
        raise Invalid(_("The file is empty."))
    photo = await process_photo_async(content)  # 413 / 415 / 422
    sub = await submissions.row(p, submission_id, lock=True, write=True)
    if len(await repo.photos(submission_id)) >= MAX_PHOTOS:
        message = _("An evaluation can have at most {limit} photos.").format(limit=MAX_PHOTOS)
        raise Invalid(message, errors=[{"field": "file", "message": message}])
    store = storage()
    main = await store.put(key_for(STORAGE_NAMESPACE, p.tenant_id, photo.sha256, photo.extension),
                           photo.data, photo.content_type)
    thumb = photo.thumbnail
    small = await store.put(key_for(STORAGE_NAMESPACE, p.tenant_id,
                                    hashlib.sha256(thumb.data).hexdigest(), thumb.extension),
                            thumb.data, thumb.content_type)
    row = await repo.insert_photo(tenant=p.tenant_id, submission=submission_id,
                                  storage_key=main.key, thumbnail_key=small.key,
                                  content_type=photo.content_type, width=photo.width,
                                  height=photo.height, size=len(photo.data), uploaded_by=p.user_id)
    await submissions._log(p, sub, "evaluation.photo_added", photo=row["id"], sha256=photo.sha256)
    return photo_out(row)


async def list_photos(p: Principal, submission_id: int) -> list[PhotoOut]:
    await submissions.row(p, submission_id)
    return [photo_out(r) for r in await repo.photos(submission_id)]


async def open_photo(p: Principal, photo_id: int, *,
                     thumbnail: bool = False) -> tuple[dict, AsyncIterator[bytes]]:
    row = await repo.photo(p.tenant_id, photo_id)
    if row is None:
        raise schemes.not_found()
    await submissions.row(p, row["submission"])
    return row, await storage().open(row["thumbnail_key"] if thumbnail else row["storage_key"])
