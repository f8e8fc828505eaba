"""Cross-record checks: 一码多名, 一名多码, organisation code vs USCC."""

from __future__ import annotations

import pyarrow as pa
import pytest

from etl.codes import consistency, uscc

A = "91110000600037341L"
B = "9144030071526726XG"


def test_one_code_many_names() -> None:
    codes = pa.array([A, A.lower(), A, B, B, None, uscc.PLACEHOLDER, uscc.PLACEHOLDER])
    names = pa.array(["甲公司", "甲 公司", "乙公司", "丙公司", "丙公司", "丁公司", "个体户一", "个体户二"])
    found = consistency.one_code_many_names(codes, names).to_pylist()
    assert found == [
        {
            "code": A,
            "names": ["乙公司", "甲公司"],
            "count": 2,
            "rows": [0, 1, 2],
            "reason": "ONE_CODE_MANY_NAMES",
            "message": (
                "同一代码对应2个不同名称：乙公司、甲公司；同一主体应使用登记证照上的全称，请核实名称或代码"
            ),
        }
    ]


def test_names_differing_only_in_bracket_width_or_blanks_are_one_name() -> None:
    codes = pa.array([A, A, A])
    names = pa.array(
        ["柳州市某某有限公司（柳北分店）", "柳州市某某有限公司(柳北分店)", " 柳州市某某有限公司 (柳北分店)"]
    )
    assert consistency.one_code_many_names(codes, names).num_rows == 0


def test_one_name_many_codes() -> None:
    names = pa.array(["甲公司", "甲公司", "甲公司", "乙公司", "", None])
    codes = pa.array([A, "9111-0000-6000-3734-1L", B, B, A, B])
    found = consistency.one_name_many_codes(names, codes).to_pylist()
    assert [(f["name"], f["codes"], f["count"], f["rows"]) for f in found] == [
        ("甲公司", sorted([A, B]), 2, [0, 1, 2])
    ]
    assert found[0]["message"] == "名称“甲公司”对应2个不同代码；同一主体只能有一个代码，请核实代码"


def test_one_name_many_codes_messages_do_not_show_the_codes() -> None:
    ids = pa.array(["360426199101010071", "44011320141005001X"])
    found = consistency.one_name_many_codes(pa.array(["张三", "张三"]), ids)
    assert found.num_rows == 1
    assert not any(code[:6] in found["message"][0].as_py() for code in ids.to_pylist())


def test_identity_numbers_typed_into_name_columns_are_masked_in_messages() -> None:
    """A clerk typed a person's identity number (18 or old 15 digits) where the name goes: the
    findings' messages show it masked, as alerts and reports do."""
    names = pa.array(["360426199101010071", "张三 110101850101001", "甲公司"])
    found = consistency.one_code_many_names(pa.array([A, A, A]), names)
    (message,) = found["message"].to_pylist()
    assert "3604**********0071" in message and "张三1101*******1001" in message and "甲公司" in message
    assert "199101" not in message and "850101" not in message
    found = consistency.one_name_many_codes(pa.array(["360426199101010071"] * 2), pa.array([A, B]))
    assert found["message"][0].as_py().startswith("名称“3604**********0071”对应2个不同代码")


def test_codes_are_shown_masked_only_where_they_may_be_identity_numbers() -> None:
    codes = pa.array([A, "121200004013590816", "360426199101010071", "36042619910101007X", None])
    assert consistency.shown_codes(codes).to_pylist() == [
        A, "121200004013590816", "3604**********0071", "3604**********007X", None,
    ]  # fmt: skip
    assert consistency.shown_orgcodes(pa.array(["60003734-1", "360426199101010071"])).to_pylist() == [
        "60003734-1", "3604**********0071",
    ]  # fmt: skip


def test_orgcode_mismatch_per_row() -> None:
    usccs = pa.array([A, A, A, None, uscc.PLACEHOLDER, "9111", A])
    orgcodes = pa.array(["600037341", "60003734-1", "600037342", "600037341", "600037341", "600037341", None])
    assert consistency.orgcode_mismatch(usccs, orgcodes).to_pylist() == [
        False,
        False,
        True,
        None,
        None,
        None,
        None,
    ]
    table = consistency.orgcode_mismatch_table(usccs, orgcodes).to_pylist()
    assert [(r["row"], r["orgcode"], r["expected"], r["reason"]) for r in table] == [
        (2, "600037342", "600037341", "ORGCODE_MISMATCH")
    ]


def test_orgcode_mismatch_messages_do_not_show_identity_numbers() -> None:
    # Identity numbers typed into either column (people do, for self-employed businesses).
    ids = ["360426199101010071", "44011320141005001X", "110105194912310021"]
    usccs = pa.array([A] * len(ids) + ids)
    orgcodes = pa.array(ids + ["600037342"] * len(ids))
    found = consistency.orgcode_mismatch_table(usccs, orgcodes)
    messages = found["message"].to_pylist()
    assert found["row"].to_pylist() == list(range(2 * len(ids)))
    for number in ids:
        for part in (number, number[6:14], number[8:17], number[4:10]):
            assert not any(part in message for message in messages), part
    assert "3604**********0071" in messages[0]
    # A real organisation code and positions 9-17 of a real USCC are still shown.
    assert "600037341" in messages[0]
    assert "600037342" in messages[len(ids)]


def test_empty_batches() -> None:
    empty = pa.array([], pa.string())
    assert consistency.one_code_many_names(empty, empty).num_rows == 0
    assert consistency.one_name_many_codes(empty, empty).num_rows == 0
    assert consistency.orgcode_mismatch_table(empty, empty).num_rows == 0


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        consistency.one_code_many_names(pa.array([A]), pa.array(["甲", "乙"]))
    with pytest.raises(ValueError):
        consistency.orgcode_mismatch(pa.array([A]), pa.array(["1", "2"]))


def test_accepts_chunked_arrays_from_queries() -> None:
    codes = pa.chunked_array([[A], [A]])
    names = pa.chunked_array([["甲"], ["乙"]])
    assert consistency.one_code_many_names(codes, names).num_rows == 1
