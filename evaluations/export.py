"""Exports of a campaign's results for city credit systems: CSV, XLSX and JSON in one stable,
documented layout (docs/evaluation_export.md; the XLSX carries the data dictionary as a sheet).

Stability: column keys and JSON member names never change meaning; new ones are only appended,
and `format_version` changes on any incompatible change. Values: scores 0–100 with 2 decimals,
rates as fractions 0–1, dates as ISO 8601 (CSV/JSON) or real dates (XLSX), empty = no data.
CSV is UTF-8 with a BOM and CRLF, its header row the column keys; text cells a spreadsheet would
take for a formula get a leading apostrophe (core.spreadsheet). Only the housing bureau
exports; every export is audited. No personal data: organisations and estates only.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from cases.export import local
from core.spreadsheet import formula_safe
from core.spreadsheet import xlsx_text
from core import audit
from core.i18n import N_, gettext
from core.i18n import gettext as _
from core.problems import Forbidden
from evaluations import results_service as results
from evaluations.metrics import METRICS
from evaluations.scoring import KINDS
from tenancy.principal import Principal

FORMAT, FORMAT_VERSION = "gongzhi.evaluation-results", 1
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPE = "application/json"
KIND_LABELS = {"owners_survey": N_("Owners' survey score"),
               "owners_committee": N_("Owners' committee score"),
               "residents_committee": N_("Residents' committee score"),
               "street_office": N_("Street office score"),
               "bureau_inspection": N_("Bureau inspection score"),
               "objective_metrics": N_("Objective metrics score")}
SHEET_RESULTS, SHEET_COMPANIES, SHEET_DICTIONARY = N_("Results"), N_("Companies"), N_("Data dictionary")


def _kind(r: dict, kind: str) -> float | None:
    c = ((r.get("components") or {}).get("kinds") or {}).get(kind) or {}
    return c.get("score") if c.get("state") == "ok" else None


def _survey(r: dict, key: str) -> Any:
    return ((r.get("components") or {}).get("kinds") or {}).get("owners_survey", {}).get(key)


def _metric(r: dict, key: str) -> Any:
    kinds = (r.get("components") or {}).get("kinds") or {}
    return (kinds.get("objective_metrics", {}).get("metrics") or {}).get(key)


# (key, label msgid, type, description msgid, value of a result dict)
Column = tuple[str, str, str, str, Callable[[dict], Any]]
COLUMNS: list[Column] = [
    ("campaign_id", N_("Campaign"), "integer", N_("Campaign id."), lambda r: r["campaign_id"]),
    ("assessment_id", N_("Assessment"), "integer", N_("Assessment id: one estate's contract in the campaign."),
     lambda r: r["assessment_id"]),
    ("contract_id", N_("Contract"), "integer", N_("Service contract id."), lambda r: r["contract_id"]),
    ("estate_id", N_("Estate id"), "integer", N_("Estate id."), lambda r: r["estate_id"]),
    ("estate_name", N_("Estate"), "text", N_("Estate name."), lambda r: r["estate_name"]),
    ("street_name", N_("Street"), "text", N_("Street office area of the estate."), lambda r: r["street_name"]),
    ("company_id", N_("Company id"), "integer", N_("Property company (organisation) id."),
     lambda r: r["property_company_id"]),
    ("company_name", N_("Property company"), "text", N_("Property company name."),
     lambda r: r["property_company_name"]),
    ("status", N_("Status"), "text", N_("scored, published, objection or final."), lambda r: r["status"]),
    ("total_score", N_("Total score"), "decimal", N_("Weighted total 0–100 (after any adjustment); empty when held."),
     lambda r: r["total_score"]),
    ("grade", N_("Grade"), "text", N_("Grade code from the scheme's bands (excellent, good, pass, fail)."),
     lambda r: r["grade"]),
    ("rank", N_("Rank"), "integer", N_("Rank among the campaign's assessments; ties share a rank."),
     lambda r: r["rank"]),
    ("held", N_("Held"), "boolean", N_("true when no total could be given (survey insufficient under the hold rule, or nothing to score)."),
     lambda r: r["held"]),
    ("previous_score", N_("Previous score"), "decimal", N_("Total of the same estate and company in the previous published campaign."),
     lambda r: r["previous_score"]),
    ("trend", N_("Trend"), "decimal", N_("total_score minus previous_score."), lambda r: r["trend"]),
    *[(f"score_{k}", KIND_LABELS[k], "decimal",
       N_("Component score 0–100; empty when missing or insufficient."),
       (lambda k: lambda r: _kind(r, k))(k)) for k in KINDS],
    ("survey_responses", N_("Survey responses"), "integer", N_("Households that answered the survey."),
     lambda r: _survey(r, "responses")),
    ("survey_households", N_("Households"), "integer", N_("Households of the estate (units without the developer's unsold ones)."),
     lambda r: _survey(r, "households")),
    ("survey_response_rate", N_("Survey response rate"), "rate", N_("survey_responses / survey_households."),
     lambda r: _survey(r, "response_rate")),
    *[(m.key, m.label, "integer" if m.kind == "count" else ("decimal" if m.kind == "rating" else "rate"),
       N_("Objective case metric; see docs/evaluation_metrics.md."),
       (lambda k: lambda r: _metric(r, k))(m.key)) for m in METRICS],
    ("objections", N_("Objections"), "integer", N_("Objections raised by the company."), lambda r: r["objections"]),
    ("adjusted", N_("Adjusted"), "boolean", N_("true when the bureau adjusted the total after an objection."),
     lambda r: bool((r.get("components") or {}).get("adjustment"))),
    ("published_at", N_("Published"), "datetime", N_("When the result was published."), lambda r: r["published_at"]),
    ("finalized_at", N_("Final"), "datetime", N_("When the result became final."), lambda r: r["finalized_at"]),
]
COMPANY_COLUMNS: list[Column] = [
    ("company_id", N_("Company id"), "integer", N_("Property company (organisation) id."),
     lambda r: r["property_company_id"]),
    ("company_name", N_("Property company"), "text", N_("Property company name."),
     lambda r: r["property_company_name"]),
    ("company_score", N_("Company score"), "decimal", N_("Households-weighted mean of the company's totals in the campaign."),
     lambda r: r["score"]),
    ("company_grade", N_("Grade"), "text", N_("Grade of the company score."), lambda r: r["grade"]),
    ("company_rank", N_("Rank"), "integer", N_("Rank among the tenant's companies; ties share a rank."),
     lambda r: r["rank"]),
    ("estates", N_("Estates"), "integer", N_("Assessments counted in the company score."), lambda r: r["estates"]),
    ("held", N_("Held"), "integer", N_("Held assessments left out of the company score."), lambda r: r["held"]),
    ("households", N_("Households"), "integer", N_("Households weighing the company score."),
     lambda r: r["households"]),
    ("previous_score", N_("Previous score"), "decimal", N_("Company score in the previous published campaign."),
     lambda r: r["previous_score"]),
    ("trend", N_("Trend"), "decimal", N_("company_score minus previous_score."), lambda r: r["trend"]),
]


def require_bureau(p: Principal) -> None:
    if not p.tenant_wide:
        raise Forbidden(_("Only the housing bureau may export evaluation results."))


async def gather(p: Principal, campaign_id: int) -> tuple[dict, list[dict], list[dict]]:
    require_bureau(p)
    campaign = await results.campaign_row(p, campaign_id)
    rows = [_builtins(r) for r in await results.results(p, campaign_id)]
    companies = [_builtins(c) for c in await results.company_results(p, campaign_id)]
    await audit.record(p.tenant_id, "evaluation.results_exported",
                       subject_type="evaluation_campaign", subject_id=campaign_id,
                       actor_user_id=p.user_id, data={"rows": len(rows)})
    return campaign, rows, companies


def _builtins(struct: Any) -> dict:
    import msgspec
    return {f: getattr(struct, f) for f in struct.__struct_fields__} if isinstance(
        struct, msgspec.Struct) else dict(struct)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, str):
        return formula_safe(value)
    return value


def to_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c[0] for c in COLUMNS])
    for r in rows:
        w.writerow([_csv_cell(c[4](r)) for c in COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return local(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return xlsx_text(value)
    return value


def _sheet(wb: Workbook, title: str, columns: list[Column], rows: list[dict]) -> None:
    ws = wb.create_sheet(title)
    ws.append([c[0] for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for r in rows:
        ws.append([_xlsx_cell(c[4](r)) for c in columns])


def to_xlsx(rows: list[dict], companies: list[dict], lang: str) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, gettext(SHEET_RESULTS, lang), COLUMNS, rows)
    _sheet(wb, gettext(SHEET_COMPANIES, lang), COMPANY_COLUMNS, companies)
    ws = wb.create_sheet(gettext(SHEET_DICTIONARY, lang))
    ws.append(["sheet", "key", "name", "type", "description"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for sheet, columns in ((SHEET_RESULTS, COLUMNS), (SHEET_COMPANIES, COMPANY_COLUMNS)):
        for key, label, kind, description, _get in columns:
            ws.append([gettext(sheet, lang), key, gettext(label, lang), kind,
                       gettext(description, lang)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def to_json(campaign: dict, rows: list[dict], companies: list[dict]) -> bytes:
    doc = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "campaign": {"id": campaign["id"], "name": campaign["name"],
                     "period_kind": campaign["period_kind"],
                     "period_start": _iso(campaign["period_start"]),
                     "period_end": _iso(campaign["period_end"]), "status": campaign["status"],
                     "scheme_version_id": campaign["scheme_version"],
                     "evaluator_weights": campaign["evaluator_weights"],
                     "grade_bands": campaign["grade_bands"]},
        "companies": [{c[0]: _iso(c[4](r)) for c in COMPANY_COLUMNS} for r in companies],
        "assessments": [{**{c[0]: _iso(c[4](r)) for c in COLUMNS},
                         "components": r.get("components")} for r in rows],
    }
    return json.dumps(doc, ensure_ascii=False, default=str, indent=1).encode("utf-8")


def file_name(campaign_id: int, extension: str) -> str:
    return f"evaluation-results-{campaign_id}.{extension}"
