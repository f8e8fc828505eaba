"""The checks behind the custom expectations, over whole Arrow columns at once.

Each function takes Arrow arrays (or numpy arrays) and returns a numpy boolean array with one
entry per row: ``True`` where the row satisfies the rule. The custom GX expectations of
``etl.validate.gx_expectations`` call these functions, so a rule is written once and shows up in GX
results and Data Docs like a core expectation. Duplicates of the deduplication key need memory of
earlier batches, which a GX suite cannot carry; ``DuplicateFinder`` keeps it (see ``state``).

A condition (``when`` of a catalog rule) is a dict as in the catalog: ``{"field": F, "equals": V}``,
``{"field": F, "in": [V, ...]}`` or ``{"field": F, "contains": V}``; ``contains`` looks for V among
the items of a multi-valued field split at its separator.

>>> import pyarrow as pa
>>> condition_holds(pa.array(["警告;罚款", "警告", None]), {"contains": "罚款"}, separator=";").tolist()
[True, False, False]
>>> disallowed_items("警告;罚金;其他-责令改正", ("警告", "罚款"), ("其他-",), ";")
['罚金']
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHINA = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")

ArrayLike = pa.Array | pa.ChunkedArray


def as_array(values: ArrayLike) -> pa.Array:
    """One contiguous Arrow array, whatever the chunking."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def filled(values: ArrayLike) -> np.ndarray:
    """Per row: the cell holds a value (conform has already turned blank strings into null)."""
    return as_array(values).is_valid().to_numpy(zero_copy_only=False)


# --------------------------------------------------------------------------------------------------
# Values of one field


def separator_chars(separator: str) -> tuple[str, ...]:
    """The separator and its full-width twin, which Chinese input methods type by default.

    >>> separator_chars(";")
    (';', '；')
    """
    chars = [separator]
    if len(separator) == 1 and "!" <= separator <= "~":
        chars.append(chr(ord(separator) + 0xFEE0))
    return tuple(chars)


def allowed_regex(allowed: Sequence[str], prefixes: Sequence[str] = (), separator: str | None = None) -> str:
    """A regular expression (RE2 and Python syntax) for values made of allowed items.

    Items are matched literally (``re.escape``); a prefix item needs some text after the prefix.
    With a separator, one or more items joined by it (or its full-width twin), blanks around allowed.

    >>> rx = allowed_regex(["警告", "罚款"], ["其他-"], ";")
    >>> [bool(re.search(rx, v)) for v in ["警告", "警告； 罚款", "其他-责令改正", "其他-", "罚金"]]
    [True, True, True, False, False]
    """
    stop = "".join(re.escape(c) for c in separator_chars(separator)) if separator else ""
    tail = f"[^{stop}]+" if stop else ".+"
    alternatives = [re.escape(v) for v in allowed] + [re.escape(p) + tail for p in prefixes]
    item = "(?:" + "|".join(alternatives) + ")"
    if not separator:
        return f"^{item}$"
    join = "\\s*[" + stop + "]\\s*"
    return f"^\\s*{item}(?:{join}{item})*\\s*$"


def split_items(value: str, separator: str) -> list[str]:
    """The items of a multi-valued cell, stripped."""
    pattern = "[" + "".join(re.escape(c) for c in separator_chars(separator)) + "]"
    return [item.strip() for item in re.split(pattern, value)]


def disallowed_items(
    value: str, allowed: Sequence[str], prefixes: Sequence[str] = (), separator: str | None = None
) -> list[str]:
    """The items of ``value`` that are neither allowed values nor a prefix with text after it."""
    items = split_items(value, separator) if separator else [value]
    allowed_set = set(allowed)

    def ok(item: str) -> bool:
        return item in allowed_set or any(item.startswith(p) and len(item) > len(p) for p in prefixes)

    return [item for item in items if not ok(item)]


def code_validity(values: ArrayLike, kind: str, *, accept_placeholder: bool = False) -> np.ndarray:
    """Per row: null, or a valid code of ``kind`` (``uscc``, ``orgcode``, ``regno``, ``idcard``).

    ``accept_placeholder`` lets the USCC placeholder (17 zeros and X) pass: the dataset has a rule
    that requires a registration number with it, and the registration number has its own check.
    """
    from etl.codes import check, reasons

    verdicts = check(as_array(values), kind)
    ok = pc.fill_null(verdicts.valid, True)  # an absent code is the business of "required"
    if accept_placeholder and kind == "uscc":
        placeholder = pc.equal(verdicts.reason, reasons.USCC_PLACEHOLDER_WITHOUT_REGNO)
        ok = pc.or_(ok, pc.fill_null(placeholder, False))
    return ok.to_numpy(zero_copy_only=False)


def code_messages(values: ArrayLike, kind: str) -> tuple[list[str | None], list[str | None]]:
    """The reason codes and Chinese messages of ``etl.codes.check`` for ``values``."""
    from etl.codes import check

    array = as_array(values)
    if not len(array):
        return [], []
    verdicts = check(array, kind)
    return verdicts.reason.to_pylist(), verdicts.message.to_pylist()


def not_in_future(values: ArrayLike, today: datetime.date | None = None) -> np.ndarray:
    """Per row: null, or a date no later than ``today`` (default: today in China)."""
    today = today or datetime.datetime.now(CHINA).date()
    array = as_array(values)
    if pa.types.is_timestamp(array.type):
        array = pc.cast(array, pa.date32())
    later = pc.greater(array, pa.scalar(today, pa.date32()))
    return ~pc.fill_null(later, False).to_numpy(zero_copy_only=False)


# --------------------------------------------------------------------------------------------------
# GX's core expectations, as its pandas engine decides them, for the Arrow engine (GX computes these
# itself). A null passes each of them: GX looks only at the filled cells of a column; ``filled`` is
# expect_column_values_to_not_be_null.


def lengths_within(
    values: ArrayLike,
    min_value: int | None = None,
    max_value: int | None = None,
    *,
    strict_min: bool = False,
    strict_max: bool = False,
) -> np.ndarray:
    """Per row: null, or a text whose length in characters is within the bounds.

    expect_column_value_lengths_to_be_between (GX: ``str.len()``, code points).

    >>> lengths_within(pa.array(["柳州", "柳州市", None]), max_value=2).tolist()
    [True, False, True]
    """
    array = _text(values, "value lengths")
    if min_value is None and max_value is not None:
        # A text has no more characters than bytes: only longer ones need their characters counted.
        limit = max_value - 1 if strict_max else max_value
        byte_lengths = pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False)
        suspects = np.flatnonzero(byte_lengths > limit)
        ok = np.ones(len(array), dtype=bool)
        if suspects.size:
            ok[suspects] = (
                pc.utf8_length(array.take(pa.array(suspects))).to_numpy(zero_copy_only=False) <= limit
            )
        return ok
    lengths = pc.utf8_length(array)
    ok = pa.scalar(True)
    if min_value is not None:
        ok = pc.and_(ok, (pc.greater if strict_min else pc.greater_equal)(lengths, min_value))
    if max_value is not None:
        ok = pc.and_(ok, (pc.less if strict_max else pc.less_equal)(lengths, max_value))
    return _passes(ok, len(lengths))


def in_value_set(values: ArrayLike, value_set: Sequence[Any]) -> np.ndarray:
    """Per row: null, or one of ``value_set`` exactly. expect_column_values_to_be_in_set (``isin``).

    >>> in_value_set(pa.array(["自然人", "法人", None]), ["自然人"]).tolist()
    [True, False, True]
    """
    array = as_array(values)
    found = pc.is_in(array, value_set=pa.array(list(value_set), array.type)).to_numpy(zero_copy_only=False)
    return found | ~filled(array)  # is_in says False, not null, for a null


def matches_regex(values: ArrayLike, regex: str) -> np.ndarray:
    """Per row: null, or a text in which Python's ``re.search(regex)`` finds a match.

    expect_column_values_to_match_regex (GX: pandas ``str.contains``); see ``etl.validate.pyregex``.

    >>> matches_regex(pa.array(["罚款", "罚金", None]), "^罚款$").tolist()
    [True, False, True]
    """
    from etl.validate import pyregex

    array = _text(values, "patterns")
    return pyregex.contains(array, regex) | ~filled(array)


def greater_than(a: ArrayLike, b: ArrayLike, *, or_equal: bool = False) -> np.ndarray:
    """Per row: ``a > b`` (``>=`` with ``or_equal``), or either is null.

    expect_column_pair_values_a_to_be_greater_than_b with ``ignore_row_if="either_value_is_missing"``.

    >>> d = pa.array([datetime.date(2026, 1, 5), None, datetime.date(2026, 1, 5)])
    >>> greater_than(d, pa.array([datetime.date(2026, 1, 5)] * 3), or_equal=True).tolist()
    [True, True, True]
    """
    compare = pc.greater_equal if or_equal else pc.greater
    result = compare(as_array(a), as_array(b))
    return _passes(result, len(result))


def comparison_holds(values: ArrayLike, operator: str, parameter: Any) -> np.ndarray:
    """Per row: a GX row condition ``column <operator> parameter`` holds (``==`` or ``IN``).

    GX selects the rows with pandas' ``query``, where a null holds no condition.

    >>> comparison_holds(pa.array(["身份证", "护照号", None]), "==", "身份证").tolist()
    [True, False, False]
    """
    if operator == "==":
        return condition_holds(values, {"equals": parameter})
    if operator == "IN":
        return condition_holds(values, {"in": list(parameter)})
    raise ValueError(f"row conditions with operator {operator!r} are not supported")


def _text(values: ArrayLike, what: str) -> pa.Array:
    array = as_array(values)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        # GX would look at str() of each value, which Arrow's casts do not reproduce.
        raise TypeError(f"{what} are checked on text columns only, not {array.type}")
    return array


def _passes(result: pa.Array | pa.Scalar, n: int) -> np.ndarray:
    """A per-row Arrow boolean result as numpy, null (a null input) counting as a pass."""
    if isinstance(result, pa.Scalar):  # no bound given: every row passes
        return np.ones(n, dtype=bool)
    return pc.fill_null(result, True).to_numpy(zero_copy_only=False)


# --------------------------------------------------------------------------------------------------
# Rules across fields


def condition_holds(
    values: ArrayLike, condition: Mapping[str, Any], *, separator: str | None = None
) -> np.ndarray:
    """Per row: the condition (``equals``, ``in`` or ``contains``) holds; never where the value is null."""
    array = as_array(values)
    if array.type != pa.string():
        array = pc.cast(array, pa.string())
    if condition.get("equals") is not None:
        mask = pc.equal(array, condition["equals"])
    elif condition.get("in") is not None:
        mask = pc.is_in(array, value_set=pa.array(list(condition["in"]), pa.string()))
    else:
        mask = _contains_item(array, condition["contains"], separator)
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _contains_item(array: pa.Array, item: str, separator: str | None) -> pa.Array:
    if not separator:
        return pc.match_substring(array, item)
    stop = "".join(re.escape(c) for c in separator_chars(separator))
    pattern = f"(?:^|[{stop}])\\s*{re.escape(item)}\\s*(?:[{stop}]|$)"
    return pc.match_substring_regex(array, pattern)


def required_when(condition: np.ndarray, required: Sequence[ArrayLike]) -> np.ndarray:
    """Per row: the condition does not hold, or every required field is filled."""
    all_filled = np.logical_and.reduce([filled(v) for v in required])
    return ~condition | all_filled


def one_filled(fields: Sequence[ArrayLike], condition: np.ndarray | None = None) -> np.ndarray:
    """Per row: at least one of the fields is filled (only where ``condition`` holds, if given)."""
    any_filled = np.logical_or.reduce([filled(v) for v in fields])
    return any_filled if condition is None else ~condition | any_filled


# --------------------------------------------------------------------------------------------------
# Duplicates of the deduplication key


def key_hashes(columns: Sequence[ArrayLike]) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of each row's key, and whether the key is complete.

    A key is complete when some part is filled and no date or number part is missing: an empty
    text part counts as ``''``, exactly as the warehouse stores it (registries key a subject by code
    and legacy number, either of which may be absent), so two records the warehouse would take for
    one are duplicates here too. The hash is pandas' SipHash with its fixed key, so it is the same
    in every process.
    """
    from pandas.util import hash_array

    combined = np.zeros(len(columns[0]) if columns else 0, dtype=np.uint64)
    complete = np.ones(len(combined), dtype=bool)
    any_filled = np.zeros(len(combined), dtype=bool)
    for part, values in enumerate(columns):
        array = as_array(values)
        present = filled(array)
        any_filled |= present
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            complete &= present
        if array.type != pa.string():
            array = pc.cast(array, pa.string())
        # As bytes objects: the same SipHash as of the str, without encoding each one again (3x faster).
        strings = pc.fill_null(array, "").cast(pa.binary()).to_numpy(zero_copy_only=False)
        hashed = hash_array(strings, categorize=False)
        # Rotate the running hash before mixing the next part in, so ("a", "b") ≠ ("b", "a").
        combined = ((combined << np.uint64(part + 1)) | (combined >> np.uint64(63 - part))) ^ hashed
    return combined, complete & any_filled


class DuplicateFinder:
    """Remembers the first row of every key seen in a delivery, across batches.

    Keys are kept as 64-bit hashes in a sorted array (16 bytes per distinct key, with the row
    number). Two different keys share a hash with a probability of about n²/2⁶⁵ — for a million keys
    about 3 in 100 million.

    >>> finder = DuplicateFinder()
    >>> finder.earlier_rows(np.array([7, 8, 7], np.uint64), np.array([2, 3, 4]), np.ones(3, bool)).tolist()
    [-1, -1, 2]
    >>> finder.earlier_rows(np.array([8, 9], np.uint64), np.array([5, 6]), np.ones(2, bool)).tolist()
    [3, -1]
    """

    def __init__(self) -> None:
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._rows = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._hashes)

    def earlier_rows(self, hashes: np.ndarray, rows: np.ndarray, complete: np.ndarray) -> np.ndarray:
        """Per row: the source row where its key first appeared, or -1 if this is the first time.

        Rows whose key is incomplete take no part (a missing key part is reported as required).
        """
        earlier = np.full(len(hashes), -1, dtype=np.int64)
        candidates = np.flatnonzero(complete)
        if not len(candidates):
            return earlier
        unique, first_index, inverse = np.unique(hashes[candidates], return_index=True, return_inverse=True)
        first_of_row = first_index[inverse]
        later_in_batch = first_of_row != np.arange(len(candidates))
        earlier[candidates[later_in_batch]] = rows[candidates[first_of_row[later_in_batch]]]

        known_rows = self._lookup(unique)
        seen = known_rows[inverse]
        earlier[candidates[seen >= 0]] = seen[seen >= 0]
        new = known_rows < 0
        self._remember(unique[new], rows[candidates[first_index[new]]])
        return earlier

    def _lookup(self, hashes: np.ndarray) -> np.ndarray:
        """The remembered row of each of the sorted ``hashes``, or -1."""
        if not len(self._hashes):
            return np.full(len(hashes), -1, dtype=np.int64)
        # Sorted needles walk the sorted array in order, which keeps the binary searches in cache.
        position = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
        return np.where(self._hashes[position] == hashes, self._rows[position], -1)

    def _remember(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """Merge new sorted ``hashes`` (none of them known) into the sorted memory."""
        position = np.searchsorted(self._hashes, hashes)
        self._hashes = np.insert(self._hashes, position, hashes)
        self._rows = np.insert(self._rows, position, rows)
