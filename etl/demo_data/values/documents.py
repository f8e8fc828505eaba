"""Document numbers (文号, 案号) in each department's style, courts, and the deciding authority."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from etl.catalog import CatalogField
from etl.demo_data import themes, words
from etl.demo_data.arrays import map_distinct
from etl.demo_data.values.base import (
    doc_prefix,
    event_dates,
    main_dates,
    named,
    serials,
    subject_attr,
    subject_kinds,
    text_array,
    workplace_of,
    years_of,
)

if TYPE_CHECKING:
    from etl.demo_data.table import Context


@named("decision_no")
def decision_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    prefix = doc_prefix(ctx.department)
    if ctx.has("list_year"):
        return _announcement_no(ctx, prefix)
    dates = main_dates(ctx)
    years = years_of(dates)
    serial = serials(ctx, "doc_serial", dates)
    word = {"penalty": "罚", "licensing": "许", "black_list": "失信"}.get(ctx.dataset.category, "")
    numbers = text_array(
        [f"{prefix}{word}〔{y}〕{s}号" for y, s in zip(years.tolist(), serial.tolist(), strict=True)]
    )
    if ctx.dataset.category == "licensing" and ctx.has("licence_no"):
        # "没有文书号的，填写许可证书编号": some departments number decisions by the licence.
        licence = ctx.col("licence_no")
        numbers = np.where(ctx.chance(0.4) & (licence != ""), licence, numbers)
    if not spec.required and ctx.dataset.category not in ("penalty", "licensing"):
        numbers = np.where(ctx.chance(0.85), numbers, "")
    return numbers.astype(object)


def _announcement_no(ctx: Context, prefix: str) -> np.ndarray:
    """Yearly lists are published under one document: the same number on every row of a year."""
    years = ctx.col("list_year").astype(np.int64) + 1
    number = int(ctx.rng.integers(2, 60))
    if ctx.department.id == "tax":
        return text_array([f"国家税务总局柳州市税务局公告{y}年第{number}号" for y in years.tolist()])
    return text_array([f"{prefix}发〔{y}〕{number}号" for y in years.tolist()])


@named("case_no")
def case_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    years = years_of(ctx.col("filing_date")) if ctx.has("filing_date") else years_of(event_dates(ctx))
    serial = serials(ctx, "case_serial", years * 1000 + ctx.rng.integers(0, 1000, ctx.n), (80, 400))
    courts = _court_codes(ctx)
    kind = ctx.pick(("执", "执", "执", "执恢"))
    return text_array(
        [
            f"（{y}）{c}{k}{s}号"
            for y, c, k, s in zip(years.tolist(), courts, kind, serial.tolist(), strict=True)
        ]
    )


def _court_codes(ctx: Context) -> np.ndarray:
    codes = tuple(themes.COURTS)
    return ctx.memo(
        "courts", lambda: ctx.pick(codes, (0.2, 0.1, 0.13, 0.17, 0.12, 0.08, 0.05, 0.05, 0.04, 0.03, 0.03))
    )


@named("court")
def court(ctx: Context, spec: CatalogField) -> np.ndarray:
    return text_array([themes.COURTS[c] for c in _court_codes(ctx)])


@named("basis_doc_no")
def basis_doc_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    years = years_of(ctx.col("filing_date")) if ctx.has("filing_date") else years_of(event_dates(ctx))
    arbitration = ctx.memo("arbitration", lambda: ctx.chance(0.12))
    kind = ctx.pick(("民初", "民初", "民终", "民特"))
    serial = ctx.rng.integers(100, 9000, ctx.n)
    courts = _court_codes(ctx)
    return text_array(
        [
            f"柳仲裁字〔{y - 1}〕第{s % 900}号" if a else f"（{y - 1}）{c}{k}{s}号"
            for y, c, k, s, a in zip(years.tolist(), courts, kind, serial.tolist(), arbitration, strict=True)
        ]
    )


@named("basis_issuer")
def basis_issuer(ctx: Context, spec: CatalogField) -> np.ndarray:
    arbitration = ctx.memo("arbitration", lambda: ctx.chance(0.12))
    return np.where(arbitration, "柳州仲裁委员会", text_array([themes.COURTS[c] for c in _court_codes(ctx)]))


@named("obligation")
def obligation(ctx: Context, spec: CatalogField) -> np.ndarray:
    amounts = ctx.rng.integers(5_000, 3_000_000, ctx.n)
    templates = ctx.pick(themes.OBLIGATIONS)
    return text_array(
        [t.format(amount=f"{a:,}".replace(",", "")) for t, a in zip(templates, amounts, strict=True)]
    )


@named("performance")
def performance(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("全部未履行", "部分未履行"), (0.8, 0.2))


@named("dishonest_behaviour")
def dishonest_behaviour(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.department.id == "court":
        return ctx.pick(themes.COURT_DISHONEST, themes.COURT_WEIGHTS)
    if ctx.department.id == "rs":
        return ctx.pick(themes.WAGE_DISHONEST)
    return ctx.pick(themes.SAFETY_DISHONEST)


def _district_bureau(division: str, bureau: str, city: str) -> str:
    if division in words.DISTRICTS:
        name = words.DISTRICTS[division]
        return f"柳州市{name}{bureau}" if division < "450222" else f"{name}{bureau}"
    return city


def _registration_authority(ctx: Context) -> np.ndarray:
    """登记机关: the market regulator of the subject's division; rural collectives (N2…) are
    registered by the agriculture bureau."""
    divisions = subject_attr(ctx, "division")
    market = map_distinct(divisions, lambda d: _district_bureau(d, "市场监督管理局", "柳州市市场监督管理局"))
    farming = map_distinct(divisions, lambda d: _district_bureau(d, "农业农村局", "柳州市农业农村局"))
    return np.where(subject_kinds(ctx) == "collective", farming, market).astype(object)


AUTHORITIES: dict[str, Callable[[Context], np.ndarray]] = {
    "legal_entity_basic": lambda ctx: _registration_authority(ctx),
    "public_institution": lambda ctx: np.full(ctx.n, "柳州市事业单位登记管理局", dtype=object),
    "major_tax_violation": lambda ctx: np.full(ctx.n, "国家税务总局柳州市税务局稽查局", dtype=object),
    "tax_credit_grade_a": lambda ctx: map_distinct(
        subject_attr(ctx, "division"),
        lambda d: "国家税务总局" + _district_bureau(d, "税务局", "柳州市税务局"),
    ),
    "licensed_physician": lambda ctx: map_distinct(
        ctx.pool.division[workplace_of(ctx, "h", "workplace")],
        lambda d: _district_bureau(d, "卫生健康局", "柳州市卫生健康委员会"),
    ),
    "construction_enterprise_qualification": lambda ctx: ctx.pick(
        ("柳州市住房和城乡建设局", "广西壮族自治区住房和城乡建设厅"), (0.7, 0.3)
    ),
    "food_safety_sampling_failed": lambda ctx: ctx.pick(
        ("柳州市市场监督管理局", "广西壮族自治区市场监督管理局"), (0.8, 0.2)
    ),
    "product_quality_spot_check": lambda ctx: ctx.pick(
        ("柳州市市场监督管理局", "广西壮族自治区市场监督管理局"), (0.7, 0.3)
    ),
}


@named("authority")
def authority(ctx: Context, spec: CatalogField) -> np.ndarray:
    """The deciding or registering body: the department itself unless the dataset says otherwise."""
    pick = AUTHORITIES.get(ctx.dataset.id)
    if pick is not None:
        return pick(ctx)
    return np.full(ctx.n, ctx.department.name, dtype=object)


@named("authority_uscc", "source_unit_uscc")
def department_uscc(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.full(ctx.n, ctx.department.uscc, dtype=object)


@named("source_unit")
def source_unit(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.full(ctx.n, ctx.department.name, dtype=object)
