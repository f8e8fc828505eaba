"""The hand-made samples in tests/samples, read and conformed end to end.

- ``admin_penalty_excel_gb18030.csv``: as Excel saves a department's sheet on Chinese Windows
  (GB18030 with a character outside GBK, CRLF, a title row, ``*…（必填）`` headers, a quoted line
  break), with a full-width lower-case code, an impossible date and an amount in words;
- ``admin_penalty_pull.jsonl``: a database pull exported as JSON Lines with canonical field names.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from etl.catalog import Dataset, load_catalog
from etl.conform import conform_batch, map_headers
from etl.read import open_delivery

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def penalty() -> Dataset:
    return load_catalog().datasets["admin_penalty"]


def read_and_conform(path: Path, dataset: Dataset):
    delivery = open_delivery(path, dataset)
    mapping = map_headers(delivery.headers, dataset)
    results = [conform_batch(batch, mapping, dataset) for batch in delivery.batches()]
    typed = pa.concat_tables([r.typed for r in results])
    issues = pa.concat_tables([r.issues for r in results])
    rows = [n for r in results for n in r.rows.to_pylist()]
    return delivery, mapping, typed, issues, rows


def test_the_excel_csv_sample(penalty: Dataset):
    delivery, mapping, typed, issues, rows = read_and_conform(
        SAMPLES / "admin_penalty_excel_gb18030.csv", penalty
    )
    assert (delivery.format, delivery.encoding, delivery.header_row) == ("csv", "gb18030", 2)
    assert mapping.unknown == () and len(mapping.columns) == len(penalty.fields)
    assert rows == [3, 4, 5, 6]
    assert typed.column("subject_name").to_pylist()[1] == "柳州市鱼峰区𠀀记粉店"
    assert typed.column("uscc").to_pylist()[:2] == ["91110000600037341L", "91110000600037341L"]
    assert typed.column("decision_date").to_pylist() == [
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        None,
        dt.date(2026, 10, 12),
    ]
    assert typed.column("fine_amount").to_pylist() == [Decimal("0.5"), Decimal("1234.5"), None, None]
    assert typed.column("violation_facts").to_pylist()[3] == "当事人无照经营，\n经责令改正后仍继续经营。"
    assert typed.column("id_no").to_pylist()[3] == "44011320141005001X"
    found = sorted((i["row"], i["field"], i["rule"], i["severity"]) for i in issues.to_pylist())
    assert found == [
        (4, "uscc", "CODE_NORMALISED", "normalised"),
        (5, "decision_date", "NOT_A_DATE", "error"),
        (5, "fine_amount", "NOT_A_NUMBER", "error"),
        (6, "id_no", "CODE_NORMALISED", "normalised"),
    ]


def test_the_json_lines_pull_sample(penalty: Dataset):
    delivery, mapping, typed, issues, rows = read_and_conform(SAMPLES / "admin_penalty_pull.jsonl", penalty)
    assert (delivery.format, delivery.encoding) == ("json", "utf-8")
    assert mapping.unknown == ()
    assert rows == [1, 2]  # record positions: JSON has no header line
    assert typed.column("decision_date").to_pylist() == [dt.date(2026, 10, 8), dt.date(2026, 10, 9)]
    assert typed.column("fine_amount").to_pylist() == [Decimal("0.2"), Decimal("1.5")]
    assert issues.num_rows == 0
