"""Major tax violations: nature of the case, facts and the handling, drawn together."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from etl.catalog import CatalogField
from etl.demo_data import themes
from etl.demo_data.arrays import map_distinct
from etl.demo_data.settings import LAST_DAY
from etl.demo_data.values.base import event_dates, first_matching, named, text_array, wan

if TYPE_CHECKING:
    from etl.demo_data.table import Context


def tax_texts(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """案件性质, 主要违法事实, 法律依据及处理处罚情况 of major tax violations, drawn together."""

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        natures, facts, bases = [], [], []
        case = ctx.rng.integers(0, len(themes.TAX_CASES), ctx.n)
        amounts = ctx.rng.integers(1_000_000, 500_000_000, ctx.n)
        for c, fen in zip(case.tolist(), amounts.tolist(), strict=True):
            nature, template = themes.TAX_CASES[c]
            amount = wan(fen)
            pieces = 5 + fen % 120
            body = template.format(amount=amount, pieces=pieces, tax=wan(fen * 13 // 100))
            natures.append(nature)
            period = f"{LAST_DAY.year - 2}年1月1日至{LAST_DAY.year - 1}年12月31日"
            facts.append(f"经国家税务总局柳州市税务局稽查局检查，发现其在{period}期间，{body}。")
            bases.append(
                "依照《中华人民共和国税收征收管理法》等相关法律法规的有关规定，对其处以追缴税款"
                f"{amount}万元的行政处理、处以罚款{wan(fen // 2)}万元的行政处罚。"
            )
        return text_array(natures), text_array(facts), text_array(bases)

    return ctx.memo("tax_texts", make)


@named("case_nature")
def case_nature(ctx: Context, spec: CatalogField) -> np.ndarray:
    return tax_texts(ctx)[0]


@named("legal_basis_and_penalty")
def legal_basis_and_penalty(ctx: Context, spec: CatalogField) -> np.ndarray:
    return tax_texts(ctx)[2]


@named("report_period")
def report_period(ctx: Context, spec: CatalogField) -> np.ndarray:
    """案件上报期 (2026年第三季度), or the nearest form the field's pattern accepts."""
    dates = ctx.col("entry_date") if ctx.has("entry_date") else event_dates(ctx)

    def period(ordinal: int) -> str:
        day = dt.date.fromordinal(ordinal)
        quarter = (day.month - 1) // 3
        return first_matching(
            spec, f"{day.year}年第{'一二三四'[quarter]}季度", f"{day.year}-Q{quarter + 1}", f"{day.year}年"
        )

    return map_distinct(dates, period)
