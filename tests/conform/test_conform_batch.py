"""A delivery read and conformed: raw and typed columns, cell issues with Chinese messages."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from etl.catalog import Dataset, load_catalog
from etl.conform import ISSUE_SCHEMA, ConformedBatch, conform_batch, map_headers, raw_schema, typed_schema
from etl.read import open_delivery

USCC = "91110000600037341L"
AUTHORITY_USCC = "91310115MA1K3BTP2B"
ID_NO = "44011320141005001X"

GOOD = {
    "行政相对人名称": "柳州螺蛳粉有限公司",
    "行政相对人类别": "法人及非法人组织",
    "统一社会信用代码": USCC,
    "法定代表人": "李四",
    "行政处罚决定书文号": "柳市监罚〔2026〕1号",
    "违法行为类型": "销售不合格产品",
    "违法事实": "经查，当事人销售不合格产品。",
    "处罚依据": "《中华人民共和国产品质量法》第四十九条",
    "处罚类别": "警告;罚款",
    "处罚内容": "罚款人民币五千元",
    "罚款金额（万元）": "0.5",
    "处罚决定日期": "2026-10-08",
    "处罚有效期": "2027-10-08",
    "处罚机关": "柳州市市场监督管理局",
    "处罚机关统一社会信用代码": AUTHORITY_USCC,
    "数据来源单位": "柳州市市场监督管理局",
    "数据来源单位统一社会信用代码": AUTHORITY_USCC,
}


@pytest.fixture(scope="module")
def penalty() -> Dataset:
    return load_catalog().datasets["admin_penalty"]


def deliver(
    tmp_path: Path, dataset: Dataset, changes: list[dict[str, str]], extra: str = ""
) -> ConformedBatch:
    """Write one CSV row per change (applied to a good row), read it and conform it in one batch."""
    headers = [f.title for f in dataset.fields] + ([extra] if extra else [])
    path = tmp_path / "delivery.csv"
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for change in changes:
            row = {**GOOD, **change}
            writer.writerow([row.get(h, "") for h in headers])
    delivery = open_delivery(path, dataset)
    mapping = map_headers(delivery.headers, dataset)
    (batch,) = delivery.batches()
    return conform_batch(batch, mapping, dataset)


def issues_of(result: ConformedBatch) -> list[dict[str, object]]:
    return result.issues.to_pylist()


def test_a_good_row_is_typed_without_issues(tmp_path: Path, penalty: Dataset):
    result = deliver(tmp_path, penalty, [{}])
    assert result.typed.schema == typed_schema(penalty)
    assert result.raw.schema == raw_schema(penalty)
    assert result.issues.schema == ISSUE_SCHEMA and result.issues.num_rows == 0
    assert result.rows.to_pylist() == [2]
    typed = result.typed.to_pylist()[0]
    assert typed["decision_date"] == dt.date(2026, 10, 8)
    assert typed["fine_amount"] == Decimal("0.5")
    assert typed["uscc"] == USCC
    assert typed["regno"] is None and typed["publicity_until"] is None


def test_untypeable_cells_become_null_with_a_chinese_issue(tmp_path: Path, penalty: Dataset):
    result = deliver(
        tmp_path,
        penalty,
        [{}, {"处罚决定日期": "2026年13月1日", "罚款金额（万元）": "伍仟元整"}, {"公示截止期": "长期"}],
    )
    assert result.typed.column("decision_date").to_pylist() == [
        dt.date(2026, 10, 8),
        None,
        dt.date(2026, 10, 8),
    ]
    assert result.typed.column("fine_amount").to_pylist() == [Decimal("0.5"), None, Decimal("0.5")]
    assert result.raw.column("decision_date").to_pylist() == ["2026-10-08", "2026年13月1日", "2026-10-08"]
    assert sorted(issues_of(result), key=lambda issue: (issue["row"], issue["field"])) == [
        {
            "row": 3,
            "field": "decision_date",
            "value": "2026年13月1日",
            "rule": "NOT_A_DATE",
            "message": "处罚决定日期「2026年13月1日」不是有效日期，请按 2026-10-08 格式填写",
            "severity": "error",
        },
        {
            "row": 3,
            "field": "fine_amount",
            "value": "伍仟元整",
            "rule": "NOT_A_NUMBER",
            "message": "罚款金额（万元）「伍仟元整」不是有效数字，请只填写阿拉伯数字"
            "（单位为万元，如 5000 元填 0.5）；如无此项请留空",
            "severity": "error",
        },
        {
            "row": 4,
            "field": "publicity_until",
            "value": "长期",
            "rule": "NOT_A_DATE",
            "message": "公示截止期「长期」不是有效日期，请按 2026-10-08 格式填写；如无此项请留空",
            "severity": "error",
        },
    ]


def test_amounts_and_dates_as_departments_write_them(tmp_path: Path, penalty: Dataset):
    result = deliver(
        tmp_path,
        penalty,
        [
            {"罚款金额（万元）": "1,234.5", "处罚决定日期": "2026/10/8"},
            {"罚款金额（万元）": "１２．５", "处罚决定日期": "2026年10月8日"},
            {"罚款金额（万元）": "0.2万元", "处罚决定日期": "20261008"},
            {"罚款金额（万元）": " 3 ", "处罚决定日期": "46303"},
        ],
    )
    assert result.typed.column("fine_amount").to_pylist() == [
        Decimal(v) for v in ("1234.5", "12.5", "0.2", "3")
    ]
    assert result.typed.column("decision_date").to_pylist() == [dt.date(2026, 10, 8)] * 4
    assert result.issues.num_rows == 0


def test_codes_are_normalised_and_reported_but_not_judged(tmp_path: Path, penalty: Dataset):
    full_width_lower = "９１１１００００６０００３７３４１ｌ"
    result = deliver(
        tmp_path,
        penalty,
        [
            {"统一社会信用代码": full_width_lower},
            {"统一社会信用代码": "91110000600037341N"},  # wrong check character: validate rejects it
            {"统一社会信用代码": "9.14502E+17"},  # Excel's damage: validate says so
            {"统一社会信用代码": f" {USCC} "},  # blanks around are plain trimming
        ],
    )
    assert result.typed.column("uscc").to_pylist() == [USCC, "91110000600037341N", "9.14502E+17", USCC]
    assert issues_of(result) == [
        {
            "row": 2,
            "field": "uscc",
            "value": full_width_lower,
            "rule": "CODE_NORMALISED",
            "message": f"统一社会信用代码「{full_width_lower}」含全角字符、小写字母、空格或连字符，"
            f"已自动规范为「{USCC}」；请在源系统中一并更正",
            "severity": "normalised",
        }
    ]


def test_type_when_normalises_identity_numbers_only_for_identity_cards(tmp_path: Path, penalty: Dataset):
    person = {"行政相对人类别": "自然人", "统一社会信用代码": "", "法定代表人": ""}
    result = deliver(
        tmp_path,
        penalty,
        [
            {**person, "证件类型": "身份证", "证件号码": ID_NO.lower()},
            {**person, "证件类型": "护照号", "证件号码": " e12345678 "},
            {**person, "证件类型": "", "证件号码": "4401-1320"},
        ],
    )
    assert result.typed.column("id_no").to_pylist() == [ID_NO, "e12345678", "4401-1320"]
    (issue,) = issues_of(result)
    assert (issue["row"], issue["field"], issue["rule"], issue["severity"]) == (
        2,
        "id_no",
        "CODE_NORMALISED",
        "normalised",
    )
    # Identity numbers are personal: masked in the value, absent from the message.
    assert issue["value"] == "4401**********001X"
    assert ID_NO not in issue["message"] and ID_NO.lower() not in issue["message"]
    assert issue["message"].startswith("证件号码含全角字符")


def test_strings_are_trimmed_and_unknown_columns_left_out(tmp_path: Path, penalty: Dataset):
    result = deliver(
        tmp_path,
        penalty,
        [{"行政相对人名称": "  甲公司\u3000", "备注": "   ", "录入人": "王五"}],
        extra="录入人",
    )
    assert result.typed.column("subject_name").to_pylist() == ["甲公司"]
    assert result.raw.column("subject_name").to_pylist() == ["  甲公司\u3000"]
    assert result.typed.column("remarks").to_pylist() == [None]
    assert "录入人" not in result.raw.column_names and "录入人" not in result.typed.column_names


def test_a_workbook_delivery_conforms_like_csv(tmp_path: Path, penalty: Dataset):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["柳州市行政处罚信息"])
    titles = [f"*{f.title}（必填）" if f.required else f.title for f in penalty.fields]
    sheet.append(titles)
    row = {
        **GOOD,
        "处罚决定日期": dt.datetime(2026, 10, 8),
        "罚款金额（万元）": 0.5,
        "统一社会信用代码": 9.14502e17,
    }
    sheet.append([row.get(f.title) for f in penalty.fields])
    path = tmp_path / "d.xlsx"
    book.save(path)
    delivery = open_delivery(path, penalty)
    (batch,) = delivery.batches()
    result = conform_batch(batch, map_headers(delivery.headers, penalty), penalty)
    typed = result.typed.to_pylist()[0]
    assert (typed["decision_date"], typed["fine_amount"], typed["uscc"]) == (
        dt.date(2026, 10, 8),
        Decimal("0.5"),
        "9.14502E+17",
    )
    assert result.rows.to_pylist() == [3]


def test_a_column_of_repeated_codes_is_checked_per_distinct_value(penalty: Dataset):
    from etl.conform.batch import normalise_codes

    codes = pa.array([AUTHORITY_USCC.lower(), AUTHORITY_USCC, None] * 5000)
    normalised, changed = normalise_codes(codes, "uscc")
    assert normalised.to_pylist()[:3] == [AUTHORITY_USCC, AUTHORITY_USCC, None]
    assert changed.to_pylist()[:3] == [True, False, None]
    assert pc.sum(pc.cast(pc.fill_null(changed, False), pa.int64())).as_py() == 5000
