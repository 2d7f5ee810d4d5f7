"""QR codes printed on documents: vector SVG (qrcode's path image), linking to the public
verification page for one version (`/verify?code=<verify code>`)."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from pydantic_settings import BaseSettings, SettingsConfigDict


class DocumentLinks(BaseSettings):
    """`PUBLIC_URL`: the address people reach this deployment at (printed in QR codes and on
    documents), e.g. https://gongzhi.example.gov.cn. Unset: http://HOST:PORT."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000


VERIFY_PATH = "/verify"


def public_base_url() -> str:
    links = DocumentLinks()
    return (links.public_url or f"http://{links.host}:{links.port}").rstrip("/")


def verify_url(code: str) -> str:
    """The public verification page of the version whose verify code is `code`."""
    return f"{public_base_url()}{VERIFY_PATH}?{urlencode({'code': code})}"


def qr_svg(data: str, *, size_mm: float = 28.0) -> str:
    """An inline <svg> of the QR code for `data`, `size_mm` wide (vector, no raster image)."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage,
                      error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    svg = img.to_string(encoding="unicode")
    svg = re.sub(r'width="[^"]*" height="[^"]*"',
                 f'width="{size_mm}mm" height="{size_mm}mm"', svg, count=1)
    return svg.replace("<svg ", '<svg class="qr" role="img" ', 1)
