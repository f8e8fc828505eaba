"""The subject of each record (who it is about) and the fields that describe it: name, category, codes,
legal representative and the persons' identity documents, address, registration facts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from etl.catalog import CatalogField, Dataset, Department
from etl.codes import uscc as uscc_code
from etl.demo_data.subjects import KINDS_OF_CATEGORY, SubjectPool
from etl.demo_data.values.base import (
    fallback,
    finance_head_of,
    is_person,
    named,
    people_attr,
    person_index,
    rep_index,
    subject_attr,
    subject_kinds,
    uses_alt_id,
)

if TYPE_CHECKING:
    from etl.demo_data.table import Context


# Share of each kind of subject per dataset or per department; restricted to the dataset's
# subject_types. Tags pick subjects whose trade fits (words.TRADES).
DEFAULT_KINDS = {"company": 0.72, "shop": 0.12, "person": 0.10, "cooperative": 0.02, "collective": 0.01,
                 "social_org": 0.01, "institution": 0.02}  # fmt: skip


DATASET_SUBJECTS: dict[str, tuple[dict[str, float], str]] = {
    # The registry also carries the rural collectives (N2…) the agriculture bureaus registered.
    "legal_entity_basic": ({"company": 0.78, "shop": 0.15, "cooperative": 0.05, "collective": 0.02}, ""),
    "public_institution": ({"institution": 1.0}, ""),
    "social_organization": ({"social_org": 1.0}, ""),
    "dishonest_judgment_debtor": ({"company": 0.5, "person": 0.5}, ""),
    "major_tax_violation": ({"company": 0.75, "shop": 0.1, "person": 0.15}, ""),
    "construction_enterprise_qualification": ({"company": 1.0}, "c"),
    "food_safety_sampling_failed": ({"company": 0.45, "shop": 0.55}, "f"),
    "product_quality_spot_check": ({"company": 1.0}, "i"),
    "enterprise_environmental_credit": ({"company": 1.0}, "e"),
    "safety_production_dishonest": ({"company": 0.85, "shop": 0.15}, "mce"),
    "wage_arrears_dishonest": ({"company": 0.95, "shop": 0.05}, "c"),
    "contract_honouring_enterprise": ({"company": 1.0}, ""),
    "basic_deposit_account": ({"company": 0.8, "shop": 0.1, "cooperative": 0.05, "social_org": 0.05}, ""),
    "tax_credit_grade_a": ({"company": 0.9, "shop": 0.05, "cooperative": 0.05}, ""),
}


DEPARTMENT_SUBJECTS: dict[str, tuple[dict[str, float], str]] = {
    "jt": ({"company": 0.5, "shop": 0.15, "person": 0.35}, "t"),
    "wjw": ({"company": 0.35, "shop": 0.25, "person": 0.15, "institution": 0.25}, "h"),
    "sthj": ({"company": 0.9, "shop": 0.1}, "em"),
    "yjgl": ({"company": 0.85, "shop": 0.1, "person": 0.05}, "mce"),
    "tax": ({"company": 0.8, "shop": 0.2}, ""),
    "scjg": ({"company": 0.6, "shop": 0.35, "person": 0.05}, "rfm"),
    "xzsp": ({"company": 0.55, "shop": 0.4, "person": 0.05}, "rfhs"),
    "zj": ({"company": 1.0}, "c"),
}


def _subject_profile(dataset: Dataset, department: str) -> tuple[dict[str, float], str]:
    eligible = {kind for category in dataset.subject_types for kind in KINDS_OF_CATEGORY[category]}
    shares, tags = (
        DATASET_SUBJECTS.get(dataset.id) or DEPARTMENT_SUBJECTS.get(department) or (DEFAULT_KINDS, "")
    )
    kept = {k: w for k, w in shares.items() if k in eligible}
    if not kept:
        kept = {k: w for k, w in DEFAULT_KINDS.items() if k in eligible}
    return kept, tags


def lists_each_subject_once(dataset: Dataset) -> bool:
    """Registries and lists name a subject once; penalties and licences are events that recur."""
    return dataset.category not in ("penalty", "licensing")


def choose_subjects(
    dataset: Dataset, department: Department, pool: SubjectPool, rows: int, rng: np.random.Generator
) -> np.ndarray:
    """Pool indices of the subjects of ``rows`` records, popular subjects more often."""
    shares, tags = _subject_profile(dataset, department.id)
    types = {f.name: f.type for f in dataset.fields}
    # Without a registration-number column, a 个体工商户 under the placeholder code could not be clean.
    real_uscc = types.get("uscc") == "uscc" and "regno" not in types.values()
    local = dataset.category == "basic"
    replace = not lists_each_subject_once(dataset)
    kinds = list(shares)
    counts = rng.multinomial(rows, np.array([shares[k] for k in kinds]) / sum(shares.values()))
    parts = []
    for kind, count in zip(kinds, counts, strict=True):
        candidates = pool.indices((kind,), tags=tags, local_only=local, real_uscc=real_uscc)
        if count == 0 or len(candidates) == 0:
            continue
        weights = pool.popularity[candidates] / pool.popularity[candidates].sum()
        size = int(count) if replace else min(int(count), len(candidates))
        parts.append(rng.choice(candidates, size=size, replace=replace, p=weights))
    chosen = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    return rng.permutation(chosen)


@named("subject_name", "person_name")
def subject_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "name")


@named("subject_category")
def subject_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "category")


@named("uscc")
def subject_uscc(ctx: Context, spec: CatalogField) -> np.ndarray:
    if spec.type != "uscc":
        return fallback(ctx, spec)
    return subject_attr(ctx, "uscc")


@named("regno")
def subject_regno(ctx: Context, spec: CatalogField) -> np.ndarray:
    regno = subject_attr(ctx, "regno")
    needed = subject_attr(ctx, "uscc") == uscc_code.PLACEHOLDER
    share = 1.0 if ctx.dataset.category == "basic" else 0.25
    return np.where(needed | ctx.chance(share), regno, "").astype(object)


@named("orgcode")
def subject_orgcode(ctx: Context, spec: CatalogField) -> np.ndarray:
    share = {"basic": 1.0, "black_list": 0.6}.get(ctx.dataset.category, 0.1)
    return np.where(ctx.chance(share), subject_attr(ctx, "orgcode"), "").astype(object)


@named("tax_reg_no")
def tax_reg_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    """纳税人识别号: the USCC of organisations, else the registration or identity number."""
    code = subject_attr(ctx, "uscc")
    real = (code != "") & (code != uscc_code.PLACEHOLDER)
    number = np.where(real, code, subject_attr(ctx, "regno"))
    number = np.where(is_person(ctx), people_attr(ctx, "id_no", person_index(ctx)), number)
    if spec.required:
        return number.astype(object)
    share = 0.3 if ctx.department.id == "tax" else 0.03
    return np.where(ctx.chance(share) & real, number, "").astype(object)


@named("institution_cert_no")
def institution_cert_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    share = 0.9 if ctx.dataset.category == "basic" else 0.3
    return np.where(ctx.chance(share), subject_attr(ctx, "cert_no"), "").astype(object)


@named("social_org_reg_no")
def social_org_reg_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    share = 0.7 if ctx.dataset.category == "basic" else 0.2
    return np.where(ctx.chance(share), subject_attr(ctx, "social_reg_no"), "").astype(object)


@named("legal_rep")
def legal_rep(ctx: Context, spec: CatalogField) -> np.ndarray:
    return people_attr(ctx, "name", rep_index(ctx))


@named("legal_rep_gender")
def legal_rep_gender(ctx: Context, spec: CatalogField) -> np.ndarray:
    return people_attr(ctx, "gender", rep_index(ctx))


def _id_type(ctx: Context, people: np.ndarray, type_field: str, share: float) -> np.ndarray:
    alt = uses_alt_id(ctx, people, type_field)
    kind = np.where(alt, people_attr(ctx, "alt_id_type", people), "身份证")
    return np.where((people >= 0) & ctx.memo(f"{type_field}_filled", lambda: ctx.chance(share)), kind, "")


def _id_number(ctx: Context, people: np.ndarray, type_field: str) -> np.ndarray:
    number = np.where(
        uses_alt_id(ctx, people, type_field),
        people_attr(ctx, "alt_id_no", people),
        people_attr(ctx, "id_no", people),
    )
    if ctx.has(type_field):
        number = np.where(ctx.col(type_field) != "", number, "")
    return number.astype(object)


def _rep_id_share(ctx: Context) -> float:
    return {"black_list": 0.9}.get(ctx.dataset.category, 0.3)


@named("legal_rep_id_type")
def legal_rep_id_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _id_type(ctx, rep_index(ctx), spec.name, _rep_id_share(ctx)).astype(object)


@named("legal_rep_id_no")
def legal_rep_id_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    if not ctx.has("legal_rep_id_type"):
        return np.where(ctx.chance(_rep_id_share(ctx)), people_attr(ctx, "id_no", rep_index(ctx)), "").astype(
            object
        )
    return _id_number(ctx, rep_index(ctx), "legal_rep_id_type")


@named("finance_head")
def finance_head(ctx: Context, spec: CatalogField) -> np.ndarray:
    return people_attr(ctx, "name", finance_head_of(ctx))


@named("finance_head_gender")
def finance_head_gender(ctx: Context, spec: CatalogField) -> np.ndarray:
    return people_attr(ctx, "gender", finance_head_of(ctx))


@named("finance_head_id_type")
def finance_head_id_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _id_type(ctx, finance_head_of(ctx), spec.name, 1.0).astype(object)


@named("finance_head_id_no")
def finance_head_id_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _id_number(ctx, finance_head_of(ctx), "finance_head_id_type")


@named("id_type")
def id_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _id_type(ctx, person_index(ctx), spec.name, 1.0).astype(object)


@named("id_no")
def id_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    if not ctx.has("id_type"):
        return people_attr(ctx, "id_no", person_index(ctx))
    return _id_number(ctx, person_index(ctx), "id_type")


@named("gender")
def gender(ctx: Context, spec: CatalogField) -> np.ndarray:
    return people_attr(ctx, "gender", person_index(ctx))


@named("address")
def address(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "address")


@named("division")
def division(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "division")


@named("entity_type")
def entity_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "entity_type")


@named("business_scope")
def business_scope(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "scope")


@named("registered_capital")
def registered_capital(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "capital")


@named("social_org_type")
def social_org_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "social_type")


@named("supervisor_unit")
def supervisor_unit(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "supervisor")


@named("sponsor_unit")
def sponsor_unit(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "sponsor")


@named("funding_source")
def funding_source(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "funding")


@named("status")
def registration_status(ctx: Context, spec: CatalogField) -> np.ndarray:
    registered_by_state = np.isin(subject_kinds(ctx), ["institution", "social_org"])
    return np.where(
        registered_by_state,
        ctx.pick(("正常", "存续", "注销", "撤销"), (0.85, 0.1, 0.04, 0.01)),
        ctx.pick(("存续", "在业", "注销", "吊销", "停业", "迁出"), (0.8, 0.08, 0.06, 0.03, 0.02, 0.01)),
    ).astype(object)
