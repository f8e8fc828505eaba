"""Reading XLSX deliveries: title rows, sheets, merged cells, cell text, streaming."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from etl.catalog import Dataset, load_catalog
from etl.errors import DeliveryRejected
from etl.read import open_delivery

HEADER = ["*行政相对人名称（必填）", "行政相对人类别", "统一社会信用代码", "处罚决定日期", "处罚机关"]


@pytest.fixture(scope="module")
def penalty() -> Dataset:
    return load_catalog().datasets["admin_penalty"]


def save(book: openpyxl.Workbook, path: Path) -> Path:
    book.save(path)
    return path


def read_all(path: Path, dataset: Dataset, **kwargs: int) -> tuple[dict[str, list], object]:
    delivery = open_delivery(path, dataset, **kwargs)
    table = pa.Table.from_batches(list(delivery.batches()), schema=delivery.schema)
    return table.to_pydict(), delivery


def rejected(path: Path, dataset: Dataset) -> DeliveryRejected:
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(path, dataset)
    return caught.value


def titled_sheet(sheet, rows: list[list[object]]) -> None:
    """A merged title row, the header in row 2, then ``rows``."""
    sheet["A1"] = "柳州市市场监督管理局行政处罚信息（2026年10月）"
    sheet.merge_cells("A1:E1")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)


def test_title_row_required_markers_and_real_sheet_rows(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    titled_sheet(book.active, [["甲公司", "法人及非法人组织", None, "2026-10-08", "市监局"]])
    book.active["B4"] = " "  # row 4 only holds a blank: not a record
    book.active["A5"] = "乙公司"
    data, delivery = read_all(save(book, tmp_path / "d.xlsx"), penalty)
    assert (delivery.format, delivery.header_row, delivery.headers) == ("xlsx", 2, HEADER)
    assert data["c0"] == ["甲公司", "乙公司"]
    assert data["_row"] == [3, 5]
    assert data["c2"] == [None, None]


def test_the_sheet_with_the_header_is_chosen(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    book.active.title = "填表说明"
    book.active["A1"] = "请按目录填写，带*为必填项"
    titled_sheet(
        book.create_sheet("2026年10月"), [["甲公司", "法人及非法人组织", None, "2026-10-08", "市监局"]]
    )
    data, delivery = read_all(save(book, tmp_path / "d.xlsx"), penalty)
    assert delivery.sheet == "2026年10月"
    assert data["c0"] == ["甲公司"]


def test_an_empty_template_sheet_beside_the_data_sheet_is_passed_over(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    book.active.title = "模板"
    book.active.append(HEADER)
    titled_sheet(book.create_sheet("数据"), [["甲公司", "法人及非法人组织", None, "2026-10-08", "市监局"]])
    _, delivery = read_all(save(book, tmp_path / "d.xlsx"), penalty)
    assert delivery.sheet == "数据"


def test_two_sheets_with_data_are_ambiguous(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    book.active.title = "2025年"
    titled_sheet(book.active, [["甲公司", "法人及非法人组织", None, "2025-10-08", "市监局"]])
    titled_sheet(book.create_sheet("2026年"), [["乙公司", "法人及非法人组织", None, "2026-10-08", "市监局"]])
    error = rejected(save(book, tmp_path / "d.xlsx"), penalty)
    assert error.reason == "SEVERAL_MATCHING_SHEETS"
    assert "「2025年」" in error.message and "「2026年」" in error.message


def test_no_matching_sheet_names_the_sheets(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    book.active.title = "许可"
    book.active.append(["行政许可决定文书名称", "许可内容"])
    book.create_sheet("统计").append(["合计", 12])
    error = rejected(save(book, tmp_path / "d.xlsx"), penalty)
    assert error.reason == "NO_MATCHING_SHEET"
    assert "「许可」、「统计」" in error.message and "《行政处罚信息》" in error.message


def test_a_one_sheet_workbook_without_the_header(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    book.active.append(["姓名", "电话"])
    assert rejected(save(book, tmp_path / "d.xlsx"), penalty).reason == "HEADER_NOT_FOUND"


def test_an_empty_workbook(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    book.create_sheet("Sheet2")
    assert rejected(save(book, tmp_path / "d.xlsx"), penalty).reason == "EMPTY_FILE"


def test_header_only(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    titled_sheet(book.active, [])
    book.active.append([None, None])
    error = rejected(save(book, tmp_path / "d.xlsx"), penalty)
    assert error.reason == "NO_DATA_ROWS"


def test_merged_cells_in_the_data_area_are_filled(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    sheet = book.active
    titled_sheet(
        sheet,
        [
            ["甲公司", "法人及非法人组织", None, "2026-10-08", "柳州市市场监督管理局"],
            ["乙公司", "法人及非法人组织", None, "2026-10-09", None],
            ["丙公司", None, None, "2026-10-10", None],
            ["丁公司", "自然人", None, "2026-10-11", "柳州市生态环境局"],
        ],
    )
    sheet.merge_cells("E3:E5")  # one authority for three records
    sheet.merge_cells("B4:B5")
    sheet.merge_cells("C6:D6")  # across two columns: the clerk sees the value in both
    sheet["C6"] = "2026-10-12"
    data, _ = read_all(save(book, tmp_path / "d.xlsx"), penalty)
    assert data["c4"] == ["柳州市市场监督管理局"] * 3 + ["柳州市生态环境局"]
    assert data["c1"] == ["法人及非法人组织", "法人及非法人组织", "法人及非法人组织", "自然人"]
    assert (data["c2"][3], data["c3"][3]) == ("2026-10-12", "2026-10-12")
    assert data["_row"] == [3, 4, 5, 6]


def test_cells_come_through_as_the_clerk_sees_them(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    titled_sheet(
        book.active,
        [
            ["甲", 12.0, 9.14502e17, dt.datetime(2026, 10, 8), 0.1 + 0.2],
            ["乙", 7, 450203000012345.0, dt.datetime(2026, 10, 8, 9, 30), True],
            ["丙", dt.date(2026, 10, 9), "0914502", 46303, ""],
        ],
    )
    data, _ = read_all(save(book, tmp_path / "d.xlsx"), penalty)
    assert data["c1"] == ["12", "7", "2026-10-09"]
    assert data["c2"] == ["9.14502E+17", "450203000012345", "0914502"]
    assert data["c3"] == ["2026-10-08", "2026-10-08 09:30:00", "46303"]
    assert data["c4"] == ["0.3", "TRUE", None]


def test_a_row_of_national_codes_under_the_header(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    titled_sheet(book.active, [["CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_JDRQ", "CF_CFJG"], ["甲"]])
    data, delivery = read_all(save(book, tmp_path / "d.xlsx"), penalty)
    assert delivery.header_row == 2
    assert (data["c0"], data["_row"]) == (["甲"], [4])


def test_cells_right_of_the_header_are_not_read(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    titled_sheet(book.active, [["甲", None, None, None, None, "旁注：此行待核实"]])
    data, delivery = read_all(save(book, tmp_path / "d.xlsx"), penalty)
    assert len(delivery.headers) == 5 and set(data) == {"c0", "c1", "c2", "c3", "c4", "_row"}


def test_a_wrong_recorded_sheet_size_does_not_cut_the_rows(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    titled_sheet(book.active, [[f"公司{i}", "法人及非法人组织"] for i in range(30)])
    good = save(book, tmp_path / "good.xlsx")
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(bad, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
            new.writestr(item, data)
    data, _ = read_all(bad, penalty)
    assert len(data["c0"]) == 30 and data["_row"][-1] == 32


def test_batches_stream_with_continuous_row_numbers(tmp_path: Path, penalty: Dataset):
    book = openpyxl.Workbook()
    titled_sheet(book.active, [[f"公司{i}", "法人及非法人组织", None, "2026-10-08"] for i in range(2500)])
    delivery = open_delivery(save(book, tmp_path / "d.xlsx"), penalty, batch_rows=1000)
    batches = list(delivery.batches())
    assert [b.num_rows for b in batches] == [1000, 1000, 500]
    rows = [n for b in batches for n in b.column("_row").to_pylist()]
    assert rows == list(range(3, 2503))
