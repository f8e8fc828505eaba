"""The vectorised rules behind the custom expectations (no GX here: fast)."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from etl.validate import rules

ALLOWED = ("警告", "罚款", "A+B (test)")
VALUES = [
    "警告",
    "罚款;警告",
    "罚款； 警告",
    " 警告 ; 罚款 ",
    "其他-责令改正",
    "警告;其他-限期整改",
    "A+B (test)",
    "AAB (test)",  # "+" is literal, not a regex quantifier
    "A+B (test);罚款",
    "罚金",
    "警告;",
    ";警告",
    "警告;;罚款",
    "其他-",
    "其他-;警告",
    "警告、罚款",  # the enumeration comma is not the separator
    "警告\n罚款",
]


def python_and_re2(regex: str, values: list[str]) -> tuple[list[bool], list[bool]]:
    python = [re.search(regex, v) is not None for v in values]
    re2 = pc.match_substring_regex(pa.array(values), regex).to_pylist()
    return python, re2


def test_allowed_regex_agrees_with_the_item_check_in_both_engines():
    regex = rules.allowed_regex(ALLOWED, ("其他-",), ";")
    python, re2 = python_and_re2(regex, VALUES)
    by_items = [not rules.disallowed_items(v, ALLOWED, ("其他-",), ";") for v in VALUES]
    assert python == re2 == by_items
    assert python == [True] * 7 + [False, True] + [False] * 8


def test_allowed_regex_without_separator_is_one_whole_value():
    regex = rules.allowed_regex(["身份证", "护照号"], ["其他-"])
    values = ["身份证", "其他-军官证", "身份证;护照号", "身份证号", "其他-"]
    python, re2 = python_and_re2(regex, values)
    assert python == re2 == [True, True, False, False, False]


def test_disallowed_items_names_the_offenders():
    assert rules.disallowed_items("警告;罚金;其他-", ALLOWED, ("其他-",), ";") == ["罚金", "其他-"]
    assert rules.disallowed_items("警告;", ALLOWED, (), ";") == [""]
    assert rules.disallowed_items("法人", ("自然人",)) == ["法人"]


def test_conditions():
    values = pa.array(["警告;罚款", "其他-罚款通知", "罚款", None, "警告；罚款 "])
    assert rules.condition_holds(values, {"contains": "罚款"}, separator=";").tolist() == [
        True,
        False,
        True,
        False,
        True,
    ]
    assert rules.condition_holds(values, {"contains": "罚款"}).tolist() == [True, True, True, False, True]
    assert rules.condition_holds(values, {"equals": "罚款"}).tolist() == [False, False, True, False, False]
    assert rules.condition_holds(values, {"in": ["罚款", "警告;罚款"]}).tolist() == [
        True,
        False,
        True,
        False,
        False,
    ]
    dates = pa.array([dt.date(2026, 1, 1), None])
    assert rules.condition_holds(dates, {"equals": "2026-01-01"}).tolist() == [True, False]


def test_required_when_and_one_filled():
    condition = np.array([True, True, False, True])
    a = pa.array(["x", None, None, None])
    b = pa.array([1, 2, None, None])
    assert rules.required_when(condition, [a, b]).tolist() == [True, False, True, False]
    assert rules.one_filled([a, b]).tolist() == [True, True, False, False]
    assert rules.one_filled([a, b], condition).tolist() == [True, True, True, False]


def test_code_validity_and_the_placeholder():
    values = pa.array(["91110000600037341L", "91110000600037341N", "00000000000000000X", None])
    assert rules.code_validity(values, "uscc").tolist() == [True, False, False, True]
    assert rules.code_validity(values, "uscc", accept_placeholder=True).tolist() == [True, False, True, True]
    assert rules.code_validity(pa.array([], pa.string()), "regno").tolist() == []
    reasons, messages = rules.code_messages(values, "uscc")
    assert reasons[:3] == [None, "USCC_BAD_CHECK", "USCC_PLACEHOLDER_WITHOUT_REGNO"]
    assert messages[1].startswith("统一社会信用代码校验位错误，应为 L")


def test_not_in_future():
    dates = pa.array([dt.date(2026, 5, 1), dt.date(2026, 5, 2), None], pa.date32())
    assert rules.not_in_future(dates, dt.date(2026, 5, 1)).tolist() == [True, False, True]


def test_key_hashes_are_stable_order_sensitive_and_flag_missing_parts():
    a = pa.array(["x", "y", "x", None])
    b = pa.array(["y", "x", "y", "y"])
    hashes, complete = rules.key_hashes([a, b])
    assert hashes[0] == hashes[2] and hashes[0] != hashes[1]
    # An absent text part counts as '' (as the warehouse stores it): (None, "y") is a complete key.
    assert complete.tolist() == [True, True, True, True]
    assert hashes[3] != hashes[0]
    again, _ = rules.key_hashes([pa.chunked_array([a]), b])
    assert np.array_equal(hashes, again)
    dates, _ = rules.key_hashes([pa.array([dt.date(2026, 1, 1), dt.date(2026, 1, 2)])])
    assert dates[0] != dates[1]


def test_duplicate_finder_keeps_the_first_row_across_batches():
    finder = rules.DuplicateFinder()
    ones = np.ones(4, bool)
    first = finder.earlier_rows(np.array([5, 6, 5, 5], np.uint64), np.array([2, 3, 4, 5]), ones)
    assert first.tolist() == [-1, -1, 2, 2]
    second = finder.earlier_rows(
        np.array([6, 7, 7, 5], np.uint64), np.array([6, 7, 8, 9]), np.array([True, True, True, False])
    )
    assert second.tolist() == [3, -1, 7, -1]
    assert len(finder) == 3  # one entry per distinct key, whatever the number of rows


@pytest.mark.parametrize("separator", [";", ",", "|"])
def test_separators_have_their_full_width_twin(separator):
    twin = rules.separator_chars(separator)[1]
    assert ord(twin) == ord(separator) + 0xFEE0


def test_key_hashes_tell_apart_what_a_weaker_hash_confuses():
    # DuckDB's hash() gives each pair the same 64 bits: a finder built on it rejected real rows.
    codes = pa.array(["4502202500047695", "4502202200047692", "4502202500047665", "4502202200047662"])
    hashes, _ = rules.key_hashes([codes])
    assert len(set(hashes.tolist())) == 4
    split_a, _ = rules.key_hashes([pa.array(["ab"]), pa.array(["c"])])
    split_b, _ = rules.key_hashes([pa.array(["a"]), pa.array(["bc"])])
    assert split_a[0] != split_b[0]
