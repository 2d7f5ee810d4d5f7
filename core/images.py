"""Photos from residents and staff: checked by content, cleaned of metadata, thumbnailed.

Decisions:
- Accepted: JPEG, PNG and WebP, recognised by their first bytes and confirmed by decoding
  with only that format's decoder. File names and declared content types are never looked
  at. A JPEG with extra MPO frames (phones add depth maps and previews) counts as a JPEG and
  its primary image is used.
- Animated WebP and animated PNG are refused (415): a report needs a still picture, and a
  silently chosen first frame may not show what the sender meant.
- Decompression bombs: more than `max_pixels` (40 megapixels by default, and never more than
  Pillow's own MAX_IMAGE_PIXELS, so its DecompressionBombWarning range is refused too) is
  refused from the header, before any pixel is decoded; DecompressionBombError likewise.
- Metadata: the EXIF orientation is applied, then the picture is rebuilt from its pixels
  alone and re-encoded, so no EXIF (GPS, camera, times), XMP, IPTC, comments, text chunks or
  ICC profile survive. An embedded ICC profile is first applied (pixels converted to sRGB),
  so wide-gamut phone photos (Display P3) keep their colours while the output carries no
  bytes of the sender's choosing; an unreadable profile is ignored.
- Output keeps its format (JPEG quality 85; PNG; WebP quality 85). Thumbnails are JPEG, at
  most 320 px on the long side, transparent areas on white: every browser, WeChat web view
  and PDF renderer shows JPEG.
"""
from __future__ import annotations

import asyncio
import contextvars
import hashlib
import io
import os
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from PIL import Image, ImageCms, ImageFile, ImageOps

from core.i18n import gettext as _
from core.problems import AppError, Invalid

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
THUMBNAIL_EDGE = 320
QUALITY = 85
THUMBNAIL_QUALITY = 80
# Pillow name -> (content type, file extension)
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


class PhotoTooLarge(AppError):
    status = 413


class UnsupportedPhoto(AppError):
    status = 415


class InvalidPhoto(Invalid):
    """Corrupt, truncated or a decompression bomb (422)."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    data: bytes
    format: str  # "jpeg", "png" or "webp"
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str  # of `data`, the cleaned image
    thumbnail: Thumbnail

    @property
    def size(self) -> int:
        return len(self.data)


def sniff(data: bytes) -> str | None:
    """The Pillow format name from the magic bytes, or None when not an accepted format."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise PhotoTooLarge(_("The photo is larger than {mb} MB.").format(mb=f"{max_bytes / 2**20:g}"))


def process_photo(data: bytes, max_bytes: int = MAX_PHOTO_BYTES,
                  max_pixels: int = MAX_PIXELS) -> ProcessedPhoto:
    """Check, clean and thumbnail one photo. CPU-bound: from async code use
    `process_photo_async`."""
    _check_size(data, max_bytes)
    kind = sniff(data)
    if kind is None:
        raise UnsupportedPhoto(_("Only JPEG, PNG and WebP photos are accepted."))
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as im:
            if im.format not in (kind, "MPO" if kind == "JPEG" else kind):
                raise InvalidPhoto(_("The photo is damaged or incomplete and cannot be read."))
            if getattr(im, "is_animated", False) and im.format != "MPO":
                raise UnsupportedPhoto(_("Animated images are not accepted; please send a still photo."))
            if im.width * im.height > limit:
                raise _too_many_pixels(limit)
            with _strict_decoding():
                im.load()
            clean = _clean(im)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(limit) from exc
    except _DECODE_ERRORS as exc:
        raise InvalidPhoto(_("The photo is damaged or incomplete and cannot be read.")) from exc
    encoded = _encode(clean, kind)
    content_type, extension = FORMATS[kind]
    return ProcessedPhoto(
        data=encoded, format=kind.lower(), content_type=content_type, extension=extension,
        width=clean.width, height=clean.height, sha256=hashlib.sha256(encoded).hexdigest(),
        thumbnail=_thumbnail(clean))


_DECODING = threading.Lock()


@contextmanager
def _strict_decoding():
    """Decode with truncated files refused, whatever the process-wide Pillow switch says.

    WeasyPrint sets `ImageFile.LOAD_TRUNCATED_IMAGES = True` for the whole process when it is
    imported (PDF rendering in workers, and in the demo's web process), which would let a cut-off
    upload through as a half-grey picture. Photo decoding holds this lock and the switch off;
    an image WeasyPrint decodes at that very moment is refused only if it is itself truncated.
    """
    with _DECODING:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _too_many_pixels(limit: int) -> InvalidPhoto:
    return InvalidPhoto(_("The photo has too many pixels (at most {n} megapixels).")
                        .format(n=f"{limit / 1e6:g}"))


def _clean(im: Image.Image) -> Image.Image:
    """The upright picture in sRGB (or grey), rebuilt from its pixels: no metadata at all."""
    try:
        upright = ImageOps.exif_transpose(im)
    except (ValueError, SyntaxError, KeyError, TypeError, struct.error):
        upright = im.copy()  # unreadable EXIF: nothing to rotate by; it is dropped below
    if upright.mode.startswith("I"):  # 16-bit grey PNG -> 8 bits
        upright = upright.convert("I").point(lambda v: v / 256).convert("L")
    alpha = None
    if upright.has_transparency_data:
        with_alpha = upright if "A" in upright.getbands() else upright.convert("RGBA")
        alpha = with_alpha.getchannel("A")
    colour = upright.convert("L") if upright.mode in ("1", "L", "LA") else _to_srgb(upright)
    if alpha is not None:
        colour.putalpha(alpha)
    clean = Image.new(colour.mode, colour.size)  # a fresh image: empty `info`, no EXIF
    clean.paste(colour)
    return clean


def _to_srgb(im: Image.Image) -> Image.Image:
    icc = im.info.get("icc_profile")
    if icc:
        source_mode = "CMYK" if im.mode == "CMYK" else "RGB"
        try:
            return ImageCms.profileToProfile(
                im.convert(source_mode), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # unreadable or mismatched profile: use the pixels as they are
    return im.convert("RGB")


def _flatten(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA"):
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(im.convert("RGBA"), mask=im.getchannel("A"))
        return background
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


def _encode(im: Image.Image, kind: str) -> bytes:
    buf = io.BytesIO()
    if kind == "JPEG":
        _flatten(im).save(buf, "JPEG", quality=QUALITY, optimize=True)
    elif kind == "PNG":
        im.save(buf, "PNG")
    else:
        im.save(buf, "WEBP", quality=QUALITY, method=4)
    return buf.getvalue()


def _thumbnail(im: Image.Image) -> Thumbnail:
    scale = min(1.0, THUMBNAIL_EDGE / max(im.size))
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    small = im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if size != im.size else im
    buf = io.BytesIO()
    _flatten(small).save(buf, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return Thumbnail(buf.getvalue(), "image/jpeg", "jpg", size[0], size[1])


# Own small pool: a few 40-megapixel decodes at once already take hundreds of MB, and photo
# work must not crowd out the default pool that file I/O uses. Pillow releases the GIL.
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                       thread_name_prefix="photo")
        return _pool


async def process_photo_async(data: bytes, max_bytes: int = MAX_PHOTO_BYTES,
                              max_pixels: int = MAX_PIXELS) -> ProcessedPhoto:
    """`process_photo` in a worker thread; errors come in the caller's language."""
    _check_size(data, max_bytes)
    job = partial(process_photo, data, max_bytes=max_bytes, max_pixels=max_pixels)
    context = contextvars.copy_context()  # the request's language
    return await asyncio.get_running_loop().run_in_executor(_executor(), context.run, job)
