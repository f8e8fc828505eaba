"""Department headers -> catalog fields.

Departments fill the catalog's templates by hand, so the same column arrives as ``处罚决定日期``,
``*处罚决定日期（必填）``, ``处罚决定日期 :``, ``CF_JDRQ``, ``cf_jdrq``, ``决定日期`` or, from a database
pull, ``decision_date``. A header is reduced to a *key* before it is looked up, so all of these meet
the same catalog field:

1. Unicode NFKC (full-width brackets, colons, letters and digits become ASCII);
2. blanks removed, including line breaks typed into a header cell and zero-width characters;
3. bracketed filling hints removed: ``(必填)``, ``【选填】``, ``(法人必填)`` …;
4. required-markers and colons stripped from both ends (``*``, ``★``, ``※``, ``:``);
5. case folded (national codes and canonical names are ASCII).

A field is known by its title, its national column code, its aliases and its canonical name. The
unit in a title stays part of it: ``罚款金额（元）`` is *not* ``罚款金额（万元）``, because amounts in
yuan loaded as 万元 would be ten thousand times too large.

>>> header_key(' *罚款金额（万元）（必填）：')
'罚款金额(万元)'
>>> header_key('CF_JDRQ')
'cf_jdrq'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from etl.catalog import CatalogField, Dataset
from etl.errors import DeliveryRejected

# A row must name this many distinct catalog fields to be taken for the header row (fewer when the
# dataset itself has fewer fields): a title row or a data row practically never does.
HEADER_MIN_MATCHES = 3

_BLANKS = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")
_OPEN, _CLOSE = r"(\[【〔<《{", r")\]】〕>》}"
_HINT_WORDS = "必填|选填|非必填|可选|必录|选录|可空|可不填|必须填写|必需"
_HINT = re.compile(rf"[{_OPEN}][^{_OPEN}{_CLOSE}]*(?:{_HINT_WORDS})[^{_OPEN}{_CLOSE}]*[{_CLOSE}]")
_EDGE_MARKS = "*★☆※:"
# A header that carries its national code in brackets: "行政相对人名称(CF_XDR_MC)".
_EMBEDDED_CODE = re.compile(r"^(?P<title>.*?)\((?P<code>[a-z][a-z0-9]*(?:_[a-z0-9]+)+)\)$")


def header_key(text: str) -> str:
    """Reduce a header to the form it is matched in (see the module docstring)."""
    key = unicodedata.normalize("NFKC", text)
    key = _BLANKS.sub("", key)
    key = _HINT.sub("", key)
    return key.strip(_EDGE_MARKS).casefold()


class HeaderMatcher:
    """Looks headers up among one dataset's fields.

    >>> from etl.catalog import load_catalog
    >>> matcher = HeaderMatcher(load_catalog().datasets["admin_penalty"])
    >>> matcher.field_for("【必填】处罚决定日期"), matcher.field_for("行政相对人名称(CF_XDR_MC)")
    ('decision_date', 'subject_name')
    >>> matcher.score(["柳州市行政处罚信息", None, None])
    0
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._by_key: dict[str, str] = {}
        for catalog_field in dataset.fields:
            for header in (*catalog_field.headers, catalog_field.name):
                self._by_key.setdefault(header_key(header), catalog_field.name)

    @property
    def min_matches(self) -> int:
        return min(HEADER_MIN_MATCHES, len(self.dataset.fields))

    def field_for(self, header: str | None) -> str | None:
        """The canonical field a header names, or None."""
        if header is None:
            return None
        key = header_key(str(header))
        found = self._by_key.get(key)
        if found is None and (embedded := _EMBEDDED_CODE.match(key)):
            found = self._by_key.get(embedded["code"]) or self._by_key.get(embedded["title"])
        return found

    def score(self, cells: Iterable[object]) -> int:
        """How many distinct catalog fields a row of cells names."""
        return len({f for cell in cells if (f := self.field_for(_cell_text(cell))) is not None})

    def is_header(self, cells: Iterable[object]) -> bool:
        return self.score(cells) >= self.min_matches


def _cell_text(cell: object) -> str | None:
    if cell is None:
        return None
    text = str(cell).strip()
    return text or None


@dataclass(frozen=True)
class HeaderMapping:
    """Which file column holds which catalog field.

    ``columns`` maps a column position (0-based, the ``c<i>`` of a raw batch) to a canonical field;
    ``unknown`` lists headers that name no field (reported to the department, not fatal);
    ``unnamed`` lists positions of columns with a blank header (their cells are not loaded);
    ``absent`` lists optional fields the file does not have (they load as null).
    """

    headers: tuple[str, ...]
    columns: Mapping[int, str]
    unknown: tuple[str, ...] = ()
    unnamed: tuple[int, ...] = ()
    absent: tuple[str, ...] = ()
    positions: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", {name: pos for pos, name in self.columns.items()})


def map_headers(headers: Sequence[str], dataset: Dataset) -> HeaderMapping:
    """Map a file's headers to ``dataset``'s fields, or reject the delivery.

    Raises ``DeliveryRejected`` with reason ``DUPLICATE_COLUMNS`` when two columns name the same
    field (it is ambiguous which one holds the data) and ``MISSING_COLUMNS`` when a required field
    has no column.

    >>> from etl.catalog import load_catalog
    >>> penalty = load_catalog().datasets["admin_penalty"]
    >>> try:
    ...     map_headers(["行政相对人名称", "CF_WSH", "处罚决定书文号"], penalty)
    ... except DeliveryRejected as exc:
    ...     print(exc.reason, exc.message[:43])
    DUPLICATE_COLUMNS 以下列重复出现，无法确定以哪一列为准：行政处罚决定书文号（第2列「CF_WSH」、第3
    """
    matcher = HeaderMatcher(dataset)
    found: dict[str, list[int]] = {}
    unknown: list[str] = []
    unnamed: list[int] = []
    for position, header in enumerate(headers):
        name = matcher.field_for(header)
        if name is not None:
            found.setdefault(name, []).append(position)
        elif str(header).strip():
            unknown.append(str(header).strip())
        else:
            unnamed.append(position)

    duplicated = {name: positions for name, positions in found.items() if len(positions) > 1}
    if duplicated:
        raise DeliveryRejected("DUPLICATE_COLUMNS", _duplicates_message(duplicated, headers, dataset))
    missing = [f for f in dataset.fields if f.required and f.name not in found]
    if missing:
        raise DeliveryRejected("MISSING_COLUMNS", _missing_message(missing, dataset, len(found)))
    return HeaderMapping(
        headers=tuple(str(h) for h in headers),
        columns={positions[0]: name for name, positions in sorted(found.items(), key=lambda i: i[1])},
        unknown=tuple(unknown),
        unnamed=tuple(unnamed),
        absent=tuple(f.name for f in dataset.fields if f.name not in found),
    )


def _label(catalog_field: CatalogField) -> str:
    return f"{catalog_field.title}（{catalog_field.code}）" if catalog_field.code else catalog_field.title


def _missing_message(missing: list[CatalogField], dataset: Dataset, matched: int) -> str:
    names = "、".join(_label(f) for f in missing)
    required = sum(f.required for f in dataset.fields)
    preface = ""
    if len(missing) * 2 > required:
        preface = f"文件的表头与《{dataset.title}》的目录不符（是否报错了数据集？）；"
    return (
        f"{preface}缺少必填列：{names}。请在表头中补上这些列（列名可写中文名称或国家标准代码）后重新报送"
        + ("" if matched else f"；表头中没有一列能对应到《{dataset.title}》的字段")
    )


def _duplicates_message(duplicated: dict[str, list[int]], headers: Sequence[str], dataset: Dataset) -> str:
    parts = []
    for name, positions in duplicated.items():
        where = "、".join(f"第{p + 1}列「{str(headers[p]).strip()}」" for p in positions)
        parts.append(f"{dataset.field(name).title}（{where}）")
    return f"以下列重复出现，无法确定以哪一列为准：{'；'.join(parts)}。请删除多余的列后重新报送"
