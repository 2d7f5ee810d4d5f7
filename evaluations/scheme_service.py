"""Evaluation schemes: the criteria tree, evaluator weights, grade bands and survey rules.

Every tenant has a default scheme (DESIGN §4), created on first use. A scheme changes only by
adding a version; versions are immutable (the database refuses updates) and a campaign keeps
the version it was created with. Bureau administrators add schemes and versions; bureau members read them
through the schemes API, evaluators see the criteria in their submissions.

Scoring arithmetic other code relies on: evaluators score the LEAVES of the criteria tree 0–100;
a head with children scores the weighted mean of its children; the submission's score is the
weighted mean of the heads (`weighted_score`). Sibling weights always sum to 100.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from core import audit
from core.i18n import gettext as _
from core.problems import Forbidden, Invalid, NotFound
from evaluations import repository as repo
from evaluations.schemas import (
    SchemeIn,
    SchemeOut,
    SchemeVersionIn,
    SchemeVersionOut,
)
from tenancy.principal import Principal

DEFAULT_NAME = "默认评价方案"
COMPONENT_KINDS = ("owners_survey", "owners_committee", "residents_committee", "street_office",
                   "bureau_inspection", "objective_metrics")


def _c(key: str, zh: str, en: str, weight: float, description: str) -> dict[str, Any]:
    """A default criterion (its description is tenant data, in Chinese like the tenant's own)."""
    return {"key": key, "name_zh": zh, "name_en": en, "weight": weight,
            "description": description, "children": []}


DEFAULT_CRITERIA = [
    _c("general_management", "综合管理", "General management", 15,
       "人员配备与资质、管理制度、档案记录、收费公示、维修资金使用。"),
    _c("buildings", "房屋管理", "Buildings", 15,
       "房屋巡查与养护、装饰装修管理、标识标牌。"),
    _c("facilities", "共用设施设备", "Shared facilities & equipment", 15,
       "电梯、供水供电、消防设施、照明及维保记录。"),
    _c("order_safety", "秩序维护", "Order & safety", 15,
       "出入管理、巡逻、停车秩序、应急预案与演练。"),
    _c("cleaning", "保洁", "Cleaning", 15,
       "公共区域清洁、垃圾分类与清运、消杀。"),
    _c("greening", "绿化", "Greening", 10, "草坪、树木和绿地养护。"),
    _c("customer_service", "客户服务与投诉处理", "Customer service & complaints", 15,
       "报修与投诉响应、回访、与业主沟通。"),
]
DEFAULT_VERSION: dict[str, Any] = {
    "criteria": DEFAULT_CRITERIA,
    "evaluator_weights": {"owners_survey": 30, "owners_committee": 20, "residents_committee": 20,
                          "street_office": 7.5, "bureau_inspection": 7.5,
                          "objective_metrics": 15},
    "grade_bands": [{"grade": "excellent", "min_score": 90}, {"grade": "good", "min_score": 80},
                    {"grade": "pass", "min_score": 70}, {"grade": "fail", "min_score": 0}],
    "objection_window_days": 5, "publication_days": 3, "min_survey_response_rate": 0.3,
    "survey_rule": "reweight",
}


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def require_bureau(p: Principal) -> None:
    if not p.tenant_wide:
        raise Forbidden(_("Only the housing bureau may do this."))


def require_bureau_admin(p: Principal) -> None:
    if not p.is_tenant_admin:
        raise Forbidden(_("Only administrators of the housing bureau may do this."))


# --- arithmetic ------------------------------------------------------------------------------------
def leaves(criteria: list[dict]) -> list[dict]:
    """The criteria evaluators score, in tree order."""
    return [leaf for c in criteria for leaf in (c.get("children") or [c])]


def leaf_keys(criteria: list[dict]) -> list[str]:
    return [c["key"] for c in leaves(criteria)]


def weighted_score(criteria: list[dict], scores: dict[str, float]) -> float | None:
    """The 0–100 score over the tree from leaf scores; None when a leaf has none."""
    total = Decimal(0)
    for head in criteria:
        children = head.get("children") or []
        if children:
            value = Decimal(0)
            for child in children:
                if child["key"] not in scores:
                    return None
                value += Decimal(str(child["weight"])) * Decimal(str(scores[child["key"]]))
            value /= 100
        elif head["key"] in scores:
            value = Decimal(str(scores[head["key"]]))
        else:
            return None
        total += Decimal(str(head["weight"])) * value
    return float((total / 100).quantize(Decimal("0.01")))


def grade_for(bands: list[dict], score: float) -> str:
    """The first band (ordered by min_score descending) the score reaches."""
    for band in bands:
        if score >= band["min_score"]:
            return band["grade"]
    return bands[-1]["grade"]


# --- validation ------------------------------------------------------------------------------------
def _near(total: float, target: float = 100) -> bool:
    return abs(total - target) < 1e-6


def validate(data: SchemeVersionIn) -> dict[str, Any]:
    """The version as stored, or 422 naming every field that breaks a rule."""
    errors: list[dict[str, str]] = []

    def err(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    seen: set[str] = set()
    if not _near(sum(c.weight for c in data.criteria)):
        err("criteria", _("The weights of the criteria at one level must add up to 100."))
    for i, head in enumerate(data.criteria):
        for j, node in enumerate([head, *head.children]):
            where = f"criteria[{i}]" + (f".children[{j - 1}]" if j else "")
            if node.key in seen:
                err(f"{where}.key", _("Each criterion needs its own key."))
            seen.add(node.key)
        if head.children and not _near(sum(c.weight for c in head.children)):
            err(f"criteria[{i}].children",
                _("The weights of the criteria at one level must add up to 100."))
    weights = data.evaluator_weights
    if not _near(sum(weights.values())):
        err("evaluator_weights", _("The evaluator weights must add up to 100."))
    bands = data.grade_bands
    if any(a.min_score <= b.min_score for a, b in zip(bands, bands[1:])) or bands[-1].min_score != 0:
        err("grade_bands", _("Grade bands must be ordered from the highest minimum score down, "
                             "and the last one must start at 0."))
    if len({b.grade for b in bands}) != len(bands):
        err("grade_bands", _("Each grade band needs its own grade."))
    if errors:
        raise Invalid(_("The evaluation scheme is not valid."), errors=errors)
    values = msgspec.to_builtins(data)
    values["evaluator_weights"] = {k: weights.get(k, 0) for k in COMPONENT_KINDS}
    return values


# --- reading and writing ----------------------------------------------------------------------------
def version_out(v: dict) -> SchemeVersionOut:
    return msgspec.convert({
        "id": v["id"], "scheme_id": v["scheme"], "number": v["number"], "criteria": v["criteria"],
        "evaluator_weights": v["evaluator_weights"], "grade_bands": v["grade_bands"],
        "objection_window_days": v["objection_window_days"],
        "publication_days": v["publication_days"],
        "min_survey_response_rate": float(v["min_survey_response_rate"]),
        "survey_rule": v["survey_rule"], "created_at": v["created_at"],
        "in_use": v["in_use"]}, SchemeVersionOut)


async def ensure_default_scheme(tenant_id: int, user_id: int | None = None) -> dict:
    """The latest version of the tenant's default scheme, creating the scheme on first use."""
    row = await repo.scheme_by_name(tenant_id, DEFAULT_NAME)
    if row is None:
        row = await repo.insert_scheme(tenant_id, DEFAULT_NAME) or await repo.scheme_by_name(
            tenant_id, DEFAULT_NAME)
    latest = await repo.latest_version(tenant_id, row["id"])  # type: ignore[index]
    if latest is None:
        latest = await repo.insert_version(tenant_id, row["id"], DEFAULT_VERSION, user_id)  # type: ignore[index]
        await audit.record(tenant_id, "evaluation.scheme_seeded", subject_type="evaluation_scheme",
                           subject_id=row["id"], actor_user_id=user_id,  # type: ignore[index]
                           data={"version": latest["number"]})
    return latest


async def list_schemes(p: Principal) -> list[SchemeOut]:
    require_bureau(p)
    await ensure_default_scheme(p.tenant_id, p.user_id)
    out = []
    for s in await repo.schemes(p.tenant_id):
        latest = await repo.latest_version(p.tenant_id, s["id"])
        if latest is not None:
            out.append(SchemeOut(id=s["id"], name=s["name"], created_at=s["created_at"],
                                 latest=version_out(latest)))
    return out


async def get_version(p: Principal, version_id: int) -> SchemeVersionOut:
    row = await repo.version(p.tenant_id, version_id)
    if row is None or not p.tenant_wide:
        raise not_found()
    return version_out(row)


async def add_version(p: Principal, scheme_id: int, data: SchemeVersionIn) -> SchemeVersionOut:
    if await repo.scheme(p.tenant_id, scheme_id) is None:
        raise not_found()
    require_bureau_admin(p)
    values = validate(data)
    row = await repo.insert_version(p.tenant_id, scheme_id, values, p.user_id)
    await audit.record(p.tenant_id, "evaluation.scheme_version_added",
                       subject_type="evaluation_scheme", subject_id=scheme_id,
                       actor_user_id=p.user_id, data={"version": row["number"], **values})
    return version_out(row)


async def create_scheme(p: Principal, data: SchemeIn) -> SchemeOut:
    require_bureau_admin(p)
    values = validate(data.version)
    row = await repo.insert_scheme(p.tenant_id, data.name.strip())
    if row is None:
        message = _("A scheme of this name already exists.")
        raise Invalid(message, errors=[{"field": "name", "message": message}])
    v = await repo.insert_version(p.tenant_id, row["id"], values, p.user_id)
    await audit.record(p.tenant_id, "evaluation.scheme_created", subject_type="evaluation_scheme",
                       subject_id=row["id"], actor_user_id=p.user_id,
                       data={"name": row["name"], **values})
    return SchemeOut(id=row["id"], name=row["name"], created_at=row["created_at"],
                     latest=version_out(v))
