"""Registers and lists: yearly red lists, qualification certificates, physicians, road transport
practitioners, bank accounts, wage arrears.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from etl.catalog import CatalogField
from etl.demo_data import themes, words
from etl.demo_data.settings import LAST_DAY
from etl.demo_data.values.base import (
    event_dates,
    named,
    serial_text,
    serials,
    text_array,
    wan_column,
    workplace_of,
    years_of,
)

if TYPE_CHECKING:
    from etl.demo_data.table import Context


@named("list_year")
def list_year(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick((str(LAST_DAY.year - 1), str(LAST_DAY.year - 2)), (0.85, 0.15))


@named("credit_grade")
def credit_grade(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(spec.allowed or ("A",))


@named("env_credit_grade")
def env_credit_grade(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("环保诚信企业", "环保良好企业", "环保警示企业", "环保不良企业"), (0.15, 0.6, 0.18, 0.07))


@named("exit_reason")
def exit_reason(ctx: Context, spec: CatalogField) -> np.ndarray:
    exited = ctx.col("exit_date") > 0 if ctx.has("exit_date") else np.zeros(ctx.n, dtype=bool)
    return np.where(exited, ctx.pick(themes.CONTRACT_EXIT_REASONS), "").astype(object)


@named("cert_status")
def cert_status(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("有效", "注销", "撤回", "撤销"), (0.9, 0.05, 0.03, 0.02))


@named("qualification_scope")
def qualification_scope(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(themes.QUALIFICATION_SCOPES)


@named("qualification_cert_no")
def qualification_cert_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    """建筑业企业资质证书 D…, 医师资格证书 and 从业资格证 numbers.

    Real certificates often embed the holder's identity number; these never do, because the
    certificate number is not marked personal in the catalog and may be shown unmasked.
    """
    serial = serials(ctx, "qualification_serial", ctx.rng.random(ctx.n), (1000, 90000))
    if ctx.has("qualification_category"):
        return text_array([f"4502{LAST_DAY.year - s % 6}{s:08d}" for s in serial.tolist()])
    if ctx.has("physician_level"):
        years = ctx.rng.integers(1995, 2024, ctx.n)
        numbers = text_array(
            [f"{y}245110{s:08d}" for y, s in zip(years.tolist(), serial.tolist(), strict=True)]
        )
        return np.where(ctx.chance(0.85), numbers, "").astype(object)
    return serial_text(ctx, spec)


@named("physician_level")
def physician_level(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("执业医师", "执业助理医师"), (0.82, 0.18))


def _practice_category(ctx: Context) -> np.ndarray:
    return ctx.memo(
        "practice", lambda: ctx.pick(("临床", "中医", "口腔", "公共卫生"), (0.7, 0.12, 0.1, 0.08))
    )


@named("practice_category")
def practice_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _practice_category(ctx)


@named("practice_scope")
def practice_scope(ctx: Context, spec: CatalogField) -> np.ndarray:
    pick = ctx.rng.integers(0, 1000, ctx.n)
    return text_array(
        [
            themes.PRACTICE_SCOPES[c][p % len(themes.PRACTICE_SCOPES[c])]
            for c, p in zip(_practice_category(ctx), pick.tolist(), strict=True)
        ]
    )


@named("practising_cert_no")
def practising_cert_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    category = {"临床": 1, "中医": 2, "口腔": 3, "公共卫生": 4}
    serial = serials(ctx, "practising_serial", ctx.rng.random(ctx.n), (100, 3000))
    years = (
        years_of(ctx.col("registration_date")) if ctx.has("registration_date") else years_of(event_dates(ctx))
    )
    return text_array(
        [
            f"{category[c]}10450200{y % 100:02d}{s:04d}"
            for c, y, s in zip(_practice_category(ctx), years.tolist(), serial.tolist(), strict=True)
        ]
    )


@named("practice_institution")
def practice_institution(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pool.name[workplace_of(ctx, "h", "workplace")]


@named("practice_institution_uscc")
def practice_institution_uscc(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.where(ctx.chance(0.8), ctx.pool.uscc[workplace_of(ctx, "h", "workplace")], "").astype(object)


@named("employer_name")
def employer_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.where(ctx.chance(0.8), ctx.pool.name[workplace_of(ctx, "t", "employer")], "").astype(object)


@named("qualification_category")
def qualification_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(themes.QUALIFICATION_CATEGORIES, (0.4, 0.2, 0.1, 0.05, 0.2, 0.05))


@named("credit_rating")
def credit_rating(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("AAA", "AA", "A", "B", ""), (0.35, 0.3, 0.15, 0.05, 0.15))


@named("basic_account_no")
def basic_account_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    serial = serials(ctx, "account_serial", ctx.rng.random(ctx.n), (10_000, 900_000))
    return text_array([f"J6140{s:09d}" for s in serial.tolist()])


def _bank(ctx: Context) -> np.ndarray:
    return ctx.memo("bank", lambda: ctx.rng.integers(0, len(words.BANKS), ctx.n))


@named("bank_name")
def bank_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    branch = ctx.pick(words.BANK_BRANCHES)
    return text_array(
        [words.BANKS[b][0] + (br if words.BANKS[b][0].endswith("柳州") else br.removeprefix("分行"))
         for b, br in zip(_bank(ctx).tolist(), branch, strict=True)]
    )  # fmt: skip


@named("bank_code")
def bank_code(ctx: Context, spec: CatalogField) -> np.ndarray:
    branch = ctx.rng.integers(0, 100_000, ctx.n)
    return text_array(
        [f"{words.BANKS[b][1]}6140{s:05d}" for b, s in zip(_bank(ctx).tolist(), branch.tolist(), strict=True)]
    )


@named("account_status")
def account_status(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("正常", "久悬", "撤销"), (0.85, 0.05, 0.1))


@named("arrears_amount")
def arrears_amount(ctx: Context, spec: CatalogField) -> np.ndarray:
    return wan_column(ctx.rng.integers(50_000_00, 3_000_000_00, ctx.n) // 100 * 100)


@named("worker_count")
def worker_count(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.where(ctx.chance(0.9), ctx.rng.integers(3, 180, ctx.n).astype(str), "").astype(object)
