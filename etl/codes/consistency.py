"""Checks across records: codes and names that contradict each other within a batch.

The national assessment counts a code carried under several subject names (一码多名) and a name
carried under several codes (一名多码) as errors, and a record's organisation code must equal
positions 9-17 of its USCC. Each function takes Arrow arrays (a delivery's columns, or the result
of a warehouse query) and returns its findings with a reason code and a Chinese message.

Comparisons are made on normalised values, so that only real contradictions are reported:

- codes go through ``etl.codes.normalise`` (full-width, case, blanks, hyphens);
- names through NFKC (full-width brackets ``（）`` become ``()``) with all blanks removed, since a
  stray space or a bracket's width does not make a different subject;
- null and blank values, and the USCC placeholder ``00000000000000000X`` (shared by all
  self-employed businesses still without a code), are left out.

Codes, and names that a clerk may have typed an identity number into, are quoted in messages with
every identity-number-shaped run masked (``etl.codes.idcard.mask_in_text``).

>>> import pyarrow as pa
>>> codes = pa.array(["91450200MA5K000001", "91450200MA5K000001", "91450200MA5K000001"])
>>> names = pa.array(["柳州某某有限公司", "柳州某某有限公司（分公司）", "柳州某某有限公司(分公司)"])
>>> found = one_code_many_names(codes, names)
>>> found["count"].to_pylist(), found["rows"].to_pylist()
([2], [[0, 1, 2]])
>>> found["message"][0].as_py()
'同一代码对应2个不同名称：柳州某某有限公司、柳州某某有限公司(分公司)；同一主体应使用登记证照上的全称，请核实名称或代码'
>>> orgcode_mismatch(pa.array(["91110000600037341L", "91110000600037341L"]),
...                  pa.array(["60003734-1", "600037342"])).to_pylist()
[False, True]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.codes import orgcode as orgcode_module
from etl.codes import reasons, uscc
from etl.codes._verdicts import (
    Values,
    _as_strings,
    check,
    format_messages,
    mask_idcards,
    mask_idcards_in_text,
    normalise_array,
)

NAME_SEPARATOR = "、"


def normalise_names(names: Values) -> pa.StringArray:
    """Subject names as compared here: NFKC, without blanks; blank names become null."""
    folded = pc.replace_substring_regex(pc.utf8_normalize(_as_strings(names), form="NFKC"), r"\s+", "")
    return pc.if_else(pc.equal(folded, ""), pa.scalar(None, pa.string()), folded)


def one_code_many_names(codes: Values, names: Values) -> pa.Table:
    """Codes that appear with more than one distinct name (一码多名), one row per code.

    Columns: ``code``, ``names`` (the distinct normalised names, sorted), ``count`` (how many),
    ``rows`` (0-based positions of the records carrying the code), ``reason``, ``message``.
    """
    found = _many(_codes_for_grouping(codes), normalise_names(names), "code", "names")
    joined = pc.binary_join(found["names"], NAME_SEPARATOR)
    return _with_message(found, reasons.ONE_CODE_MANY_NAMES, {"names": joined})


def one_name_many_codes(names: Values, codes: Values) -> pa.Table:
    """Names that appear with more than one distinct code (一名多码), one row per name.

    Columns: ``name``, ``codes`` (the distinct normalised codes, sorted), ``count``, ``rows``,
    ``reason``, ``message``.
    """
    found = _many(normalise_names(names), _codes_for_grouping(codes), "name", "codes")
    return _with_message(found, reasons.ONE_NAME_MANY_CODES, {"name": found["name"]})


def orgcode_mismatch(uscc_values: Values, orgcodes: Values) -> pa.BooleanArray:
    """Per record, whether the organisation code differs from positions 9-17 of the USCC.

    Null where there is nothing to compare: either value absent, the USCC not 18 characters
    long, or the USCC the placeholder.
    """
    expected, orgcode = _mismatch_operands(uscc_values, orgcodes)
    return pc.not_equal(expected, orgcode)


def orgcode_mismatch_table(uscc_values: Values, orgcodes: Values) -> pa.Table:
    """The records ``orgcode_mismatch`` flags: ``row``, ``orgcode``, ``expected``, ``reason``, ``message``."""
    expected, orgcode = _mismatch_operands(uscc_values, orgcodes)
    rows = np.flatnonzero(pc.fill_null(pc.not_equal(expected, orgcode), False).to_numpy(zero_copy_only=False))
    found = pa.table(
        {
            "row": pa.array(rows, pa.int64()),
            "orgcode": orgcode.take(pa.array(rows)),
            "expected": expected.take(pa.array(rows)),
        }
    )
    shown = _shown_in_message(normalise_array(uscc_values).take(pa.array(rows)), found)
    return _with_message(found, reasons.ORGCODE_MISMATCH, shown)


# An 18-character value of digits (the last may be X) in a USCC column may be an identity number.
_ID_SHAPED = r"^[0-9]{17}[0-9X]$"


def may_be_personal(codes: pa.StringArray) -> pa.BooleanArray:
    """Per normalised USCC-column value, whether it may be an identity number: shaped like one, and a
    valid one or no valid USCC (a valid USCC may be all digits too)."""
    if not len(codes):
        return pa.array([], pa.bool_())
    as_idcard, as_uscc = check(codes, "idcard").valid, check(codes, "uscc").valid
    return pc.and_(pc.match_substring_regex(codes, _ID_SHAPED), pc.or_(as_idcard, pc.invert(as_uscc)))


def shown_codes(codes: Values) -> pa.StringArray:
    """USCC-column values as a person may see them: as given, or masked as identity numbers are where
    they may be one (``may_be_personal``).

    >>> shown_codes(pa.array(["91450200MA5K000001", "360426199101010071", None])).to_pylist()
    ['91450200MA5K000001', '3604**********0071', None]
    """
    personal = pc.fill_null(may_be_personal(normalise_array(codes)), False)
    return pc.if_else(personal, mask_idcards(codes), _as_strings(codes))


def shown_orgcodes(orgcodes: Values) -> pa.StringArray:
    """Organisation codes as a person may see them: one that is not 9 characters long (an identity
    number typed into the column, say) masked as identity numbers are."""
    nine = pc.equal(pc.utf8_length(normalise_array(orgcodes)), orgcode_module.LENGTH)
    return pc.if_else(nine, _as_strings(orgcodes), mask_idcards(orgcodes))


def _shown_in_message(codes: pa.StringArray, found: pa.Table) -> dict[str, pa.Array]:
    """The orgcode and expected fields of mismatch messages, with anything that may be (part of)
    an identity number hidden: an "organisation code" that is not 9 characters long is masked as
    identity numbers are, and positions 9-17 of a USCC-column value that may be an identity number
    are not shown at all (they hold the birth date)."""
    shown_orgcode, expected = shown_orgcodes(found["orgcode"]), found["expected"]
    if not len(codes):
        return {"orgcode": shown_orgcode, "expected": expected}
    hidden = pc.replace_substring_regex(expected, "(?s).", "*")
    return {"orgcode": shown_orgcode, "expected": pc.if_else(may_be_personal(codes), hidden, expected)}


def _codes_for_grouping(codes: Values) -> pa.StringArray:
    normalised = normalise_array(codes)
    left_out = pc.fill_null(pc.or_(pc.equal(normalised, ""), pc.equal(normalised, uscc.PLACEHOLDER)), True)
    return pc.if_else(left_out, pa.scalar(None, pa.string()), normalised)


def _many(keys: pa.Array, values: pa.Array, key: str, plural: str) -> pa.Table:
    """Keys paired with more than one distinct value, with those values and the rows of the key."""
    if len(keys) != len(values):
        raise ValueError(f"{len(keys)} {key}s but {len(values)} {plural}")
    pairs = pa.table({key: keys, "value": values, "row": pa.array(np.arange(len(keys)), pa.int64())})
    pairs = pairs.filter(pc.and_(pc.is_valid(pairs[key]), pc.is_valid(pairs["value"])))
    # Single-threaded grouping keeps first-appearance order: sorted input gives sorted distinct
    # values, input in row order gives rows in order. Acero joins cannot carry list columns, so
    # the two aggregations are aligned by sorting both on the key instead.
    values_of = (
        pairs.sort_by([(key, "ascending"), ("value", "ascending")])
        .group_by(key, use_threads=False)
        .aggregate([("value", "distinct"), ("value", "count_distinct")])
    )
    values_of = values_of.filter(pc.greater(values_of["value_count_distinct"], 1)).sort_by(key)
    offending = pairs.filter(pc.is_in(pairs[key], values_of[key]))
    rows_of = offending.group_by(key, use_threads=False).aggregate([("row", "list")]).sort_by(key)
    return pa.table(
        {
            key: values_of[key],
            plural: values_of["value_distinct"],
            "count": values_of["value_count_distinct"],
            "rows": rows_of["row_list"],
        }
    )


def _with_message(found: pa.Table, reason: str, values: dict[str, pa.Array]) -> pa.Table:
    n = found.num_rows
    fields = {"count": pc.cast(found["count"], pa.string())} if "count" in found.column_names else {}
    fields |= values
    message = mask_idcards_in_text(format_messages(reason, fields, n)) if n else pa.array([], pa.string())
    return found.append_column("reason", pa.repeat(pa.scalar(reason), n)).append_column("message", message)


def _mismatch_operands(uscc_values: Values, orgcodes: Values) -> tuple[pa.Array, pa.Array]:
    """Positions 9-17 of the USCCs and the organisation codes, null where they cannot be compared."""
    codes = normalise_array(uscc_values)
    orgcode = normalise_array(orgcodes)
    if len(codes) != len(orgcode):
        raise ValueError(f"{len(codes)} USCCs but {len(orgcode)} organisation codes")
    comparable = pc.and_(pc.equal(pc.utf8_length(codes), uscc.LENGTH), pc.not_equal(codes, uscc.PLACEHOLDER))
    comparable = pc.and_(comparable, pc.greater(pc.utf8_length(orgcode), 0))
    null = pa.scalar(None, pa.string())
    expected = pc.if_else(comparable, pc.utf8_slice_codeunits(codes, 8, 17), null)
    return expected, pc.if_else(comparable, orgcode, null)
