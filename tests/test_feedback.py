"""Feedback files: Chinese, one row per problem, and no delivered text can become a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl

from etl.feedback import FeedbackItem, FeedbackSummary, write_feedback
from etl.storage import Storage

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd"]


def test_hostile_cells_are_neutralised_in_xlsx_and_csv(tmp_path):
    storage = Storage(tmp_path)
    items = [FeedbackItem(row=i + 2, column="备注", value=v, problem=v, rule="REQUIRED")
             for i, v in enumerate(HOSTILE)]
    items.append(FeedbackItem(row=9, column="统一社会信用代码", value="ｘ", problem="已规范",
                              rule="CODE_NORMALISED", rejected=False))
    summary = FeedbackSummary("柳州市市场监督管理局", "行政处罚信息", "=evil.csv",
                              dt.datetime(2026, 10, 8, 9), 7, 1, 6, "部分入库，问题行已退回")
    files = write_feedback(storage, "feedback/x", summary, items)

    sheet = openpyxl.load_workbook(io.BytesIO((tmp_path / files.xlsx_key).read_bytes()))["问题清单"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [r[2] for r in rows[: len(HOSTILE)]] == [f"'{v}" for v in HOSTILE]
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)
    assert rows[-1][5] == "已自动更正并入库" and "无需重新报送" in rows[-1][4]

    text = (tmp_path / files.csv_key).read_text(encoding="utf-8-sig")
    records = list(csv.reader(io.StringIO(text)))
    assert records[0] == ["行号", "列名", "原值", "问题", "修改建议", "处理结果"]
    assert [r[2] for r in records[1 : 1 + len(HOSTILE)]] == [f"'{v}" for v in HOSTILE]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in records for cell in r)
