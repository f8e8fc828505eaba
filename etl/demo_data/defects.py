"""Defects injected into clean deliveries at recorded rates, with an answer key.

One defect per defective row, so the answer key is unambiguous, and only where the dataset has a
field the defect applies to. Kinds, as the answer key names them:

=============================  ==================================================  ============
kind                           what the clerk's file shows                         pipeline
=============================  ==================================================  ============
``wrong_check_char``           a USCC / organisation code / registration number    rejected
                               whose check character is wrong
``fullwidth_chars``            a code typed in full-width characters (９１４５…)     normalised
``lowercase_code``             a code with lower-case letters (91450204ma5k…)      normalised
``missing_required``           a required cell left empty                          rejected
``impossible_date``            a date that does not exist (2026年13月1日, 2026-02-30)  rejected
``amount_as_text``             an amount written out (伍仟元整, 0.5万元（大写伍仟元）)  rejected
``duplicate_key``              the dedup key of an earlier row again; the FIRST    rejected
                               occurrence stays clean, the later row is the defect
``placeholder_without_regno``  the placeholder USCC 00000000000000000X with no     rejected
                               registration number beside it
``idcard_wrong_check``         an identity number with a wrong check character     rejected
``valid_to_before_from``       the later date of a ``compare`` rule (有效期至,       rejected
                               发布时间 …) moved before the earlier one
=============================  ==================================================  ============

Full-width characters and lower-case letters in a code are unambiguous and are normalised by the
pipeline, not rejected; the answer key says so in its ``expected`` column.

The answer key of a delivery (``answer_keys/<delivery path>.csv``, UTF-8) has one line per defective
row: ``row`` (as the clerk sees it: CSV header line = 1, workbook sheet row, 1-based record of JSON,
JSON lines and Parquet; see ``layout.ROW_NUMBERING``), ``field`` (canonical name of the changed cell),
``defect`` (a kind above), ``expected`` (``rejected`` or ``normalised``), ``original`` and
``injected`` (the cell before and after), and ``note`` (e.g. which earlier row a duplicate repeats).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from etl.catalog import CatalogField, CompareRule
from etl.codes import uscc as uscc_code
from etl.demo_data.arrays import mask_distinct
from etl.demo_data.render import CellStyle, Rendered
from etl.demo_data.table import Table

DEFECT_KINDS = (
    "wrong_check_char",
    "fullwidth_chars",
    "lowercase_code",
    "missing_required",
    "impossible_date",
    "amount_as_text",
    "placeholder_without_regno",
    "idcard_wrong_check",
    "valid_to_before_from",
    "duplicate_key",
)
NORMALISED = frozenset({"fullwidth_chars", "lowercase_code"})
# A database column is typed: it cannot hold an impossible date or an amount in words.
NOT_IN_DATABASES = frozenset({"impossible_date", "amount_as_text"})
# Codes that belong to the reporting department itself, not to the subject of a record.
DEPARTMENT_CODE_FIELDS = frozenset({"authority_uscc", "source_unit_uscc"})
# Fields that describe the subject; a duplicate of a key containing one copies all of them.
SUBJECT_FIELDS = frozenset({
    "subject_name", "person_name", "subject_category", "uscc", "regno", "orgcode", "tax_reg_no",
    "institution_cert_no", "social_org_reg_no", "legal_rep", "legal_rep_gender", "legal_rep_id_type",
    "legal_rep_id_no", "id_type", "id_no", "gender", "address", "division", "entity_type",
    "business_scope", "registered_capital", "social_org_type", "supervisor_unit", "sponsor_unit",
    "funding_source", "established_date", "finance_head", "finance_head_gender", "finance_head_id_type",
    "finance_head_id_no",
})  # fmt: skip
CHECK_ALPHABETS = {
    "uscc": uscc_code.ALPHABET,
    "orgcode": "0123456789X",
    "regno": "0123456789",
    "idcard": "0123456789X",
}
_FULLWIDTH = {
    c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
}


@dataclass(frozen=True)
class Defect:
    """One injected defect: ``index`` is the 0-based data row; the key turns it into a clerk's row."""

    index: int
    field: str
    kind: str
    original: str
    injected: str
    note: str = ""
    source: int | None = None  # duplicate_key: the 0-based row it repeats

    @property
    def expected(self) -> str:
        return "normalised" if self.kind in NORMALISED else "rejected"


def split_rates(total: float, kinds: list[str]) -> dict[str, float]:
    """A total defect rate shared evenly by the kinds that apply to a delivery."""
    return {kind: total / len(kinds) for kind in kinds} if kinds else {}


def counts_for(
    rows: int,
    rates: Mapping[str, float],
    total: float | None,
    rng: np.random.Generator,
    capacity: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """How many rows get each kind.

    With per-kind rates, round(rows × rate) each. With a total rate, exactly round(rows × total)
    in all, dealt round-robin from a random kind so the split is even and small deliveries still see
    every kind over a whole demo; a kind with fewer candidate rows than its share passes the rest on.

    >>> counts_for(100, {"missing_required": 0.05, "impossible_date": 0.05}, 0.1, np.random.default_rng(0))
    {'missing_required': 5, 'impossible_date': 5}
    """
    kinds = [k for k in DEFECT_KINDS if rates.get(k, 0) > 0]
    room = {k: (capacity or {}).get(k, rows) for k in kinds}
    if total is None:
        return {k: min(round(rows * rates[k]), room[k]) for k in kinds}
    counts = dict.fromkeys(kinds, 0)
    if not kinds:
        return counts
    wanted = min(round(rows * total), sum(room.values()))
    start = int(rng.integers(len(kinds)))
    order = kinds[start:] + kinds[:start]
    while wanted > 0:
        for kind in order:
            if wanted > 0 and counts[kind] < room[kind]:
                counts[kind] += 1
                wanted -= 1
    return counts


# ---------------------------------------------------------------------------------------------------
# Where each kind can go


@dataclass(frozen=True)
class Target:
    """Rows a kind applies to and, per row, the field it would change."""

    rows: np.ndarray  # bool mask
    field: np.ndarray  # object array of field names ("" where not applicable)


def _first_filled(table: Table, names: list[str], extra: Mapping[str, np.ndarray] | None = None) -> Target:
    """Per row, the first of ``names`` that is filled (and passes ``extra``, per field)."""
    n = len(table)
    field = np.full(n, "", dtype=object)
    for name in reversed(names):
        ok = table.filled(name)
        if extra is not None:
            ok &= extra[name]
        field = np.where(ok, name, field)
    return Target(field != "", field)


def _code_fields(table: Table) -> list[str]:
    return [
        f.name for f in table.dataset.fields
        if f.type in ("uscc", "orgcode", "regno") and f.name not in DEPARTMENT_CODE_FIELDS
    ]  # fmt: skip


def _real_codes(table: Table, names: list[str]) -> dict[str, np.ndarray]:
    return {name: table.columns[name] != uscc_code.PLACEHOLDER for name in names}


def _with_letters(table: Table, names: list[str]) -> dict[str, np.ndarray]:
    return {
        name: mask_distinct(table.columns[name], lambda v: any("A" <= c <= "Z" for c in v))
        & (table.columns[name] != uscc_code.PLACEHOLDER)
        for name in names
    }


def _holds_type(table: Table, spec: CatalogField) -> np.ndarray:
    if spec.type_when is None:
        return np.ones(len(table), dtype=bool)
    condition = spec.type_when
    column = table.columns[condition.field]
    if condition.equals is not None:
        return column == condition.equals
    if condition.in_ is not None:
        return np.isin(column, list(condition.in_))
    return mask_distinct(column, lambda v: condition.contains in v)


def _targets(table: Table, kind: str, rng: np.random.Generator, subject_kinds: np.ndarray) -> Target:
    dataset = table.dataset
    n = len(table)
    none = Target(np.zeros(n, dtype=bool), np.full(n, "", dtype=object))
    by_type: dict[str, list[str]] = {}
    for f in dataset.fields:
        by_type.setdefault(f.type, []).append(f.name)
    codes = _code_fields(table)
    if kind in ("wrong_check_char", "fullwidth_chars"):
        return _first_filled(table, codes, _real_codes(table, codes)) if codes else none
    if kind == "lowercase_code":
        return _first_filled(table, codes, _with_letters(table, codes)) if codes else none
    if kind == "missing_required":
        required = [f.name for f in dataset.fields if f.required]
        if not required:
            return none
        field = np.array(required, dtype=object)[rng.integers(0, len(required), n)]
        return Target(np.ones(n, dtype=bool), field)
    if kind == "impossible_date":
        dates = sorted(by_type.get("date", []), key=lambda name: not dataset.field(name).required)
        return _first_filled(table, dates) if dates else none
    if kind == "amount_as_text":
        amounts = by_type.get("decimal", [])
        return _first_filled(table, amounts) if amounts else none
    if kind == "placeholder_without_regno":
        if by_type.get("regno") and "uscc" in by_type.get("uscc", []):
            rows = (subject_kinds == "shop") & table.filled("uscc")
            return Target(rows, np.where(rows, "uscc", "").astype(object))
        return none
    if kind == "idcard_wrong_check":
        ids = by_type.get("idcard", [])
        holds = {name: _holds_type(table, dataset.field(name)) for name in ids}
        holds = {
            name: h & mask_distinct(table.columns[name], lambda v: len(v) == 18) for name, h in holds.items()
        }
        return _first_filled(table, ids, holds) if ids else none
    if kind == "valid_to_before_from":
        return _compare_targets(table)
    if kind == "duplicate_key":
        rows = np.arange(n) > 0
        return Target(rows, np.where(rows, dataset.dedup_key[0], "").astype(object))
    raise ValueError(f"unknown defect kind {kind!r}")


def _later_field(rule: CompareRule) -> tuple[str, str]:
    """(later, earlier) of a compare rule: 有效期至 is later than 有效期自."""
    return (rule.right, rule.left) if rule.op in ("<", "<=") else (rule.left, rule.right)


def _compare_targets(table: Table) -> Target:
    n = len(table)
    field = np.full(n, "", dtype=object)
    for rule in reversed([r for r in table.dataset.rules if isinstance(r, CompareRule)]):
        if table.dataset.field(rule.left).type != "date":
            continue
        later, earlier = _later_field(rule)
        both = table.filled(later) & table.filled(earlier) & (table.columns[earlier] > 366)
        field = np.where(both, f"{later}<{earlier}", field)
    return Target(field != "", field)


# ---------------------------------------------------------------------------------------------------
# Choosing rows and applying


def find_targets(
    table: Table, allowed: frozenset[str], subject_kinds: np.ndarray, rng: np.random.Generator
) -> dict[str, Target]:
    """For each kind this delivery has room for, the rows and fields it could go to."""
    if len(table) < 2:
        return {}
    targets = {kind: _targets(table, kind, rng, subject_kinds) for kind in DEFECT_KINDS if kind in allowed}
    return {kind: target for kind, target in targets.items() if target.rows.any()}


def inject(
    table: Table,
    rendered: Rendered,
    style: CellStyle,
    counts: Mapping[str, int],
    targets: Mapping[str, Target],
    rng: np.random.Generator,
) -> list[Defect]:
    """Applies ``counts`` defects to ``rendered`` in place; returns them in row order."""
    n = len(table)
    available = np.ones(n, dtype=bool)
    chosen: list[tuple[str, np.ndarray, np.ndarray]] = []
    # Kinds with few candidate rows choose first; duplicates last, as they need clean rows to repeat.
    order = sorted(targets, key=lambda k: (k == "duplicate_key", int(targets[k].rows.sum()), k))
    for kind in order:
        count = counts.get(kind, 0)
        if count <= 0:
            continue
        target = targets[kind]
        candidates = np.flatnonzero(target.rows & available)
        if kind == "duplicate_key":  # needs a clean row before it to repeat
            first_free = np.flatnonzero(available)[:1]
            candidates = candidates[candidates > first_free[0]] if len(first_free) else candidates[:0]
        rows = np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))
        available[rows] = False
        chosen.append((kind, rows, target.field[rows]))
    defects: list[Defect] = []
    for kind, rows, fields in chosen:
        if kind == "duplicate_key":
            defects.extend(_duplicate(table, rendered, rows, available, rng))
            continue
        for row, name in zip(rows.tolist(), fields.tolist(), strict=True):
            defects.append(_apply(kind, table, rendered, style, row, name, rng))
    return sorted(defects, key=lambda d: d.index)


def _cell_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return format(value, "f").rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return "" if value is None else str(value)


def _apply(
    kind: str,
    table: Table,
    rendered: Rendered,
    style: CellStyle,
    row: int,
    name: str,
    rng: np.random.Generator,
) -> Defect:
    cells = rendered.cells
    if kind == "valid_to_before_from":
        later, earlier = name.split("<")
        day = int(table.columns[earlier][row]) - int(rng.integers(1, 366))
        original = cells[later][row]
        cells[later][row] = rendered.date_cell(day, style, row)
        return Defect(
            row, later, kind, _cell_text(original), _cell_text(cells[later][row]), f"before {earlier}"
        )
    original = cells[name][row]
    note = ""
    if kind == "wrong_check_char":
        value = wrong_check(str(original), CHECK_ALPHABETS[table.dataset.field(name).type], rng)
    elif kind == "idcard_wrong_check":
        value = wrong_check(str(original), CHECK_ALPHABETS["idcard"], rng)
    elif kind == "fullwidth_chars":
        value = "".join(_FULLWIDTH.get(c, c) for c in str(original))
    elif kind == "lowercase_code":
        value = str(original).lower()
    elif kind == "missing_required":
        value = ""
    elif kind == "impossible_date":
        value = impossible_date(int(table.columns[name][row]), str(rendered.row_date_styles[row]), rng)
    elif kind == "amount_as_text":
        value = amount_in_words(str(table.columns[name][row]), rng)
    elif kind == "placeholder_without_regno":
        value = uscc_code.PLACEHOLDER
        regno_fields = [f.name for f in table.dataset.fields if f.type == "regno"]
        dropped = [f"{r}={cells[r][row]}" for r in regno_fields if cells[r][row] != ""]
        for r in regno_fields:
            cells[r][row] = ""
        note = "registration number removed" + (f" ({', '.join(dropped)})" if dropped else "")
    else:  # pragma: no cover - DEFECT_KINDS and this function are kept in step by the tests
        raise ValueError(kind)
    cells[name][row] = value
    return Defect(row, name, kind, _cell_text(original), value, note)


def _duplicate(
    table: Table, rendered: Rendered, targets: np.ndarray, available: np.ndarray, rng: np.random.Generator
) -> list[Defect]:
    """Copies the dedup key (and the subject, if the key names it) of an earlier clean row."""
    key = list(table.dataset.dedup_key)
    copied = key + ([f for f in table.dataset.field_names if f in SUBJECT_FIELDS and f not in key]
                    if SUBJECT_FIELDS.intersection(key) else [])  # fmt: skip
    sources = np.flatnonzero(available).tolist()
    defects = []
    for target in targets.tolist():
        end = bisect.bisect_left(sources, target)
        if end == 0:
            continue
        source = sources.pop(int(rng.integers(0, end)))
        available[source] = False
        first = key[0]
        original = rendered.cells[first][target]
        for name in copied:
            rendered.cells[name][target] = rendered.cells[name][source]
        defects.append(
            Defect(
                target,
                first,
                "duplicate_key",
                _cell_text(original),
                _cell_text(rendered.cells[first][target]),
                source=source,
            )
        )  # fmt: skip
    return defects


# ---------------------------------------------------------------------------------------------------
# The defective values themselves


def wrong_check(code: str, alphabet: str, rng: np.random.Generator) -> str:
    """``code`` with its last (check) character replaced by another one of ``alphabet``.

    >>> wrong_check("600037341", "0123456789X", np.random.default_rng(0))
    '600037349'

    """
    others = [c for c in alphabet if c != code[-1]]
    return code[:-1] + others[int(rng.integers(len(others)))]


def impossible_date(ordinal: int, style: str, rng: np.random.Generator) -> str:
    """A date that cannot exist, written in the row's style (or a common typing of it).

    >>> day = dt.date(2026, 10, 8).toordinal()
    >>> impossible_date(day, "chinese", np.random.default_rng(1))
    '2026年4月31日'
    >>> impossible_date(day, "iso", np.random.default_rng(0))
    '2026-00-12'
    """
    year = dt.date.fromordinal(ordinal).year
    month, day = [(13, 1), (2, 30), (4, 31), (2, 29), (6, 31), (0, 12)][int(rng.integers(6))]
    if year % 4 == 0 and (month, day) == (2, 29):
        month, day = 2, 30
    written = {
        "iso": f"{year}-{month:02d}-{day:02d}",
        "slash": f"{year}/{month}/{day}",
        "chinese": f"{year}年{month}月{day}日",
        "compact": f"{year}{month:02d}{day:02d}",
    }
    return written.get(style, written["chinese"])


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")


def _four_digits(number: int) -> str:
    out, zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit == 0:
            zero = bool(out)
        else:
            out += ("零" if zero else "") + _DIGITS[digit] + _UNITS[position]
            zero = False
    return out


def capital_yuan(fen: int) -> str:
    """An amount in the capital numerals of Chinese financial writing.

    >>> capital_yuan(500_000), capital_yuan(123_456), capital_yuan(100_050)
    ('伍仟元整', '壹仟贰佰叁拾肆元伍角陆分', '壹仟元伍角')
    >>> capital_yuan(3_000_000_00)
    '叁佰万元整'
    """
    yuan, jiao, fen_part = fen // 100, fen // 10 % 10, fen % 10
    high, low = divmod(yuan, 10_000)
    text = ""
    if high:
        text = _four_digits(high) + "万"
        if low and low < 1000:
            text += "零"
    text += _four_digits(low) if low else ""
    text = (text or "零") + "元"
    if not jiao and not fen_part:
        return text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    if fen_part:
        text += ("零" if not jiao else "") + _DIGITS[fen_part] + "分"
    return text


def amount_in_words(wan: str, rng: np.random.Generator) -> str:
    """An amount of 万元 as a clerk writes it out in words instead of a number.

    >>> amount_in_words("0.5", np.random.default_rng(0)), amount_in_words("0.5", np.random.default_rng(2))
    ('0.5万元（大写伍仟元）', '伍仟元整')
    """
    from decimal import Decimal

    fen = int(Decimal(wan) * 1_000_000)
    words = capital_yuan(fen)
    if rng.random() < 0.5:
        return words
    return f"{wan}万元（大写{words.removesuffix('整')}）"
