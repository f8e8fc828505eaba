"""Batches shaped like conform's output, for the validate tests."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from etl.catalog import Dataset
from etl.conform import ARROW_TYPES, ISSUE_SCHEMA, ConformedBatch

# A clean 行政处罚 record of an enterprise; test rows override a field or two.
GOOD: dict[str, Any] = {
    "subject_name": "柳州市某某商贸有限公司",
    "subject_category": "法人及非法人组织",
    "uscc": "91110000600037341L",
    "legal_rep": "张三",
    "decision_no": "柳市监罚〔2026〕1号",
    "violation_type": "虚假宣传",
    "violation_facts": "当事人在其网店发布虚假广告",
    "legal_basis": "《中华人民共和国广告法》第五十五条",
    "penalty_types": "警告;罚款",
    "penalty_content": "警告并罚款人民币壹万元整",
    "fine_amount": "1",
    "decision_date": dt.date(2026, 1, 5),
    "valid_until": dt.date(2026, 7, 5),
    "authority": "柳州市市场监督管理局",
    "authority_uscc": "121200004013590816",
    "source_unit": "柳州市市场监督管理局",
    "source_unit_uscc": "121200004013590816",
}


def make_batch(
    dataset: Dataset,
    records: Sequence[Mapping[str, Any]],
    *,
    start_row: int = 2,
    raw: Mapping[int, Mapping[str, str]] | None = None,
    issues: Sequence[Mapping[str, Any]] = (),
) -> ConformedBatch:
    """A batch whose typed values are ``records`` (missing fields null) and raw cells their text.

    ``raw`` overrides the delivered text of some cells: {index in records: {field: text}}.
    """
    typed_columns, raw_columns = {}, {}
    for f in dataset.fields:
        values = [record.get(f.name) for record in records]
        arrow_type = ARROW_TYPES[f.type]
        if f.type == "decimal":
            values = [None if v is None else decimal.Decimal(v) for v in values]
        typed_columns[f.name] = pa.array(values, arrow_type)
        texts = [None if v is None else str(v) for v in values]
        for index, cells in (raw or {}).items():
            if f.name in cells:
                texts[index] = cells[f.name]
        raw_columns[f.name] = pa.array(texts, pa.string())
    rows = pa.array(range(start_row, start_row + len(records)), pa.int64())
    issue_table = pa.Table.from_pylist(list(issues), schema=ISSUE_SCHEMA)
    return ConformedBatch(
        rows=rows, raw=pa.table(raw_columns), typed=pa.table(typed_columns), issues=issue_table
    )
