"""Typed rows → the cells a department's system would write: dates and amounts as clerks type them.

Clean rows already mix date styles the way real spreadsheets do (``2026-10-08``, ``2026/10/8``,
``2026年10月8日``, ``20261008``): each delivery has a main style and a share of rows in the others,
all of them unambiguous and valid. Workbooks may carry real date cells instead of text, and
numbers as numeric cells; database rows carry ISO dates and numbers.

>>> import datetime as dt
>>> day = dt.date(2026, 10, 8).toordinal()
>>> [format_date(day, style) for style in TEXT_DATE_STYLES]
['2026-10-08', '2026/10/8', '2026年10月8日', '20261008']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from etl.demo_data.table import EMPTY_DATE, Table

TEXT_DATE_STYLES = ("iso", "slash", "chinese", "compact")
# Workbooks only: real date cells, shown as yyyy-mm-dd.
EXCEL_DATES = "excel"
# Share of rows written in another text style than the delivery's main one.
MIXED_SHARE = 0.12


def format_date(ordinal: int, style: str) -> str:
    day = dt.date.fromordinal(ordinal)
    if style == "iso":
        return day.isoformat()
    if style == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if style == "chinese":
        return f"{day.year}年{day.month}月{day.day}日"
    if style == "compact":
        return day.strftime("%Y%m%d")
    raise ValueError(f"unknown date style {style!r}")


@dataclass(frozen=True)
class CellStyle:
    """How one delivery writes values: ``target`` is text (CSV, JSON), xlsx or database."""

    target: str
    date_style: str


@dataclass
class Rendered:
    """The cells of a delivery by field, and the date style of each row."""

    cells: dict[str, np.ndarray]
    row_date_styles: np.ndarray

    def date_cell(self, ordinal: int, style: CellStyle, row: int) -> Any:
        """One date written the way row ``row`` writes dates (used when a defect rewrites a cell)."""
        if style.date_style == EXCEL_DATES:
            return dt.date.fromordinal(ordinal)
        return format_date(ordinal, str(self.row_date_styles[row]))


def render(table: Table, style: CellStyle, rng: np.random.Generator) -> Rendered:
    """One object array of cells per field; ``""`` stands for an empty cell in every target."""
    n = len(table)
    row_styles = _row_date_styles(style, n, rng)
    cells: dict[str, np.ndarray] = {}
    for spec in table.dataset.fields:
        column = table.columns[spec.name]
        if spec.type == "date":
            cells[spec.name] = _dates(column, style, row_styles)
        elif spec.type in ("decimal", "integer") and style.target in ("xlsx", "database"):
            cast = float if spec.type == "decimal" else int
            cells[spec.name] = np.array([cast(v) if v != "" else "" for v in column] + [None], dtype=object)[
                :-1
            ]
        else:
            cells[spec.name] = column.copy()
    return Rendered(cells, row_styles)


def _row_date_styles(style: CellStyle, n: int, rng: np.random.Generator) -> np.ndarray:
    if style.target == "database" or style.date_style == EXCEL_DATES:
        return np.full(n, style.date_style, dtype=object)
    others = [s for s in TEXT_DATE_STYLES if s != style.date_style]
    mixed = rng.random(n) < MIXED_SHARE
    return np.where(mixed, np.array(others, dtype=object)[rng.integers(0, len(others), n)], style.date_style)


def _dates(column: np.ndarray, style: CellStyle, row_styles: np.ndarray) -> np.ndarray:
    out = np.full(len(column), "", dtype=object)
    filled = column != EMPTY_DATE
    if style.date_style == EXCEL_DATES:
        unique, inverse = np.unique(column[filled], return_inverse=True)
        days = np.array([dt.date.fromordinal(int(d)) for d in unique] + [None], dtype=object)[:-1]
        out[filled] = days[inverse]
        return out
    for name in sorted(set(row_styles.tolist())):
        rows = filled & (row_styles == name)
        unique, inverse = np.unique(column[rows], return_inverse=True)
        text = np.array([format_date(int(d), name) for d in unique] + [None], dtype=object)[:-1]
        out[rows] = text[inverse]
    return out
