"""Jinja → HTML → WeasyPrint → PDF/A-3b, with signature fields where the template reserved them.

Runs in queue workers only (documents.jobs), never in the web process: a report takes a second
or more of CPU. Templates live in `pdf_templates/` and extend `base.html` (cover, running header
with the title, "第 N 页 / 共 M 页" footer, document number, QR code to the verification page);
the shared print stylesheet is `pdf_templates/print.css`.

Signature boxes: a template reserves one empty box per signer with the `signature_boxes` macro
(element id `sigbox-<field name>`). After layout, WeasyPrint's anchors give each box's page and
rectangle; the empty signature field is created exactly there, so a visible stamp never covers
text. Other packages (meetings' minutes) call `render_pdf` with their own template and data.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from core import i18n
from documents import pdfa
from documents.qr import qr_svg, verify_url
from documents.schemas import Box, Signer

TEMPLATES = Path(__file__).resolve().parent.parent / "pdf_templates"
PX_TO_PT = 0.75  # CSS px (1/96 in) to PDF points (1/72 in)
BOX_PREFIX = "sigbox-"


@dataclass
class Header:
    """What every document prints on its cover and in its running header."""

    title: str
    number: str
    version: int
    issuer: str  # the owning organisation's name
    issued_on: date
    verify_code: str
    subtitle: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)  # (label, value) on the cover


@dataclass
class Rendered:
    pdf: bytes
    page_count: int
    signers: list[Signer]  # with their boxes filled in
    html: str
    seconds: dict[str, float]


def _css_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a valid CSS string literal


def page_footer_css(lang: str) -> Markup:
    """CSS `content` for the footer, e.g. "第 " counter(page) " 页 / 共 " counter(pages) " 页"."""
    text = i18n.gettext("Page {page} of {pages}", lang)
    parts = [p for p in re.split(r"(\{page\}|\{pages\})", text) if p]
    css = " ".join("counter(page)" if p == "{page}" else "counter(pages)" if p == "{pages}"
                   else _css_string(p) for p in parts)
    return Markup(css)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html", "xml"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["css_string"] = lambda s: Markup(_css_string(str(s)))
    env.filters["pct"] = lambda v: "—" if v is None else f"{float(v):.1f}%"
    env.filters["num"] = lambda v, d=1: "—" if v is None else f"{float(v):.{d}f}"
    return env


def render_html(template: str, context: dict[str, Any], *, lang: str = "zh-CN") -> str:
    """The template rendered in `lang` (gettext inside templates follows it)."""
    token = i18n.set_language(lang)
    try:
        header: Header = context["header"]
        base = {"lang": lang, "footer_css": page_footer_css(lang),
                "verify_url": verify_url(header.verify_code),
                "qr": Markup(qr_svg(verify_url(header.verify_code)))}
        return environment().get_template(template).render(**base, **context)
    finally:
        i18n.reset_language(token)


def layout(html: str):
    """WeasyPrint's laid-out document (pages, anchors) for `html`."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(TEMPLATES) + "/").render()


def place_signers(document, signers: list[Signer]) -> list[Signer]:
    """`signers` with `box` set from where the layout put each `sigbox-<field name>` element."""
    found: dict[str, Box] = {}
    for index, page in enumerate(document.pages):
        height_pt = page.height * PX_TO_PT
        for name, rect in page.anchors.items():
            if not name.startswith(BOX_PREFIX) or len(rect) != 4:
                continue
            x1, y1, x2, y2 = rect
            found.setdefault(name[len(BOX_PREFIX):], Box(
                page=index, x1=x1 * PX_TO_PT, y1=height_pt - y2 * PX_TO_PT,
                x2=x2 * PX_TO_PT, y2=height_pt - y1 * PX_TO_PT))
    placed = []
    for s in signers:
        if s.field_name not in found:
            raise ValueError(f"the template reserved no box for signer {s.field_name!r}")
        placed.append(Signer(**{**{f: getattr(s, f) for f in s.__struct_fields__},
                                "box": found[s.field_name]}))
    return placed


def render_pdf(template: str, context: dict[str, Any], *, signers: list[Signer],
               attachments: list[pdfa.SourceFile], lang: str = "zh-CN") -> Rendered:
    """The whole pipeline for one document: HTML, layout, PDF/A-3b with `attachments`, then the
    empty signature fields (incremental update). `context` must hold `header` (a Header);
    `signers` are also passed to the template as `signers`."""
    t0 = time.perf_counter()
    html = render_html(template, {**context, "signers": signers}, lang=lang)
    t1 = time.perf_counter()
    document = layout(html)
    placed = place_signers(document, signers)
    t2 = time.perf_counter()
    pdf = document.write_pdf(pdf_variant=pdfa.PDF_VARIANT, finisher=pdfa.serialise_once,
                             attachments=pdfa.weasy_attachments(attachments))
    t3 = time.perf_counter()
    pdf = pdfa.add_signature_fields(pdf, placed)
    t4 = time.perf_counter()
    return Rendered(pdf=pdf, page_count=len(document.pages), signers=placed, html=html,
                    seconds={"html": t1 - t0, "layout": t2 - t1, "pdf": t3 - t2,
                             "fields": t4 - t3})
