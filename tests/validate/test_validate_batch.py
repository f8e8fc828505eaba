"""validate_batch over hand-built 行政处罚 batches: each rule rejects exactly the rows it should,
with the message a clerk reads; identity numbers are masked; duplicates span batches."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from validate_batches import GOOD, make_batch

from etl.validate import DeliveryState, validate_batch

PERSON = {
    **{k: v for k, v in GOOD.items() if k != "decision_no"},
    "subject_name": "李四",
    "subject_category": "自然人",
    "uscc": None,
    "legal_rep": None,
    "id_type": "身份证",
    "id_no": "360426199101010071",
}
PLACEHOLDER = "00000000000000000X"
LONG_PASSPORT = "E" + "1" * 69

# label: (overrides of GOOD, expected reasons as (field, rule, message or message prefix + "…"))
CASES: dict[str, tuple[dict, list[tuple[str, str, str]]]] = {
    "clean": ({}, []),
    "required": ({"decision_date": None}, [("decision_date", "required", "处罚决定日期为必填项，请补充")]),
    "max_length": (
        {"decision_no": "文" * 129},
        [
            (
                "decision_no",
                "max_length",
                "行政处罚决定书文号长度为129个字，超过了128个字的上限，请精简后重新填写",
            )
        ],
    ),
    "allowed_set": (
        {"subject_category": "法人"},
        [
            (
                "subject_category",
                "allowed",
                "行政相对人类别「法人」不在允许值范围内（法人及非法人组织、自然人、个体工商户）",
            )
        ],
    ),
    "allowed_separator": (
        {"penalty_types": "警告;罚金"},
        [("penalty_types", "allowed", "处罚类别中的「罚金」不在允许值范围内（警告、通报批评、罚款、…")],
    ),
    "allowed_full_width_separator_and_prefix": ({"penalty_types": "罚款； 其他-责令改正"}, []),
    "prefix_without_text": (
        {"penalty_types": "其他-", "fine_amount": None},
        [("penalty_types", "allowed", "处罚类别中的「其他-」不在允许值范围内（…")],
    ),
    "allowed_prefix_single_value": ({**PERSON, "id_type": "其他-军官证", "id_no": "军字第12345号"}, []),
    "allowed_with_prefixes_rejects": (
        {**PERSON, "id_type": "驾驶证"},
        [
            (
                "id_type",
                "allowed",
                "证件类型「驾驶证」不在允许值范围内（身份证、护照号、港澳居民来往内地通行证、…",
            )
        ],
    ),
    "pattern": (
        {"tax_reg_no": "abc"},
        [
            (
                "tax_reg_no",
                "pattern",
                "税务登记号「abc」格式不符合要求（格式规则：^[0-9A-Z]{15,20}$），请核对后重新填写",
            )
        ],
    ),
    "uscc_check": (
        {"uscc": "91110000600037341N"},
        [("uscc", "USCC_BAD_CHECK", "统一社会信用代码校验位错误，应为 L（…")],
    ),
    "orgcode_check": (
        {"orgcode": "600037342"},
        [("orgcode", "ORGCODE_BAD_CHECK", "组织机构代码校验码错误，应为 1（…")],
    ),
    "regno_check": (
        {"regno": "450200000012341"},
        [("regno", "REGNO_BAD_CHECK", "工商注册号校验位错误，应为 0（…")],
    ),
    "placeholder_with_regno": ({"uscc": PLACEHOLDER, "regno": "450200000012340"}, []),
    "placeholder_without_regno": (
        {"uscc": PLACEHOLDER},
        [
            (
                "regno",
                "placeholder_needs_regno",
                "统一社会信用代码填写为 17 个 0 加 X 的占位码时，须填写 15 位工商注册号",
            )
        ],
    ),
    "placeholder_with_bad_regno": (
        {"uscc": PLACEHOLDER, "regno": "450200000012341"},
        [("regno", "REGNO_BAD_CHECK", "工商注册号校验位错误，应为 0（…")],
    ),
    "authority_placeholder": (
        {"authority_uscc": PLACEHOLDER},
        [
            (
                "authority_uscc",
                "USCC_PLACEHOLDER_WITHOUT_REGNO",
                "处罚机关统一社会信用代码：统一社会信用代码填的是占位码…",
            )
        ],
    ),
    "idcard_check": (
        {**PERSON, "id_no": "360426199101010072"},
        [("id_no", "IDCARD_BAD_CHECK", "证件号码：身份证号码校验位错误，应为 1（…")],
    ),
    "idcard_not_checked_for_passport": ({**PERSON, "id_type": "护照号", "id_no": "E12345678"}, []),
    "legal_rep_idcard": (
        {"legal_rep_id_type": "身份证", "legal_rep_id_no": "44011320141005001Y"},
        [("legal_rep_id_no", "IDCARD_BAD_CHAR", "法定代表人证件号码：身份证号码第18位“Y”不是合法字符…")],
    ),
    "personal_max_length": (
        {**PERSON, "id_type": "护照号", "id_no": LONG_PASSPORT},
        [("id_no", "max_length", "证件号码长度为70个字，超过了64个字的上限，请精简后重新填写")],
    ),
    "compare": (
        {"valid_until": dt.date(2025, 1, 1)},
        [
            (
                "valid_until",
                "valid_until_after_decision",
                "处罚有效期不得早于处罚决定日期（处罚有效期：2025-01-01，处罚决定日期：2026-01-05）",
            )
        ],
    ),
    "compare_equal_is_fine": ({"valid_until": dt.date(2026, 1, 5)}, []),
    "require_contains": (
        {"fine_amount": None},
        [("fine_amount", "fine_needs_amount", "处罚类别包含罚款时，须填写罚款金额（万元）")],
    ),
    "contains_is_per_item": ({"penalty_types": "警告;其他-罚款通知", "fine_amount": None}, []),
    "natural_person_needs_id": (
        {**PERSON, "id_type": None, "id_no": None},
        [("id_type", "natural_person_needs_id", "行政相对人类别为自然人时，须填写证件类型和证件号码")],
    ),
    "natural_person_needs_id_no": (
        {**PERSON, "id_no": None},
        [("id_no", "natural_person_needs_id", "行政相对人类别为自然人时，须填写证件类型和证件号码")],
    ),
    "organisation_needs_legal_rep": (
        {"legal_rep": None},
        [
            (
                "legal_rep",
                "organisation_needs_legal_rep",
                "行政相对人类别为法人及非法人组织时，须填写法定代表人",
            )
        ],
    ),
    "one_of_when": (
        {"subject_category": "个体工商户", "uscc": None},
        [
            (
                "uscc",
                "subject_identifier",
                "法人及非法人组织、个体工商户须至少填写统一社会信用代码、工商注册号、…",
            )
        ],
    ),
    "one_of_satisfied_by_another_column": ({"uscc": None, "tax_reg_no": "914502006189012345"}, []),
    "not_future": (
        {"decision_date": dt.date(2099, 1, 1), "valid_until": dt.date(2099, 6, 1)},
        [("decision_date", "not_future", "处罚决定日期「2099-01-01」晚于今天，请核对日期后重新填写")],
    ),
    "every_reason": (
        {"decision_date": None, "subject_category": "法人"},
        [
            ("subject_category", "allowed", "行政相对人类别「法人」…"),
            ("decision_date", "required", "处罚决定日期为必填项，请补充"),
        ],
    ),
    "duplicate_of_clean": (
        {},
        [
            (
                "decision_no",
                "duplicate",
                "与第 2 行的行政处罚决定书文号、行政相对人名称重复；同一条记录只需报送一次，请删除重复行",
            )
        ],
    ),
}
LABELS = list(CASES)


def _records() -> list[dict]:
    records = []
    for index, (label, (overrides, _)) in enumerate(CASES.items()):
        record = {**GOOD, **overrides}
        if label != "duplicate_of_clean" and "decision_no" not in overrides:
            record["decision_no"] = f"柳市监罚〔2026〕{index + 100}号"
        if label == "duplicate_of_clean":
            record["decision_no"] = f"柳市监罚〔2026〕{100}号"
        records.append(record)
    return records


@pytest.fixture(scope="module")
def verdicts(admin_penalty):
    return validate_batch(make_batch(admin_penalty, _records()), admin_penalty, DeliveryState())


def _reasons_of(verdicts, row: int) -> list[dict]:
    return [r for r in verdicts.reasons.to_pylist() if r["row"] == row]


def _matches(message: str, expected: str) -> bool:
    return message.startswith(expected[:-1]) if expected.endswith("…") else message == expected


@pytest.mark.parametrize("label", LABELS)
def test_each_rule_rejects_exactly_its_rows(verdicts, label):
    row = 2 + LABELS.index(label)
    expected = CASES[label][1]
    found = _reasons_of(verdicts, row)
    assert [(r["field"], r["rule"]) for r in found] == [(f, rule) for f, rule, _ in expected]
    for reason, (_, _, message) in zip(found, expected, strict=True):
        assert _matches(reason["message"], message), reason["message"]
    assert verdicts.rejected[LABELS.index(label)].as_py() == bool(expected)


def test_rejected_is_aligned_with_rows_and_reasons_are_ordered(verdicts):
    assert len(verdicts.rejected) == len(CASES)
    assert verdicts.rejected_count == sum(1 for _, reasons in CASES.values() if reasons)
    rows = verdicts.reasons["row"].to_pylist()
    assert rows == sorted(rows)
    assert verdicts.reasons.schema.names == ["row", "field", "rule", "value", "message"]


def test_values_are_as_delivered(verdicts):
    (reason,) = _reasons_of(verdicts, 2 + LABELS.index("allowed_set"))
    assert reason["value"] == "法人"
    (reason,) = _reasons_of(verdicts, 2 + LABELS.index("uscc_check"))
    assert reason["value"] == "91110000600037341N"


def test_identity_numbers_are_masked_everywhere(verdicts):
    (reason,) = _reasons_of(verdicts, 2 + LABELS.index("idcard_check"))
    assert reason["value"] == "3604**********0072"
    (reason,) = _reasons_of(verdicts, 2 + LABELS.index("personal_max_length"))
    assert reason["value"] == "E111" + "*" * 62 + "1111"
    text = str(verdicts.reasons.to_pylist())
    for number in ("360426199101010072", "44011320141005001Y", LONG_PASSPORT):
        assert number not in text


def test_raw_text_is_quoted_and_masked(admin_penalty):
    record = {**PERSON, "id_no": "360426199101010072", "decision_no": "raw-test"}
    batch = make_batch(admin_penalty, [record], raw={0: {"id_no": " 360426-199101010072 "}})
    verdicts = validate_batch(batch, admin_penalty, DeliveryState())
    (reason,) = verdicts.reasons.to_pylist()
    assert reason["value"] == "3604**********0072"


def test_conform_errors_reject_and_replace_what_they_explain(admin_penalty):
    records = [
        {**GOOD, "decision_no": "c1", "fine_amount": None},  # untypeable amount: conform's error only
        {**GOOD, "decision_no": "c2"},  # a normalised code: not a rejection
        {**GOOD, "decision_no": "c3", "id_no": None},
    ]
    issues = [
        {
            "row": 2,
            "field": "fine_amount",
            "value": "一万",
            "rule": "NOT_A_NUMBER",
            "message": "罚款金额（万元）「一万」不是有效数字，请只填写阿拉伯数字",
            "severity": "error",
        },
        {
            "row": 3,
            "field": "uscc",
            "value": "９１１１０００００６０００３７３４１Ｌ",
            "rule": "CODE_NORMALISED",
            "message": "统一社会信用代码含全角字符……已自动规范",
            "severity": "normalised",
        },
        {
            "row": 4,
            "field": "id_no",
            "value": "360426199101010071",
            "rule": "NOT_AN_IDCARD",
            "message": "证件号码无法识别",
            "severity": "error",
        },
    ]
    verdicts = validate_batch(
        make_batch(admin_penalty, records, issues=issues), admin_penalty, DeliveryState()
    )
    assert verdicts.rejected.to_pylist() == [True, False, True]
    reasons = verdicts.reasons.to_pylist()
    assert [(r["row"], r["field"], r["rule"]) for r in reasons] == [
        (2, "fine_amount", "NOT_A_NUMBER"),
        (4, "id_no", "NOT_AN_IDCARD"),
    ]
    assert reasons[1]["value"] == "3604**********0071"


def test_duplicates_across_batches_name_the_first_row(admin_penalty):
    state = DeliveryState()
    first = [{**GOOD, "decision_no": f"d{i}"} for i in range(3)]
    one = validate_batch(make_batch(admin_penalty, first, start_row=2), admin_penalty, state)
    assert one.rejected.to_pylist() == [False, False, False]
    second = [
        {**GOOD, "decision_no": "d1"},  # seen in batch 1, row 3
        {**GOOD, "decision_no": "d9"},  # new
        {**GOOD, "decision_no": "d9"},  # repeats the row before
        {**GOOD, "decision_no": "d1", "subject_name": "另一家公司"},  # another subject: a new key
        {**GOOD, "decision_no": None},  # no key: reported as required, not as a duplicate
    ]
    two = validate_batch(make_batch(admin_penalty, second, start_row=5), admin_penalty, state)
    assert two.rejected.to_pylist() == [True, False, True, False, True]
    reasons = [(r["row"], r["rule"], r["message"]) for r in two.reasons.to_pylist()]
    assert reasons[0][:2] == (5, "duplicate") and reasons[0][2].startswith("与第 3 行的")
    assert reasons[1][:2] == (7, "duplicate") and reasons[1][2].startswith("与第 6 行的")
    assert reasons[2][:2] == (9, "required")
    assert state.rows_seen == 8


def test_a_batch_without_rows(admin_penalty):
    verdicts = validate_batch(make_batch(admin_penalty, []), admin_penalty, DeliveryState())
    assert len(verdicts.rejected) == 0 and len(verdicts.reasons) == 0


def test_custom_expectations_run_inside_gx(admin_penalty):
    from etl.validate import current_suite, gx_frame, gx_runner

    records = [{**GOOD, "decision_no": "g0"}, {**GOOD, "decision_no": "g1", "uscc": "91110000600037341N"}]
    batch = make_batch(admin_penalty, records)
    result = gx_runner.run_suite(gx_frame(batch.typed, admin_penalty), current_suite(admin_penalty))
    by_type: dict[str, list] = {}
    for item in result.results:
        by_type.setdefault(item.expectation_config.type, []).append(item)
    for kind in ("uscc", "orgcode", "regno", "idcard"):
        assert f"expect_column_values_to_be_valid_{kind}" in by_type
    for custom in (
        "expect_column_values_to_not_be_in_the_future",
        "expect_any_of_columns_to_be_filled",
        "expect_columns_to_be_filled_when",
        "expect_column_pair_values_a_to_be_greater_than_b",
    ):
        assert custom in by_type
    uscc_results = {
        r.expectation_config.kwargs["column"]: r for r in by_type["expect_column_values_to_be_valid_uscc"]
    }
    assert uscc_results["uscc"].success is False
    assert uscc_results["uscc"].result["unexpected_index_list"] == [1]
    assert uscc_results["authority_uscc"].success is True
    assert not result.success


def test_a_stale_suite_is_refused(admin_penalty, tmp_path):
    import json

    from etl.errors import CatalogError
    from etl.validate import suites

    stale = suites.build_suite(admin_penalty)
    stale["expectations"].pop()
    (tmp_path / "admin_penalty.json").write_text(json.dumps(stale), encoding="utf-8")
    with pytest.raises(CatalogError, match="out of date"):
        validate_batch(make_batch(admin_penalty, [GOOD]), admin_penalty, DeliveryState(), suites_dir=tmp_path)


def test_rows_are_the_source_rows(admin_penalty):
    batch = make_batch(admin_penalty, [{**GOOD, "decision_date": None}], start_row=41)
    verdicts = validate_batch(batch, admin_penalty, DeliveryState())
    assert verdicts.reasons["row"].to_pylist() == [41]
    assert verdicts.rejected.type == pa.bool_()


def test_an_expectation_that_cannot_run_is_an_error_not_a_pass(admin_penalty):
    import copy

    from etl.validate import current_suite, gx_frame, gx_runner

    suite = copy.deepcopy(current_suite(admin_penalty))
    suite["name"] = "broken_suite"
    suite["expectations"][0]["kwargs"]["column"] = "no_such_column"
    batch = make_batch(admin_penalty, [GOOD])
    result = gx_runner.run_suite(gx_frame(batch.typed, admin_penalty), suite)
    with pytest.raises(gx_runner.SuiteExecutionError, match="no_such_column"):
        gx_runner.outcomes(result)
