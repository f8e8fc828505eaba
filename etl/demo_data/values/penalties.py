"""Penalty records: one case of the department's per row gives violation, facts, legal basis,
penalty types, fine, confiscated amount and content, so that they belong together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from etl.catalog import CatalogField
from etl.demo_data import themes
from etl.demo_data.arrays import map_distinct, mask_distinct
from etl.demo_data.settings import LAST_DAY
from etl.demo_data.values.base import blank, named, one_of_each, per_subject_letter, text_array, wan_column
from etl.demo_data.values.tax import tax_texts

if TYPE_CHECKING:
    from etl.demo_data.table import Context


def _cases(ctx: Context) -> tuple[themes.PenaltyCase, ...]:
    return themes.PENALTY_CASES.get(ctx.department.id, themes.GENERIC_CASES)


def _case(ctx: Context) -> np.ndarray:
    return per_subject_letter(ctx, [c.kinds for c in _cases(ctx)], "case")


def _fill_facts(template: str, rng: np.random.Generator) -> str:
    return template.format(
        goods=int(rng.choice([1280, 3600, 5840, 12600, 23500, 48000, 136000])),
        pieces=int(rng.integers(2, 40)),
        pct=int(rng.integers(8, 160)),
        year=LAST_DAY.year - int(rng.integers(0, 2)),
        month=int(rng.integers(1, 10)),
    )


@named("violation_type")
def violation_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return text_array([c.violation for c in _cases(ctx)])[_case(ctx)]


@named("violation_facts")
def violation_facts(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.has("case_nature"):
        return tax_texts(ctx)[1]
    variants = [tuple(_fill_facts(t, ctx.rng) for t in c.facts for _ in range(4)) for c in _cases(ctx)]
    return one_of_each(ctx, variants, _case(ctx))


@named("legal_basis")
def legal_basis(ctx: Context, spec: CatalogField) -> np.ndarray:
    return text_array([c.basis for c in _cases(ctx)])[_case(ctx)]


def _penalty_types(ctx: Context) -> np.ndarray:
    return ctx.memo("penalty_types", lambda: one_of_each(ctx, [c.types for c in _cases(ctx)], _case(ctx)))


@named("penalty_types")
def penalty_types(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _penalty_types(ctx)


def _fine_fen(ctx: Context) -> np.ndarray:
    """Fine in fen per row, 0 where the penalty types carry no fine."""

    def make() -> np.ndarray:
        yuan = one_of_each(ctx, [c.fines for c in _cases(ctx)], _case(ctx), dtype=np.int64)
        fined = mask_distinct(_penalty_types(ctx), lambda t: "罚款" in t.split(";"))
        return np.where(fined, yuan * 100, 0).astype(np.int64)

    return ctx.memo("fine", make)


def _confiscated_fen(ctx: Context) -> np.ndarray:
    def make() -> np.ndarray:
        confiscates = mask_distinct(_penalty_types(ctx), lambda t: "没收" in t)
        amounts = ctx.rng.integers(20_000, 5_000_000, 400)  # illegal gains: a few hundred distinct sums
        return np.where(confiscates, amounts[ctx.rng.integers(0, len(amounts), ctx.n)], 0).astype(np.int64)

    return ctx.memo("confiscated", make)


@named("fine_amount")
def fine_amount(ctx: Context, spec: CatalogField) -> np.ndarray:
    return wan_column(_fine_fen(ctx))


@named("confiscated_amount")
def confiscated_amount(ctx: Context, spec: CatalogField) -> np.ndarray:
    return wan_column(_confiscated_fen(ctx))


def _yuan(fen: int) -> str:
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


def _content(types: str, fine: int, taken: int) -> str:
    """处罚内容 written out from the penalty types and amounts: 1.警告；2.罚款人民币5000元。"""
    parts = []
    for kind in types.split(";"):
        if kind == "罚款":
            parts.append(f"罚款人民币{_yuan(fine)}元")
        elif kind == "没收违法所得":
            parts.append(f"没收违法所得人民币{_yuan(taken)}元")
        elif kind == "没收非法财物":
            parts.append("没收涉案物品")
        elif kind == "责令停产停业":
            parts.append("责令停产停业整顿")
        else:
            parts.append(kind)
    if len(parts) == 1:
        return parts[0] + "。"
    return "；".join(f"{i}.{p}" for i, p in enumerate(parts, 1)) + "。"


@named("penalty_content")
def penalty_content(ctx: Context, spec: CatalogField) -> np.ndarray:
    import pandas as pd

    codes, kinds = pd.factorize(_penalty_types(ctx))
    # One integer per (types, fine, confiscated) combination, so each text is written once.
    key = codes.astype(np.int64) * 10**16 + _fine_fen(ctx) * 10**8 + _confiscated_fen(ctx)
    return map_distinct(key, lambda k: _content(kinds[k // 10**16], k // 10**8 % 10**8, k % 10**8))


@named("licence_suspended")
def licence_suspended(ctx: Context, spec: CatalogField) -> np.ndarray:
    return blank(ctx.n)


@named("remarks")
def remarks(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.dataset.category == "penalty":
        return ctx.pick(themes.REMARKS, (0.88, 0.04, 0.06, 0.02))
    return ctx.pick(("", "无"), (0.95, 0.05))
