"""Photos: accepted by content only, stripped of every bit of metadata (GPS first of all),
turned upright, thumbnailed; bombs, fakes and broken files refused with the right status.
All images are real ones made with Pillow here."""
from __future__ import annotations

import asyncio
import io
import random
import struct
import time
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin, features

from core.i18n import reset_language, set_language
from core.images import (
    InvalidPhoto,
    PhotoTooLarge,
    UnsupportedPhoto,
    process_photo,
    process_photo_async,
)

RED, BLUE = (220, 20, 20), (20, 20, 220)
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>'


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def red_left_blue_right(width: int = 20, height: int = 10, mode: str = "RGB") -> Image.Image:
    im = Image.new(mode, (width, height), BLUE)
    im.paste(Image.new(mode, (width // 2, height), RED), (0, 0))
    return im


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "AcmePhone"
    exif[ExifTags.Base.DateTime] = "2026:05:01 08:30:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 1.0)
    return exif


def noise(width: int, height: int) -> Image.Image:
    rng = random.Random(7)
    return Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny real PNG whose header claims `width` x `height` (valid CRC)."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def png_chunks(data: bytes) -> list[bytes]:
    chunks, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunks.append(kind)
        pos += 12 + length
    return chunks


def assert_no_metadata(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert len(im.getexif()) == 0
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Author"} & set(im.info)
    for marker in (b"Exif", b"AcmePhone", b"secret-xmp", b"GPS", b"2026:05:01"):
        assert marker not in data
    return im


def test_jpeg_loses_gps_exif_xmp_icc_and_comments() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encode(noise(64, 48), "JPEG", exif=exif_with_gps(), xmp=XMP, icc_profile=icc,
                      comment=b"AcmePhone comment")
    before = Image.open(io.BytesIO(original))
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really has GPS
    assert "xmp" in before.info and "icc_profile" in before.info

    photo = process_photo(original)
    im = assert_no_metadata(photo.data)
    assert (photo.format, photo.content_type, photo.extension) == ("jpeg", "image/jpeg", "jpg")
    assert im.format == "JPEG" and (photo.width, photo.height) == im.size == (64, 48)


def test_exif_orientation_is_applied_before_stripping() -> None:
    original = encode(red_left_blue_right(20, 10), "JPEG", exif=exif_with_gps(orientation=6), quality=95)
    photo = process_photo(original)
    im = assert_no_metadata(photo.data).convert("RGB")
    assert im.size == (10, 20) and (photo.width, photo.height) == (10, 20)
    # Orientation 6 is a 90° clockwise turn: the stored left (red) half ends up on top.
    top, bottom = im.getpixel((5, 3)), im.getpixel((5, 16))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]
    assert (photo.thumbnail.width, photo.thumbnail.height) == (10, 20)


def test_png_keeps_format_and_transparency_and_loses_text_and_exif() -> None:
    im = red_left_blue_right(40, 30, "RGBA")
    im.putpixel((0, 0), (0, 0, 0, 0))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "AcmePhone")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    photo = process_photo(encode(im, "PNG", pnginfo=info, exif=exif_with_gps()))
    out = assert_no_metadata(photo.data)
    assert png_chunks(photo.data) == [b"IHDR", b"IDAT", b"IEND"]
    assert out.format == "PNG" and out.mode == "RGBA" and out.getpixel((0, 0))[3] == 0
    assert (photo.format, photo.content_type, photo.extension) == ("png", "image/png", "png")
    assert Image.open(io.BytesIO(photo.thumbnail.data)).format == "JPEG"


def test_webp_keeps_format_and_loses_exif_and_xmp() -> None:
    original = encode(noise(50, 40), "WEBP", exif=exif_with_gps(), xmp=XMP, quality=90)
    assert "exif" in Image.open(io.BytesIO(original)).info
    photo = process_photo(original)
    out = assert_no_metadata(photo.data)
    assert out.format == "WEBP" and out.size == (50, 40)
    assert (photo.format, photo.content_type, photo.extension) == ("webp", "image/webp", "webp")
    assert b"EXIF" not in photo.data and b"XMP " not in photo.data


def test_the_format_comes_from_the_content_never_the_file_name(tmp_path) -> None:
    (tmp_path / "photo.jpg").write_bytes(encode(noise(8, 8), "PNG"))
    (tmp_path / "photo.png").write_bytes(encode(noise(8, 8), "WEBP"))
    (tmp_path / "photo.webp").write_bytes(encode(noise(8, 8), "JPEG"))
    (tmp_path / "photo.jpeg").write_bytes(encode(noise(8, 8), "GIF"))
    assert process_photo((tmp_path / "photo.jpg").read_bytes()).format == "png"
    assert process_photo((tmp_path / "photo.png").read_bytes()).format == "webp"
    assert process_photo((tmp_path / "photo.webp").read_bytes()).format == "jpeg"
    with pytest.raises(UnsupportedPhoto):
        process_photo((tmp_path / "photo.jpeg").read_bytes())


@pytest.mark.parametrize("data", [
    pytest.param(encode(noise(16, 16), "GIF"), id="gif"),
    pytest.param(encode(noise(16, 16), "BMP"), id="bmp"),
    pytest.param(encode(noise(16, 16), "TIFF"), id="tiff"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', id="svg"),
    pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, id="heic"),
    pytest.param(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", id="pdf"),
    pytest.param("报修：电梯坏了".encode(), id="text"),
    pytest.param(b"", id="empty"),
    pytest.param(b"RIFF\x10\x00\x00\x00WAVEfmt ", id="wav-riff"),
])
def test_other_formats_are_refused_as_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedPhoto) as caught:
        process_photo(data)
    assert caught.value.status == 415


@pytest.mark.skipif(not features.check("avif"), reason="Pillow without AVIF")
def test_avif_is_refused_even_though_pillow_could_read_it() -> None:
    with pytest.raises(UnsupportedPhoto):
        process_photo(encode(noise(16, 16), "AVIF"))


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_animated_images_are_refused(fmt: str) -> None:
    frames = [Image.new("RGB", (10, 10), RED), Image.new("RGB", (10, 10), BLUE)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(UnsupportedPhoto, match="(?i)animated|动图"):
        process_photo(data)


def test_a_jpeg_with_mpo_frames_yields_its_primary_image() -> None:
    frames = [Image.new("RGB", (30, 20), RED), Image.new("RGB", (15, 10), BLUE)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    photo = process_photo(data)
    assert photo.format == "jpeg" and (photo.width, photo.height) == (30, 20)
    assert Image.open(io.BytesIO(photo.data)).format == "JPEG"


@pytest.mark.parametrize("data", [
    pytest.param(encode(noise(64, 64), "JPEG")[:1500], id="jpeg-half"),
    pytest.param(encode(noise(64, 64), "JPEG")[:-2], id="jpeg-without-end-marker"),
    pytest.param(encode(noise(64, 64), "PNG")[:4000], id="png-half"),
    pytest.param(encode(noise(64, 64), "WEBP")[:600], id="webp-half"),
    pytest.param(b"\xff\xd8\xff" + b"not really a jpeg" * 20, id="jpeg-magic-only"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, id="png-magic-only"),
])
def test_truncated_or_corrupt_files_are_refused_as_invalid(data: bytes) -> None:
    with pytest.raises(InvalidPhoto) as caught:
        process_photo(data)
    assert caught.value.status == 422


def test_truncated_files_are_refused_even_after_weasyprint_relaxed_pillow() -> None:
    """WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process when imported
    (workers, the demo's web process); uploads must still be checked strictly."""
    import weasyprint  # noqa: F401 - imported for its side effect on Pillow
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    with pytest.raises(InvalidPhoto):
        process_photo(encode(noise(64, 64), "JPEG")[:1500])
    with pytest.raises(InvalidPhoto):
        process_photo(encode(noise(64, 64), "PNG")[:4000])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # WeasyPrint's own images are left as it wants


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_declaring(20_000, 20_000)  # 400 megapixels in 67 bytes
    assert len(bomb) < 100
    started = time.perf_counter()
    with pytest.raises(InvalidPhoto) as caught:
        process_photo(bomb)
    assert caught.value.status == 422 and time.perf_counter() - started < 0.5


def test_images_over_the_pixel_limit_are_refused() -> None:
    with pytest.raises(InvalidPhoto, match="40"):
        process_photo(png_declaring(7000, 6000))  # 42 MP: under Pillow's limit, over ours
    solid = encode(Image.new("1", (8000, 6000), 1), "PNG")  # 48 MP, a few KB compressed
    assert len(solid) < 100_000
    with pytest.raises(InvalidPhoto):
        process_photo(solid)
    with pytest.raises(InvalidPhoto):
        process_photo(encode(noise(100, 100), "PNG"), max_pixels=5_000)


def test_files_over_the_byte_limit_are_refused_with_413() -> None:
    with pytest.raises(PhotoTooLarge) as caught:
        process_photo(b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024))
    assert caught.value.status == 413 and "10" in caught.value.detail
    small = encode(noise(64, 64), "PNG")
    with pytest.raises(PhotoTooLarge):
        process_photo(small, max_bytes=len(small) - 1)
    assert process_photo(small, max_bytes=len(small)).width == 64


@pytest.mark.parametrize(("size", "thumb"), [
    ((3000, 1000), (320, 107)), ((600, 1200), (160, 320)), ((100, 50), (100, 50)), ((320, 320), (320, 320)),
])
def test_thumbnails_fit_320_pixels_on_the_long_side(size, thumb) -> None:
    photo = process_photo(encode(Image.linear_gradient("L").convert("RGB").resize(size), "JPEG"))
    assert (photo.thumbnail.width, photo.thumbnail.height) == thumb
    im = Image.open(io.BytesIO(photo.thumbnail.data))
    assert im.format == "JPEG" and im.size == thumb and photo.thumbnail.content_type == "image/jpeg"
    assert len(im.getexif()) == 0


def test_sha256_is_of_the_cleaned_bytes() -> None:
    import hashlib

    original = encode(noise(32, 32), "JPEG", exif=exif_with_gps())
    photo = process_photo(original)
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest() and photo.size == len(photo.data)
    assert photo.sha256 != hashlib.sha256(original).hexdigest()


def test_colour_profiles_are_applied_and_dropped() -> None:
    cmyk = Image.new("CMYK", (20, 20), (0, 255, 255, 0))  # red ink
    photo = process_photo(encode(cmyk, "JPEG"))
    out = assert_no_metadata(photo.data)
    r, g, b = out.convert("RGB").getpixel((10, 10))
    assert out.mode == "RGB" and r > 200 and g < 60 and b < 60
    junk_profile = process_photo(encode(noise(20, 20), "JPEG", icc_profile=b"not a profile" * 20))
    assert "icc_profile" not in Image.open(io.BytesIO(junk_profile.data)).info


async def test_async_processing_leaves_the_event_loop_free() -> None:
    data = encode(Image.linear_gradient("L").convert("RGB").resize((4000, 3000)), "JPEG")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    photo = await process_photo_async(data)
    elapsed = time.perf_counter() - started
    task.cancel()
    assert (photo.width, photo.height) == (4000, 3000)
    assert ticks >= min(5, int(elapsed / 0.002) // 4), (ticks, elapsed)


async def test_errors_come_in_the_callers_language() -> None:
    for language, expected in (("en", "Only JPEG, PNG and WebP photos are accepted."),
                               ("zh-CN", "仅支持 JPEG、PNG 和 WebP 格式的照片。")):
        token = set_language(language)
        try:
            with pytest.raises(UnsupportedPhoto) as caught:
                await process_photo_async(b"GIF89a" + b"\x00" * 32)
        finally:
            reset_language(token)
        assert caught.value.detail == expected
    token = set_language("zh-CN")
    try:
        with pytest.raises(PhotoTooLarge, match="照片超过 1 MB"):
            await process_photo_async(b"\x00" * (2**20 + 1), max_bytes=2**20)
    finally:
        reset_language(token)
