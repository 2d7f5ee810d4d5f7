"""HTML of the printable meeting papers (templates in pdf_templates/meetings): the public
notice (公示) offered for download, and the minutes the documents pipeline renders."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core import i18n

TEMPLATES = Path(__file__).resolve().parent.parent / "pdf_templates"
KIND_LABELS = {"joint": i18n.N_("Joint meeting"), "committee": i18n.N_("Owners' committee meeting"),
               "assembly": i18n.N_("Owners' assembly")}
CHOICE_LABELS = {"for": i18n.N_("For"), "against": i18n.N_("Against"),
                 "abstain": i18n.N_("Abstain")}
CHECK_LABELS = {
    "participation_area": i18n.N_("Participating area"),
    "participation_headcount": i18n.N_("Participating owners"),
    "approval_area": i18n.N_("Approving area (of participating)"),
    "approval_headcount": i18n.N_("Approving owners (of participating)"),
    "approval_of_all_members": i18n.N_("Members for (of all members)"),
    "approval_of_attending_organisations": i18n.N_("Organisations for (of those attending)"),
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(kind_labels=KIND_LABELS, choice_labels=CHOICE_LABELS,
                       check_labels=CHECK_LABELS, current_language=i18n.current_language)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def notice_html(notice: Any) -> str:
    return render("meetings/notice.html", notice=notice, content=notice.content)


def record_html(content: dict) -> str:
    """The meeting's record (attendance, agenda, resolutions with their tallies, actions)."""
    return render("meetings/_record.html", content=content)
