"""Mapping department headers to catalog fields."""

from __future__ import annotations

import pytest

from etl.catalog import Catalog, Dataset
from etl.conform import HeaderMatcher, map_headers
from etl.errors import DeliveryRejected


@pytest.fixture(scope="module")
def penalty(catalog: Catalog) -> Dataset:
    return catalog.datasets["admin_penalty"]


REQUIRED_TITLES = [
    "行政相对人名称",
    "行政相对人类别",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "处罚决定日期",
    "处罚有效期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        (" 行政相对人名称 ", "subject_name"),
        ("行政相对人\n名称", "subject_name"),
        ("行政相对人\u3000名称", "subject_name"),
        ("*行政相对人名称", "subject_name"),
        ("＊行政相对人名称＊", "subject_name"),
        ("行政相对人名称（必填）", "subject_name"),
        ("行政相对人名称(必填)", "subject_name"),
        ("【必填】行政相对人名称", "subject_name"),
        ("★行政相对人名称：", "subject_name"),
        ("*统一社会信用代码（法人必填）", "uscc"),
        ("CF_XDR_MC", "subject_name"),
        ("cf_xdr_mc", "subject_name"),
        ("ＣＦ＿ＸＤＲ＿ＭＣ", "subject_name"),
        ("行政相对人名称(CF_XDR_MC)", "subject_name"),
        ("相对人名称", "subject_name"),
        ("subject_name", "subject_name"),
        ("罚款金额（万元）", "fine_amount"),
        ("罚款金额(万元)", "fine_amount"),
        ("罚款金额", "fine_amount"),
        ("决定日期", "decision_date"),
        ("CF_JDRQ", "decision_date"),
    ],
)
def test_header_variants_find_their_field(penalty: Dataset, header: str, field: str):
    assert HeaderMatcher(penalty).field_for(header) == field


@pytest.mark.parametrize("header", ["罚款金额（元）", "罚款金额(单位:元)", "名称", "", "XDR_MC"])
def test_headers_that_name_no_field(penalty: Dataset, header: str):
    # A fine in yuan is not a fine in 万元: matching it would load amounts 10,000 times too large.
    assert HeaderMatcher(penalty).field_for(header) is None


def test_every_dataset_maps_its_own_titles_and_codes(catalog: Catalog):
    for dataset in catalog.datasets.values():
        by_title = map_headers([f.title for f in dataset.fields], dataset)
        assert list(by_title.columns.values()) == list(dataset.field_names), dataset.id
        coded = [f.code or f.title for f in dataset.fields]
        assert list(map_headers(coded, dataset).columns.values()) == list(dataset.field_names), dataset.id


def test_mapping_reports_unknown_unnamed_and_absent_columns(penalty: Dataset):
    headers = [*REQUIRED_TITLES[:8], "", "录入人", *REQUIRED_TITLES[8:], "罚款金额（万元）", "  "]
    mapping = map_headers(headers, penalty)
    assert mapping.columns[0] == "subject_name"
    assert mapping.positions["decision_date"] == 10
    assert mapping.unknown == ("录入人",)
    assert mapping.unnamed == (8, len(headers) - 1)
    assert "uscc" in mapping.absent and "fine_amount" not in mapping.absent
    assert set(mapping.columns.values()) | set(mapping.absent) == set(penalty.field_names)


def test_a_missing_required_column_is_named_in_chinese(penalty: Dataset):
    headers = [h for h in REQUIRED_TITLES if h != "处罚决定日期"]
    with pytest.raises(DeliveryRejected) as caught:
        map_headers(headers, penalty)
    assert caught.value.reason == "MISSING_COLUMNS"
    assert caught.value.message.startswith("缺少必填列：处罚决定日期（CF_JDRQ）。")


def test_a_file_of_another_dataset_says_so(catalog: Catalog, penalty: Dataset):
    licensing = [f.title for f in catalog.datasets["admin_licensing"].fields]
    with pytest.raises(DeliveryRejected) as caught:
        map_headers(licensing, penalty)
    assert caught.value.reason == "MISSING_COLUMNS"
    assert caught.value.message.startswith("文件的表头与《行政处罚信息》的目录不符")
    assert "行政处罚决定书文号（CF_WSH）" in caught.value.message


def test_two_columns_for_one_field_are_rejected(penalty: Dataset):
    headers = [*REQUIRED_TITLES, "CF_JDRQ", "决定日期"]
    with pytest.raises(DeliveryRejected) as caught:
        map_headers(headers, penalty)
    assert caught.value.reason == "DUPLICATE_COLUMNS"
    assert (
        "处罚决定日期（第9列「处罚决定日期」、第15列「CF_JDRQ」、第16列「决定日期」）" in caught.value.message
    )


def test_the_header_score_counts_distinct_fields(penalty: Dataset):
    matcher = HeaderMatcher(penalty)
    assert matcher.score(["行政相对人名称", "CF_XDR_MC", "相对人名称"]) == 1
    assert matcher.score(["行政相对人名称", "处罚决定日期", 2026, None]) == 2
    assert not matcher.is_header(["柳州市行政处罚信息", None, None])
    assert matcher.is_header(REQUIRED_TITLES[:3])
