"""Licence records: one licence kind of the department's per row gives decision document, category,
certificate, number style, content and validity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from etl.catalog import CatalogField
from etl.codes import uscc as uscc_code
from etl.demo_data import themes, words
from etl.demo_data.values.base import (
    TODAY,
    main_dates,
    named,
    per_subject_letter,
    serial_text,
    serials,
    subject_attr,
    text_array,
    years_of,
)

if TYPE_CHECKING:
    from etl.demo_data.table import Context


def licence_kinds(ctx: Context) -> tuple[themes.LicenceKind, ...]:
    return themes.LICENCE_KINDS.get(ctx.department.id, themes.GENERIC_LICENCES)


def licence_index(ctx: Context) -> np.ndarray:
    return per_subject_letter(ctx, [k.kinds for k in licence_kinds(ctx)], "licence")


@named("decision_doc_name")
def decision_doc_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    return text_array([k.doc_name for k in licence_kinds(ctx)])[licence_index(ctx)]


@named("licence_category")
def licence_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return text_array([k.category for k in licence_kinds(ctx)])[licence_index(ctx)]


@named("licence_cert_name")
def licence_cert_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    return text_array([k.cert_name for k in licence_kinds(ctx)])[licence_index(ctx)]


def _licence_number(style: str, row: dict[str, Any]) -> str:
    """A licence number in the style of its kind (食品经营许可证 JY…, 排污许可证 = USCC + 001P …)."""
    serial, division, year = row["serial"], row["division"] or "450200", row["year"]
    numbers: dict[str, Callable[[], str]] = {
        "jy": lambda: f"JY{1 + serial % 3}{division}{serial:07d}",
        "sc": lambda: f"SC{(101, 107, 124, 103)[serial % 4]}{division}{serial % 100000:05d}",
        "public_health": lambda: f"柳卫公证字〔{year}〕第{serial:04d}号",
        "drug": lambda: f"桂DA77{serial:05d}",
        "hr": lambda: f"{division}{year}{serial:06d}",
        "publishing": lambda: f"新出发柳字第{serial:05d}号",
        "special_equipment": lambda: f"梯11桂B{serial:05d}（{year % 100}）",
        "construction": lambda: f"{division}{year}{serial:08d}",
        "presale": lambda: f"柳预售许字〔{year}〕第{serial:03d}号",
        "qualification": lambda: f"D345{serial:06d}",
        "road_transport": lambda: f"桂交运管许可柳字{division}{serial:06d}号",
        "pollutant": lambda: (
            f"{row['uscc']}001{'PVQU'[serial % 4]}" if row["uscc"] else f"{division}{serial:08d}001P"
        ),
        "hazardous": lambda: f"GX{division}{serial:04d}",
        "driver": lambda: f"桂交运从{division}{serial:06d}",
    }
    return numbers[style]() if style in numbers else ""


@named("licence_no")
def licence_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    kinds = licence_kinds(ctx)
    if ctx.dataset.category != "licensing":
        return serial_text(ctx, spec)
    styles = [kinds[k].number for k in licence_index(ctx).tolist()]
    serial = serials(ctx, "licence_serial", ctx.rng.random(ctx.n), (100, 5000))
    code = subject_attr(ctx, "uscc")
    rows = zip(
        styles,
        serial.tolist(),
        subject_attr(ctx, "division"),
        years_of(main_dates(ctx)).tolist(),
        code,
        strict=True,
    )
    return text_array(
        [
            _licence_number(
                s, {"serial": n, "division": d, "year": y, "uscc": c if c != uscc_code.PLACEHOLDER else ""}
            )
            for s, n, d, y, c in rows
        ]
    )


@named("content")
def licence_content(ctx: Context, spec: CatalogField) -> np.ndarray:
    kinds = licence_kinds(ctx)
    roads = [r for roads in words.ROADS.values() for r in roads]
    out = []
    for k in licence_index(ctx).tolist():
        template = kinds[k].contents[int(ctx.rng.integers(len(kinds[k].contents)))]
        out.append(template.format(
            road=roads[int(ctx.rng.integers(len(roads)))], area=int(ctx.rng.integers(800, 60000)),
            pieces=int(ctx.rng.integers(1, 30)),
        ))  # fmt: skip
    return text_array(out)


@named("licence_status")
def licence_status(ctx: Context, spec: CatalogField) -> np.ndarray:
    if not ctx.has("valid_to"):
        return ctx.pick(("1", "2"), (0.95, 0.05))
    return np.where(ctx.col("valid_to") >= TODAY, "1", "2").astype(object)
