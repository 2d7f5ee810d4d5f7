"""Annual assessment reports (年度物业服务评价报告): per (contract, period) and per company.

`produce_contract_report` / `produce_company_report` run in a queue job: gather the data
(read-only), render `pdf_templates/evaluations/*.html` in a worker thread, then register the PDF
in one transaction under the job's idempotency key. The issuer is the tenant's housing bureau;
the report concerns the property company, the estate's owners' and residents' committees and
the street office. Signers: the owners' committee chair, the residents' committee director and
the street office administrator (whoever holds those roles; a missing one is left out), then
the bureau's seal. A company roll-up carries the bureau's seal only.
"""
from __future__ import annotations

from datetime import date, datetime

import anyio
from markupsafe import Markup

from core.db import db
from core.i18n import N_
from core.i18n import gettext as _
from core.problems import NotFound
from documents import charts, pdfa
from documents import report_repository as rr
from documents import repository as repo
from documents import service
from documents.report_data import AnnualReportData, CompanyReportData, Party, to_source
from documents.report_gather import gather_company_report, gather_contract_report
from documents.rendering import Header, render_pdf
from documents.schemas import Signer

CATEGORY_LABELS = {
    "repair": N_("Repair"), "complaint": N_("Complaint"), "safety_hazard": N_("Safety hazard"),
    "sanitation": N_("Sanitation"), "greening": N_("Greening"), "order": N_("Security and order"),
    "parking": N_("Parking"), "neighbour_dispute": N_("Neighbour dispute"), "fees": N_("Fees"),
    "suggestion": N_("Suggestion"), "inquiry": N_("Inquiry"), "other": N_("Other")}
PRIORITY_LABELS = {"emergency": N_("Emergency"), "urgent": N_("Urgent"), "normal": N_("Normal")}
STATUS_LABELS = {
    "submitted": N_("Submitted"), "accepted": N_("Accepted"), "assigned": N_("Assigned"),
    "acknowledged": N_("Acknowledged"), "in_progress": N_("In progress"),
    "resolved": N_("Resolved"), "closed": N_("Closed"), "returned": N_("Returned"),
    "rejected": N_("Rejected"), "duplicate": N_("Duplicate"), "withdrawn": N_("Withdrawn")}
EVALUATOR_LABELS = {
    "owners_survey": N_("Owners' satisfaction survey"), "owners_committee": N_("Owners' committee"),
    "residents_committee": N_("Residents' committee"), "street_office": N_("Street office"),
    "bureau_inspection": N_("Bureau inspection"), "objective_metrics": N_("Objective case metrics")}
GRADE_LABELS = {"excellent": N_("Excellent"), "good": N_("Good"), "pass": N_("Pass"),
                "fail": N_("Fail")}
FLAG_LABELS = {"escalated": N_("Escalated"), "reopened": N_("Reopened"), "overdue": N_("Overdue"),
               "low_rating": N_("Low rating")}
OBJECTION_LABELS = {"open": N_("Under review"), "upheld": N_("Result upheld"),
                    "adjusted": N_("Score adjusted")}
COMPONENT_STATES = {"ok": N_("Counted"), "missing": N_("Missing"),
                    "insufficient": N_("Insufficient responses")}
# Who signs for each evaluating organisation (first role held wins).
SIGNING_ROLES = {"owners_committee": ("chair", "admin"),
                 "residents_committee": ("director", "admin"),
                 "street_office": ("admin",)}
SEAL_ROLES = ["admin"]
TEMPLATE_CONTRACT = "evaluations/annual_report.html"
TEMPLATE_COMPANY = "evaluations/company_report.html"


def report_title(period: str) -> str:
    if period.isdigit():
        return _("{year} Annual Property Service Assessment Report").format(year=period)
    return _("{period} Property Service Assessment Report").format(period=period)


def china_today() -> date:
    return datetime.now(rr.CHINA).date()


async def contract_report_signers(tenant_id: int, data: AnnualReportData) -> list[Signer]:
    signers: list[Signer] = []
    for kind, roles in SIGNING_ROLES.items():
        party: Party | None = getattr(data, kind)
        if party is None:
            continue
        user = await rr.signing_user(tenant_id, party.organization_id, roles)
        if user is None:
            continue
        signers.append(Signer(
            field_name=f"sig_{kind}", kind="person", role=_(EVALUATOR_LABELS[kind]),
            organization=party.name, organization_id=party.organization_id,
            user_id=user["id"], person_id=user["person"], name=user["display_name"]))
    if data.bureau is not None:
        signers.append(_bureau_seal(data.bureau))
    return signers


def _bureau_seal(bureau: Party) -> Signer:
    return Signer(field_name="seal_bureau", kind="seal", role=_("Seal of the issuing authority"),
                  organization=bureau.name, organization_id=bureau.organization_id,
                  roles=SEAL_ROLES)


def contract_attachments(data: AnnualReportData) -> list[pdfa.SourceFile]:
    files = [pdfa.json_attachment(to_source(data), "Report data (AnnualReportData)")]
    c = data.cases
    files.append(pdfa.csv_attachment(
        "cases_by_month.csv", ["month", "cases"],
        [[m, n] for m, n in zip(c.month_labels, c.by_month)], "Cases per month"))
    files.append(pdfa.csv_attachment(
        "cases_by_category.csv", ["category", "cases"],
        [[k, v] for k, v in c.by_category.items()], "Cases per category"))
    if data.assessment is not None and data.assessment.criteria:
        orgs = sorted({o for row in data.assessment.criteria for o in row.scores})
        files.append(pdfa.csv_attachment(
            "criterion_scores.csv", ["criterion", "weight", *orgs],
            [[r.name, r.weight, *(r.scores.get(o) for o in orgs)]
             for r in data.assessment.criteria], "Criterion scores per evaluator"))
    return files


def case_charts(c) -> dict[str, Markup]:
    no_data = _("No data")
    return {
        "by_month": Markup(charts.column_chart(c.month_labels, c.by_month,
                                               title=_("Cases by month"))),
        "by_category": Markup(charts.bar_chart(
            [_(CATEGORY_LABELS.get(k, k)) for k in c.by_category] or [no_data],
            list(c.by_category.values()) or [0], title=_("Cases by category"))),
        "on_time": Markup(charts.rate_chart(
            [_("Acknowledged on time"), _("Resolved on time"), _("Resolution rate")],
            [c.ack_on_time_rate, c.resolve_on_time_rate, c.resolution_rate],
            title=_("On-time rates"), no_data=no_data)),
        "ratings": Markup(charts.column_chart(
            [_("{n} stars").format(n=k) for k in c.rating_distribution],
            list(c.rating_distribution.values()), title=_("Rating distribution"),
            color=charts.ACCENT)),
    }


def labels() -> dict:
    return {"category": CATEGORY_LABELS, "priority": PRIORITY_LABELS, "status": STATUS_LABELS,
            "evaluator": EVALUATOR_LABELS, "grade": GRADE_LABELS, "flag": FLAG_LABELS,
            "objection": OBJECTION_LABELS, "component": COMPONENT_STATES}


async def produce_contract_report(tenant_id: int, contract_id: int, start: date, end: date, *,
                                  job_key: str, assessment_id: int | None = None,
                                  requested_by: int | None = None, lang: str = "zh-CN",
                                  open_for_signing: bool = True) -> dict:
    """Render and register the report of one contract for [start, end]; returns the version
    row. A retried job (same `job_key`) returns the version its first run registered."""
    done = await repo.system_version_by_job(tenant_id, job_key)
    if done is not None:
        return done
    data = await gather_contract_report(tenant_id, contract_id, start, end,
                                        assessment_id=assessment_id)
    if data is None:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    owner = data.bureau or data.street_office
    if owner is None:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    concerned = [p.organization_id for p in (data.company, data.owners_committee,
                                             data.residents_committee, data.street_office) if p]
    signers = await contract_report_signers(tenant_id, data)
    return await _render_and_register(
        tenant_id, kind="annual_report", subject_type="service_contract", subject_id=contract_id,
        period=data.period, title=report_title(data.period), owner=owner,
        estate_id=data.estate.id, concerned=concerned, template=TEMPLATE_CONTRACT,
        context={"data": data, "charts": case_charts(data.cases)},
        subtitle=f"{data.estate.name} · {data.company.name}",
        lines=[(_("Estate"), data.estate.name), (_("Property service company"), data.company.name),
               (_("Service contract"), data.contract.number or str(data.contract.id)),
               (_("Assessment period"), f"{data.period_start} — {data.period_end}")],
        signers=signers, source=to_source(data), attachments=contract_attachments(data),
        job_key=job_key, requested_by=requested_by, lang=lang,
        open_for_signing=open_for_signing)


async def produce_company_report(tenant_id: int, company_id: int, start: date, end: date, *,
                                 job_key: str, requested_by: int | None = None,
                                 lang: str = "zh-CN", open_for_signing: bool = True) -> dict:
    done = await repo.system_version_by_job(tenant_id, job_key)
    if done is not None:
        return done
    data: CompanyReportData | None = await gather_company_report(tenant_id, company_id, start,
                                                                 end)
    if data is None or data.bureau is None:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    rows = [[r.estate, r.contract_number, r.households, r.total_score, r.grade, r.cases,
             r.resolve_on_time_rate, r.average_rating] for r in data.estates]
    attachments = [pdfa.json_attachment(to_source(data), "Report data (CompanyReportData)"),
                   pdfa.csv_attachment("estates.csv", ["estate", "contract", "households",
                                                       "total_score", "grade", "cases",
                                                       "resolve_on_time_rate", "average_rating"],
                                       rows, "Estates served")]
    return await _render_and_register(
        tenant_id, kind="company_report", subject_type="organization", subject_id=company_id,
        period=data.period, title=report_title(data.period), owner=data.bureau, estate_id=None,
        concerned=[company_id], template=TEMPLATE_COMPANY,
        context={"data": data, "charts": case_charts(data.cases)}, subtitle=data.company.name,
        lines=[(_("Property service company"), data.company.name),
               (_("Assessment period"), f"{data.period_start} — {data.period_end}")],
        signers=[_bureau_seal(data.bureau)], source=to_source(data), attachments=attachments,
        job_key=job_key, requested_by=requested_by, lang=lang,
        open_for_signing=open_for_signing)


async def _render_and_register(tenant_id: int, *, kind: str, subject_type: str, subject_id: int,
                               period: str, title: str, owner: Party, estate_id: int | None,
                               concerned: list[int], template: str, context: dict,
                               subtitle: str, lines: list, signers: list[Signer], source: dict,
                               attachments: list, job_key: str, requested_by: int | None,
                               lang: str, open_for_signing: bool) -> dict:
    for _attempt in range(3):  # another render of the same subject may take the number first
        doc = await repo.system_document_by_subject(tenant_id, kind, subject_type, subject_id,
                                                    period)
        version_no = (doc["current_version"] if doc else 0) + 1
        header = Header(title=title, number=service.document_number(kind, subject_type,
                                                                    subject_id, period),
                        version=version_no, issuer=owner.name, issued_on=china_today(),
                        verify_code=service.verify_code_for(tenant_id, job_key),
                        subtitle=subtitle, lines=lines)
        rendered = await anyio.to_thread.run_sync(lambda: render_pdf(
            template, {**context, "header": header, "labels": labels()}, signers=signers,
            attachments=attachments, lang=lang))
        try:
            async with db().transaction():
                return await service.register_version(
                    tenant_id=tenant_id, kind=kind, subject_type=subject_type,
                    subject_id=subject_id, period=period, title=title,
                    owner_organization_id=owner.organization_id, estate_id=estate_id,
                    organizations=concerned, pdf=rendered.pdf, page_count=rendered.page_count,
                    signers=rendered.signers, source=source, template=template,
                    job_key=job_key, created_by=requested_by,
                    open_for_signing=open_for_signing, expected_version=version_no)
        except service.StaleRender:
            continue
    raise service.StaleRender(f"{kind} {subject_type} {subject_id} {period}: gave up")
