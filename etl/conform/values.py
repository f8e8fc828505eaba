"""Typing cells the way departments write them: strings in, typed Arrow columns and reasons out.

Each ``parse_*`` function takes a string column (already trimmed, empty = null) and returns the typed
column plus a ``reasons`` column: null where the cell was typed as written (or was empty), else a
reason code (``NOT_A_DATE``, ``NOT_A_NUMBER``, ``NOT_AN_INTEGER``, ``NUMBER_OUT_OF_RANGE``, or
``DECIMAL_ROUNDED``, which is a normalisation: the value is kept, rounded). A cell that cannot be
typed is null in the typed column.

The common spelling goes through Arrow kernels (a regex filter and a cast); the rest is
dictionary-encoded and each *distinct* value parsed in Python, with a cache across batches:
a date column of a million rows holds a few thousand distinct dates.

>>> import pyarrow as pa
>>> dates, reasons = parse_dates(pa.array(['2026/10/8', '2026年10月8日', '46303', '2026年13月1日', None]))
>>> [str(d) for d in dates.to_pylist()], reasons.to_pylist()
(['2026-10-08', '2026-10-08', '2026-10-08', 'None', 'None'], [None, None, None, 'NOT_A_DATE', None])
>>> amounts, reasons = parse_decimals(pa.array(['1,234.5', '１２．５', '0.5万元', '伍仟元整']), unit='万元')
>>> [None if a is None else str(a.normalize()) for a in amounts.to_pylist()], reasons.to_pylist()
(['1234.5', '12.5', '0.5', None], [None, None, None, 'NOT_A_NUMBER'])
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.feedback import CONTROL_PATTERN

NOT_A_DATE = "NOT_A_DATE"
NOT_A_NUMBER = "NOT_A_NUMBER"
NOT_AN_INTEGER = "NOT_AN_INTEGER"
NUMBER_OUT_OF_RANGE = "NUMBER_OUT_OF_RANGE"
DECIMAL_ROUNDED = "DECIMAL_ROUNDED"
CONTROL_CHARACTERS = "CONTROL_CHARACTERS"

DECIMAL_TYPE = pa.decimal128(20, 6)
DECIMAL_PLACES = 6
_DECIMAL_LIMIT = Decimal(10) ** (DECIMAL_TYPE.precision - DECIMAL_TYPE.scale)
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)

# Excel counts days from 1899-12-30 (its 1900 leap-year bug included). Only serials between
# 1950-01-01 and 2100-12-31 are taken for dates: a bare year such as 2026 would otherwise become
# 1905-07-18, and nothing in credit data is older than 1950 or open-ended beyond 2099-12-31.
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (18264, 73415)

_STRING_NULL = pa.scalar(None, pa.string())
_CACHE_SIZE = 1 << 16

# Dates: 2026-10-08, 2026/10/8, 2026.10.8, 2026年10月8日, each optionally followed by a time.
_TIME = r"(?:[ T]*\d{1,2}[:时]\d{1,2}(?:[:分]\d{1,2}(?:\.\d+)?秒?)?)?"
_YMD = re.compile(rf"^(\d{{4}})[-/.年](\d{{1,2}})[-/.月](\d{{1,2}})日?{_TIME}$")
_COMPACT_YMD = re.compile(rf"^(\d{{4}})(\d{{2}})(\d{{2}}){_TIME}$")
_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")
# 二〇二六年十月八日, as in official documents (NFKC has already turned a full-width O into "O").
_CHINESE_DIGITS = str.maketrans("〇零○O一二三四五六七八九", "0000123456789")
_CN_YEAR, _CN_NUMBER = "[〇零○O一二三四五六七八九]{4}", "[一二三四五六七八九十]{1,3}"
_CHINESE_YMD = re.compile(rf"^({_CN_YEAR})年({_CN_NUMBER})月({_CN_NUMBER})日$")

_PLAIN_DECIMAL = r"^-?\d{1,14}(?:\.\d{1,6})?$"
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+)(\.\d+)?$")
_PLAIN_INTEGER = r"^[+-]?\d{1,18}$"
_INT64_MAX = 2**63 - 1


def clean_strings(values: pa.Array) -> pa.Array:
    """Strip blanks (every Unicode space, the full-width one included); empty -> null.

    >>> clean_strings(pa.array(['\\u3000张三 ', '  ', None])).to_pylist()
    ['张三', None, None]
    """
    trimmed = pc.utf8_trim_whitespace(values)
    empty = _empty_strings(trimmed)
    return trimmed if empty is None else pc.if_else(empty, _STRING_NULL, trimmed)


def control_characters(values: pa.Array) -> pa.Array | None:
    """Where a cell holds a control character (``etl.feedback.CONTROL_PATTERN``: no credit record
    holds one; NUL cannot be stored in PostgreSQL text nor any of them written to an XLSX cell), or
    None if nowhere.

    >>> control_characters(pa.array(['a\\x00b', 'tab\\tok', None])).to_pylist()
    [True, False, False]
    >>> control_characters(pa.array(['正常'])) is None
    True
    """
    if not _may_hold_controls(values):
        return None
    found = pc.fill_null(pc.match_substring_regex(values, CONTROL_PATTERN), False)
    return found if pc.any(found).as_py() else None


def _may_hold_controls(values: pa.Array) -> bool:
    """Whether any byte of the strings' data is a control character, looked at as bytes with numpy:
    about a tenth of the regular expression's cost, which then only runs on a column that has one.
    In UTF-8 a byte below 0x80 is always that ASCII character, never part of another character.

    >>> _may_hold_controls(pa.array(["正常", "a\\tb\\r\\n"])), _may_hold_controls(pa.array(["x\\x7f"]))
    (False, True)
    """
    if values.null_count == len(values):
        return False
    _, offsets, data = values.buffers()
    if data is None:
        return False
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    bounds = np.frombuffer(offsets, width, count=len(values) + 1, offset=values.offset * width().itemsize)
    raw = np.frombuffer(data, np.uint8, count=int(bounds[-1] - bounds[0]), offset=int(bounds[0]))
    below_space = raw[raw < 0x20]
    allowed = (below_space == 0x09) | (below_space == 0x0A) | (below_space == 0x0D)  # tab, LF, CR
    return bool(not allowed.all() or (raw == 0x7F).any())


def _empty_strings(values: pa.Array) -> np.ndarray | None:
    """Where ``values`` holds an empty (not null) string, or None if nowhere.

    Read off the offsets and validity buffers: a third of the cost of comparing every value to "".
    """
    if len(values) == 0 or values.null_count == len(values):
        return None
    validity, offsets = values.buffers()[:2]
    bounds = np.frombuffer(offsets, np.int32, count=len(values) + 1, offset=values.offset * 4)
    empty = bounds[1:] == bounds[:-1]
    if not empty.any():
        return None
    if validity is not None:
        bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
        empty &= bits[values.offset : values.offset + len(values)].astype(bool)
    return empty if empty.any() else None


def parse_dates(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Type a cleaned string column as date32 (see the module docstring for the spellings)."""
    return _parse_distinct(values, _date_or_reason, pa.date32())


def parse_decimals(values: pa.Array, unit: str | None = None) -> tuple[pa.Array, pa.Array]:
    """Type a cleaned string column as decimal128(20, 6); a trailing ``unit`` text is dropped."""
    plain = pc.match_substring_regex(values, _PLAIN_DECIMAL)
    fast = pc.if_else(plain, values, _STRING_NULL).cast(DECIMAL_TYPE)
    rest = pc.if_else(plain, _STRING_NULL, values)
    if rest.null_count == len(rest):
        return fast, pa.nulls(len(values), pa.string())
    slow, reasons = _parse_distinct(rest, lambda text: _decimal_or_reason(text, unit), DECIMAL_TYPE)
    return pc.coalesce(fast, slow), reasons


def parse_integers(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Type a cleaned string column as int64 (``1,234``, ``１２``, Excel's ``12.0`` accepted)."""
    plain = pc.match_substring_regex(values, _PLAIN_INTEGER)
    fast = pc.if_else(plain, values, _STRING_NULL).cast(pa.int64())
    rest = pc.if_else(plain, _STRING_NULL, values)
    if rest.null_count == len(rest):
        return fast, pa.nulls(len(values), pa.string())
    slow, reasons = _parse_distinct(rest, _integer_or_reason, pa.int64())
    return pc.coalesce(fast, slow), reasons


def _parse_distinct(
    values: pa.Array, parse: Callable[[str], tuple[Any, str | None]], value_type: pa.DataType
) -> tuple[pa.Array, pa.Array]:
    """Parse each distinct value once in Python and spread the results back over the rows."""
    encoded = pc.dictionary_encode(values)
    parsed = [parse(text) for text in encoded.dictionary.to_pylist()]
    typed = pa.array([value for value, _ in parsed], type=value_type)
    reasons = pa.array([reason for _, reason in parsed], type=pa.string())
    if reasons.null_count == len(reasons):
        return pc.take(typed, encoded.indices), pa.nulls(len(values), pa.string())
    return pc.take(typed, encoded.indices), pc.take(reasons, encoded.indices)


@lru_cache(maxsize=_CACHE_SIZE)
def _date_or_reason(text: str) -> tuple[dt.date | None, str | None]:
    day = parse_date_text(text)
    return (day, None) if day is not None else (None, NOT_A_DATE)


def parse_date_text(text: str) -> dt.date | None:
    """One date as a department writes it, or None.

    >>> spellings = ('2026.10.8', '20261008', '2026-10-08 09:30:00', '二〇二六年十月八日', '46303')
    >>> {parse_date_text(text) for text in spellings}
    {datetime.date(2026, 10, 8)}
    >>> parse_date_text('2026-02-30') is None, parse_date_text('2026') is None
    (True, True)
    """
    text = "".join(unicodedata.normalize("NFKC", text).split())
    if match := _YMD.match(text) or _COMPACT_YMD.match(text):
        return _date(*match.groups())
    if match := _SERIAL.match(text):
        serial = int(match[1])
        low, high = EXCEL_SERIAL_RANGE
        return EXCEL_EPOCH + dt.timedelta(days=serial) if low <= serial <= high else None
    if match := _CHINESE_YMD.match(text):
        year = match[1].translate(_CHINESE_DIGITS)
        return _date(year, str(_chinese_number(match[2])), str(_chinese_number(match[3])))
    return None


def _date(year: str, month: str, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _chinese_number(text: str) -> int:
    """一 … 三十一, as written in month and day names."""
    digits = text.translate(_CHINESE_DIGITS)
    if "十" not in digits:
        return int(digits)
    tens, _, units = digits.partition("十")
    return int(tens or 1) * 10 + int(units or 0)


@lru_cache(maxsize=_CACHE_SIZE)
def _decimal_or_reason(text: str, unit: str | None) -> tuple[Decimal | None, str | None]:
    number = _number_text(text, unit)
    if number is None:
        return None, NOT_A_NUMBER
    try:
        value = Decimal(number)
    except InvalidOperation:  # pragma: no cover - _NUMBER admits only what Decimal reads
        return None, NOT_A_NUMBER
    rounded = value.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    if abs(rounded) >= _DECIMAL_LIMIT:
        return None, NUMBER_OUT_OF_RANGE
    return rounded, (DECIMAL_ROUNDED if rounded != value else None)


@lru_cache(maxsize=_CACHE_SIZE)
def _integer_or_reason(text: str) -> tuple[int | None, str | None]:
    number = _number_text(text, None)
    if number is None:
        return None, NOT_AN_INTEGER
    value = Decimal(number)
    if value != value.to_integral_value():
        return None, NOT_AN_INTEGER
    if abs(value) > _INT64_MAX:
        return None, NUMBER_OUT_OF_RANGE
    return int(value), None


def _number_text(text: str, unit: str | None) -> str | None:
    """The plain number in ``text`` (full-width digits, blanks, grouping, a unit undone), or None."""
    text = "".join(unicodedata.normalize("NFKC", text).split())
    if unit:
        text = text.removesuffix(unicodedata.normalize("NFKC", unit))
    if match := _GROUPED.match(text):
        text = match[1] + match[2].replace(",", "") + (match[3] or "")
    return text if _NUMBER.match(text) else None
