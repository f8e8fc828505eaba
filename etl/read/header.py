"""Find the header row under the title rows departments put above it.

Templates often start with a title (``柳州市市场监督管理局行政处罚信息（2026年10月）``), a note on how
to fill them in, or a blank row; national exchange templates add a second header row with the column
codes (``CF_XDR_MC``, …) under the Chinese one. The header is the first row, among the first
``LOOKAHEAD_ROWS``, that names enough catalog fields (``etl.conform.HeaderMatcher``, the same matcher
that later maps the columns). A row right under it that is also a header row (the codes) is skipped
with it, so that it is not read as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from etl.conform.headers import HeaderMatcher

LOOKAHEAD_ROWS = 20


@dataclass(frozen=True)
class HeaderLocation:
    """``index`` of the header among the rows looked at (0-based); ``rows`` header rows in all
    (2 when a code row follows); ``score`` the number of catalog fields the header names."""

    index: int
    rows: int
    score: int


def find_header(rows: Sequence[Sequence[object]], matcher: HeaderMatcher) -> HeaderLocation | None:
    """Locate the header among ``rows`` (the first rows of a sheet or file), or None.

    >>> from etl.catalog import load_catalog
    >>> matcher = HeaderMatcher(load_catalog().datasets["admin_penalty"])
    >>> rows = [["行政处罚信息"], [], ["行政相对人名称", "行政相对人类别", "处罚决定日期"],
    ...         ["CF_XDR_MC", "CF_XDR_LB", "CF_JDRQ"], ["柳州某公司", "法人及非法人组织", "2026-10-08"]]
    >>> find_header(rows, matcher)
    HeaderLocation(index=2, rows=2, score=3)
    """
    for index, row in enumerate(rows[:LOOKAHEAD_ROWS]):
        score = matcher.score(row)
        if score >= matcher.min_matches:
            following = rows[index + 1] if index + 1 < len(rows) else ()
            return HeaderLocation(index, 2 if matcher.is_header(following) else 1, score)
    return None


def expected_titles(matcher: HeaderMatcher, count: int = 4) -> list[str]:
    """A few required titles to quote when no header is found."""
    required = [f.title for f in matcher.dataset.fields if f.required]
    return (required or [f.title for f in matcher.dataset.fields])[:count]


def header_cells(row: Sequence[object]) -> list[str]:
    """The header texts as in the file, stripped (blank for an empty cell)."""
    return ["" if cell is None else str(cell).strip() for cell in row]
