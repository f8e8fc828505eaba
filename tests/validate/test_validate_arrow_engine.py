"""The Arrow engine's own contract: it refuses what it cannot evaluate exactly, matches Python's
regular expressions, and GX's run on the sample of a delivery both reports and guards it."""

from __future__ import annotations

import copy
import json
import logging
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validate_batches import GOOD, make_batch

from etl.validate import DeliveryState, arrow_engine, current_suite, pyregex, suites, validate_batch
from etl.validate.arrow_engine import UnsupportedExpectation, compile_suite


def _suite_with(admin_penalty, **changes):
    suite = copy.deepcopy(current_suite(admin_penalty))
    expectation = suite["expectations"][changes.pop("index", 0)]
    expectation.update(changes)
    return suite


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "expect_column_values_to_be_unique"}, "does not know this expectation type"),
        ({"kwargs": {"column": "subject_name", "strict": True}}, "arguments it does not know"),
        ({"kwargs": {}}, "lacks"),
        ({"kwargs": {"column": "no_such_field"}}, "no field 'no_such_field'"),
        (
            {"kwargs": {"column": "subject_name", "row_condition": 'subject_category=="自然人"'}},
            "row_condition",
        ),
        (
            {
                "type": "expect_column_value_lengths_to_be_between",
                "kwargs": {"column": "decision_date", "max_value": 10},
            },
            "checks text",
        ),
        (
            {"type": "expect_column_value_lengths_to_be_between", "kwargs": {"column": "subject_name"}},
            "min_value or max_value",
        ),
    ],
)
def test_what_it_cannot_evaluate_exactly_is_refused(admin_penalty, change, message):
    with pytest.raises(UnsupportedExpectation, match=message):
        compile_suite(_suite_with(admin_penalty, **change), admin_penalty)


def test_pair_expectation_only_with_either_value_missing(admin_penalty):
    suite = copy.deepcopy(current_suite(admin_penalty))
    pair = next(e for e in suite["expectations"] if e["type"].endswith("greater_than_b"))
    pair["kwargs"]["ignore_row_if"] = "neither"
    with pytest.raises(UnsupportedExpectation, match="either_value_is_missing"):
        compile_suite(suite, admin_penalty)


def test_every_committed_suite_compiles(catalog):
    for dataset in catalog.datasets.values():
        checks = compile_suite(current_suite(dataset), dataset)
        assert len(checks) == len(current_suite(dataset)["expectations"])


def test_an_unknown_engine_is_refused(admin_penalty):
    with pytest.raises(ValueError, match="engine must be one of arrow, gx"):
        validate_batch(make_batch(admin_penalty, [GOOD]), admin_penalty, DeliveryState(), engine="spark")


# --------------------------------------------------------------------------------------------------
# Regular expressions: Python's re.search, at RE2 speed where that is exact

SUITE_PATTERNS = sorted(
    {
        e["kwargs"]["regex"]
        for path in suites.DEFAULT_SUITES_DIR.glob("*.json")
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]
        if e["type"] == "expect_column_values_to_match_regex"
    }
)
OTHER_PATTERNS = [
    r"^\d{6}$",  # Unicode digits in Python: no translation
    r"^\w+$",
    r"\bA",
    r"^a{,3}$",  # Python reads {,3} as {0,3}; RE2 would read it literally
    r"(?i)^abc$",
    r"^(a)\1$",
    r"^(?=a).$",
    r"^[\s;]+$",
    r"^[^\S]$",
    r"^\S+$",
    r"a$\n",
    r"^a\Z",
    r"\Aa",
    r"^x{1001}$",
    r"^(?:a|)$",
    r"[[:alpha:]]",  # a set of "[:alph" and a "]" in Python, a class in RE2: translated as Python reads it
    r"^a.c$",
    r"^[^;]*$",
]
ALPHABET = "aAbcx;；-1０1２ \t\n\r\x0b\x1c\u00a0\u3000\u2028警告罚款其他身份证2026年（）()号Z:T+._Dj"


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.sampled_from(ALPHABET), max_size=12) | st.none(), max_size=30))
def test_contains_is_python_re_search(values):
    array = pa.array(values, pa.string())
    for pattern in [*SUITE_PATTERNS, *OTHER_PATTERNS]:
        expected = [v is not None and re.search(pattern, v) is not None for v in values]
        assert pyregex.contains(array, pattern).tolist() == expected, pattern


@pytest.mark.filterwarnings("ignore:This pattern is interpreted as a regular expression")
def test_suite_patterns_are_translated_and_agree_with_pandas_which_gx_calls():
    values = [
        "警告",
        "警告\n",
        "罚款；\u3000警告",
        "450202",
        "４５０２０２",
        "(2025)柳01号\n",
        "其他-x;警告",
        "x",
    ]
    series = pd.Series(values, dtype="str")
    assert SUITE_PATTERNS, "no pattern found in the committed suites"
    for pattern in SUITE_PATTERNS:
        assert pyregex.re2_translation(pattern) is not None, pattern
        expected = series.str.contains(pattern).tolist()
        assert pyregex.contains(pa.array(values), pattern).tolist() == expected, pattern


def test_untranslatable_patterns_fall_back_to_python():
    for pattern in [r"^\d+$", r"^\w", r"(?i)a", r"^(a)\1$", r"^(?=a)", r"^x{1001}$"]:
        assert pyregex.re2_translation(pattern) is None, pattern
    assert pyregex.contains(pa.array(["１２", "12", "a"]), r"^\d+$").tolist() == [True, True, False]


# --------------------------------------------------------------------------------------------------
# GX on the sample of each delivery


def test_gx_sample_reports_what_gx_found_without_cell_values(admin_penalty):
    bad_id = "360426199101010072"
    records = [
        {**GOOD, "decision_no": "s1"},
        {**GOOD, "decision_no": "s2", "subject_category": "法人"},
        {**GOOD, "decision_no": "s3", "subject_name": "李四", "subject_category": "自然人", "uscc": None,
         "legal_rep": None, "id_type": "身份证", "id_no": bad_id},
        {**GOOD, "decision_no": "s4"},
    ]  # fmt: skip
    state = DeliveryState()
    first = validate_batch(make_batch(admin_penalty, records[:3]), admin_penalty, state, gx_sample_rows=2)
    sample = state.gx_sample
    assert first.gx_sample is sample and sample.agrees and sample.rows == 2
    assert not sample.success and sample.evaluated_expectations == len(
        current_suite(admin_penalty)["expectations"]
    )
    assert [(f.field, f.rule, f.unexpected_count) for f in sample.failed] == [
        ("subject_category", "allowed", 1)
    ]
    text = json.dumps(sample.as_dict(), ensure_ascii=False)
    assert '"agrees": true' in text and "法人" not in text and bad_id not in text
    # The row past the sample is judged by the Arrow engine alone; later batches take no sample.
    assert first.rejected.to_pylist() == [False, True, True]
    second = validate_batch(make_batch(admin_penalty, records[3:], start_row=5), admin_penalty, state)
    assert second.gx_sample is None and state.gx_sample is sample


def test_no_sample_when_asked_for_none(admin_penalty):
    state = DeliveryState()
    validate_batch(make_batch(admin_penalty, [GOOD]), admin_penalty, state, gx_sample_rows=0)
    assert state.gx_sample is None


def test_a_disagreement_on_the_sample_hands_the_delivery_to_gx(admin_penalty, monkeypatch, caplog):
    in_set = arrow_engine.TYPES["expect_column_values_to_be_in_set"]
    broken = arrow_engine.ExpectationType(
        in_set.required, in_set.optional, in_set.columns, lambda c, k: np.ones(len(c), dtype=bool)
    )
    monkeypatch.setitem(arrow_engine.TYPES, "expect_column_values_to_be_in_set", broken)
    from etl.validate import _current_checks

    _current_checks.cache_clear()  # compile the suite again, with the broken rule
    try:
        state = DeliveryState()
        bad = [{**GOOD, "decision_no": f"d{i}", "subject_category": "法人"} for i in range(2)]
        with caplog.at_level(logging.ERROR, logger="etl.validate"):
            first = validate_batch(make_batch(admin_penalty, bad[:1]), admin_penalty, state)
        assert not state.gx_sample.agrees
        assert "expect_column_values_to_be_in_set" in state.gx_sample.differences[0]
        assert "[2]" in state.gx_sample.differences[0]  # the source row
        assert "disagrees with GX" in caplog.text
        second = validate_batch(make_batch(admin_penalty, bad[1:], start_row=3), admin_penalty, state)
        # GX judged both batches: the broken Arrow rule would have let these rows through.
        assert first.rejected.to_pylist() == [True] and second.rejected.to_pylist() == [True]
        assert second.reasons["rule"].to_pylist() == ["allowed"]
    finally:
        _current_checks.cache_clear()


def test_audit_runs_both_engines_on_a_sample_outside_validation(admin_penalty):
    from etl.validate import gx_sample

    categories = ["法人及非法人组织", "法人"] * 3
    records = [{**GOOD, "decision_no": f"a{i}", "subject_category": c} for i, c in enumerate(categories)]
    report = gx_sample.audit(make_batch(admin_penalty, records, start_row=10), admin_penalty, rows=4)
    assert report.agrees and report.rows == 4
    assert [(f.rule, f.unexpected_count) for f in report.failed] == [("allowed", 2)]
