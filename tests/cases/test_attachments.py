"""Case photos: checked by content, cleaned of EXIF (GPS included), thumbnailed, at most 9 per
case, and shown only to who sees the case (internal ones: organisations only)."""
from __future__ import annotations

import io

from PIL import ExifTags, Image

from core.db import fetch
from core.storage import storage
from tests.cases.helpers import headers, report
from tests.factories import tiny_jpeg


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "AcmePhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.5)
    return exif.tobytes()


async def upload(client, h, case_id: int, data: bytes, name: str = "p.jpg", **form):
    return await client.post(f"/api/v1/cases/{case_id}/attachments", headers=h,
                             files={"file": (name, data, "application/octet-stream")}, data=form)


async def test_a_jpeg_is_stored_without_exif_and_has_a_thumbnail(client, world):
    case = await report(client, world, building_id=world.a1.building)
    h = await headers(client, world, "resident")
    original = tiny_jpeg(size=(640, 480), exif=gps_exif())
    assert b"AcmePhone" in original and len(Image.open(io.BytesIO(original)).getexif()) > 0
    r = await upload(client, h, case["id"], original)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["content_type"] == "image/jpeg" and (out["width"], out["height"]) == (640, 480)
    assert out["visibility"] == "public" and out["event_seq"] == 2
    row = (await fetch("SELECT * FROM case_attachment WHERE id = $1", out["id"]))[0]
    stored = await storage().get(row["storage_key"])
    assert b"AcmePhone" not in stored and len(Image.open(io.BytesIO(stored)).getexif()) == 0
    got = await client.get(out["url"], headers=h)
    assert got.status_code == 200 and got.content == stored
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["cache-control"].startswith("private")
    thumb = await client.get(out["thumbnail_url"], headers=h)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 320
    events = (await client.get(f"/api/v1/cases/{case['id']}/events", headers=h)).json()
    assert events[-1]["action"] == "attach"
    outbox = await fetch("SELECT user_ids, organization_ids FROM outbox_event WHERE topic ="
                         " 'case.attach' AND (payload->>'case_id')::int = $1", case["id"])
    assert outbox and world.a1.orgs["property_company"] in outbox[0]["organization_ids"]
    audit = await fetch("SELECT 1 FROM audit_entry WHERE action = 'case.attach' AND subject_id = $1",
                        str(case["id"]))
    assert audit


async def test_png_and_webp_pass_pdf_gif_and_big_files_do_not(client, world):
    case = await report(client, world)
    h = await headers(client, world, "resident")
    for fmt, ctype in (("PNG", "image/png"), ("WEBP", "image/webp")):
        r = await upload(client, h, case["id"], tiny_jpeg(fmt=fmt), name="x.jpg")
        assert r.status_code == 201 and r.json()["content_type"] == ctype, r.text
    for data in (b"%PDF-1.4\n%%EOF\n", tiny_jpeg(fmt="GIF")):
        r = await upload(client, h, case["id"], data)
        assert r.status_code == 415, r.text
    r = await upload(client, h, case["id"], b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024))
    assert r.status_code == 413, r.text
    assert len((await client.get(f"/api/v1/cases/{case['id']}/attachments", headers=h)).json()) == 2


async def test_internal_photos_are_hidden_from_the_reporter(client, world):
    case = await report(client, world)
    manager = await headers(client, world, "property_company:manager")
    resident = await headers(client, world, "resident")
    r = await upload(client, resident, case["id"], tiny_jpeg(), visibility="internal")
    assert r.status_code == 403
    r = await upload(client, manager, case["id"], tiny_jpeg(), visibility="internal")
    assert r.status_code == 201, r.text
    internal = r.json()
    public = (await upload(client, manager, case["id"], tiny_jpeg((1, 2, 3)))).json()
    mine = (await client.get(f"/api/v1/cases/{case['id']}/attachments", headers=resident)).json()
    assert [a["id"] for a in mine] == [public["id"]]
    theirs = (await client.get(f"/api/v1/cases/{case['id']}/attachments", headers=manager)).json()
    assert [a["id"] for a in theirs] == [internal["id"], public["id"]]
    for url in (internal["url"], internal["thumbnail_url"]):
        assert (await client.get(url, headers=resident)).status_code == 404
        assert (await client.get(url, headers=manager)).status_code == 200
    outbox = await fetch("SELECT user_ids FROM outbox_event WHERE topic = 'case.attach'"
                         " AND (payload->>'case_id')::int = $1 ORDER BY id", case["id"])
    assert world.a1.user_ids["resident"] not in outbox[0]["user_ids"]


async def test_strangers_get_404_before_the_file_is_read(client, world):
    case = await report(client, world)
    own = await headers(client, world, "resident")
    photo = (await upload(client, own, case["id"], tiny_jpeg())).json()
    for persona, side in (("property_company:manager", "a2"), ("bureau:admin", "b")):
        h = await headers(client, world, persona, side)
        assert (await upload(client, h, case["id"], b"building,unit\n")).status_code == 404
        assert (await upload(client, h, case["id"], tiny_jpeg())).status_code == 404
        assert (await client.get(f"/api/v1/cases/{case['id']}/attachments",
                                 headers=h)).status_code == 404
        for url in (photo["url"], photo["thumbnail_url"]):
            assert (await client.get(url, headers=h)).status_code == 404


async def test_a_tenth_photo_is_refused(client, world):
    case = await report(client, world)
    h = await headers(client, world, "resident")
    for i in range(9):
        r = await upload(client, h, case["id"], tiny_jpeg((i, 0, 0)))
        assert r.status_code == 201, r.text
    r = await upload(client, h, case["id"], tiny_jpeg((99, 0, 0)))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
