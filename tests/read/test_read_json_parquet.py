"""Reading JSON (array or lines) and Parquet deliveries."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.catalog import Dataset, load_catalog
from etl.errors import DeliveryRejected
from etl.read import open_delivery

NAME = "行政相对人名称"
RECORDS = [
    {
        "行政相对人名称": "甲公司",
        "CF_WSH": "柳市监罚〔2026〕1号",
        "处罚决定日期": "2026-10-08",
        "罚款金额": 0.5,
    },
    {"行政相对人名称": "乙公司", "CF_WSH": "柳市监罚〔2026〕2号", "处罚决定日期": "2026/10/9", "备注": None},
    {"行政相对人名称": "丙", "处罚决定日期": 46303, "罚款金额": 12.0, "附件": {"页数": 2}, "备注": ""},
]


@pytest.fixture(scope="module")
def penalty() -> Dataset:
    return load_catalog().datasets["admin_penalty"]


def read_all(path: Path, dataset: Dataset, **kwargs: int) -> tuple[dict[str, list], object]:
    delivery = open_delivery(path, dataset, **kwargs)
    table = pa.Table.from_batches(list(delivery.batches()), schema=delivery.schema)
    return table.to_pydict(), delivery


def rejected(path: Path, dataset: Dataset) -> DeliveryRejected:
    with pytest.raises(DeliveryRejected) as caught:
        delivery = open_delivery(path, dataset)
        list(delivery.batches())
    return caught.value


@pytest.mark.parametrize("layout", ["array", "pretty", "lines"])
def test_json_array_pretty_array_and_lines(tmp_path: Path, penalty: Dataset, layout: str):
    path = tmp_path / "d.json"
    if layout == "array":
        path.write_text(json.dumps(RECORDS, ensure_ascii=False), encoding="utf-8")
    elif layout == "pretty":
        path.write_text(json.dumps(RECORDS, ensure_ascii=False, indent=2), encoding="utf-8-sig")
    else:
        path.write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n\n", encoding="gbk"
        )
    data, delivery = read_all(path, penalty)
    assert delivery.format == "json" and delivery.header_row == 0
    # Every key, in the order first seen; a key a record lacks is an empty cell.
    assert delivery.headers == ["行政相对人名称", "CF_WSH", "处罚决定日期", "罚款金额", "备注", "附件"]
    assert data["c0"] == ["甲公司", "乙公司", "丙"]
    assert data["c1"] == ["柳市监罚〔2026〕1号", "柳市监罚〔2026〕2号", None]
    assert data["c2"] == ["2026-10-08", "2026/10/9", "46303"]
    assert data["c3"] == ["0.5", None, "12"]
    assert data["c4"] == [None, None, None]
    assert data["c5"] == [None, None, '{"页数": 2}']
    assert data["_row"] == [1, 2, 3]  # record positions: JSON has no header line


def test_json_records_stream_in_batches(tmp_path: Path, penalty: Dataset):
    path = tmp_path / "d.json"
    records = [{"行政相对人名称": f"公司{i}", "序号": i} for i in range(2500)]
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    delivery = open_delivery(path, penalty, batch_rows=1000)
    batches = list(delivery.batches())
    assert [b.num_rows for b in batches] == [1000, 1000, 500]
    assert [n for b in batches for n in b.column("_row").to_pylist()] == list(range(1, 2501))
    assert batches[2].column("c1").to_pylist()[-1] == "2499"


def test_json_with_a_record_longer_than_the_read_chunk(tmp_path: Path, penalty: Dataset, monkeypatch):
    from etl.read import json_reader

    monkeypatch.setattr(json_reader, "CHUNK_CHARS", 16)
    path = tmp_path / "d.json"
    path.write_text(json.dumps(RECORDS, ensure_ascii=False), encoding="utf-8")
    data, _ = read_all(path, penalty)
    assert data["c0"] == ["甲公司", "乙公司", "丙"]


@pytest.mark.parametrize(
    ("text", "reason", "fragment"),
    [
        ('[{"行政相对人名称": "甲"}, {"行政相对人名称": "乙"', "INVALID_JSON", "第2条"),
        ('[{"行政相对人名称": "甲"} {"行政相对人名称": "乙"}]', "INVALID_JSON", "逗号"),
        ('[{"行政相对人名称": "甲"}', "INVALID_JSON", "不完整"),
        ('[["行政相对人名称", "甲"]]', "INVALID_JSON", "不是对象"),
        ('{"行政相对人名称": "甲"}\n{"行政相对人名称": }\n', "INVALID_JSON", "第2条"),
        ("[]", "NO_DATA_ROWS", "没有数据行"),
    ],
)
def test_bad_json_is_rejected(tmp_path: Path, penalty: Dataset, text: str, reason: str, fragment: str):
    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    error = rejected(path, penalty)
    assert error.reason == reason
    assert fragment in error.message


def test_a_gb18030_json_broken_far_from_its_start(tmp_path: Path, penalty: Dataset, monkeypatch):
    from etl.read import encoding

    monkeypatch.setattr(encoding, "CHUNK_BYTES", 4096)  # only the start is checked up front
    lines = "".join(f'{{"行政相对人名称": "柳州某公司{i}"}}\n' for i in range(2000))
    path = tmp_path / "d.json"
    path.write_bytes(lines.encode("gbk") + b"\xff\xff" + '{"行政相对人名称": "乙"}\n'.encode("gbk"))
    assert rejected(path, penalty).reason == "UNDECODABLE"


def test_parquet_from_a_database_pull(tmp_path: Path, penalty: Dataset):
    table = pa.table(
        {
            "subject_name": ["甲公司", "乙公司", None],
            "decision_no": ["柳税罚〔2026〕1号", "柳税罚〔2026〕2号", None],
            "decision_date": pa.array([dt.date(2026, 10, 8), dt.date(2026, 10, 9), None]),
            "fine_amount": pa.array([decimal.Decimal("0.5"), None, None], pa.decimal128(12, 4)),
            "updated_at": pa.array([dt.datetime(2026, 10, 8, 9, 30), None, None], pa.timestamp("s")),
            "count": pa.array([3, None, None], pa.int32()),
            "remarks": pa.array(["", "备注", None]).dictionary_encode(),
        }
    )
    path = tmp_path / "pull.parquet"
    pq.write_table(table, path)
    data, delivery = read_all(path, penalty)
    assert (delivery.format, delivery.header_row) == ("parquet", 0)
    assert delivery.headers == table.column_names
    assert data["c0"] == ["甲公司", "乙公司"]  # the all-empty third record is not a record
    assert data["c2"] == ["2026-10-08", "2026-10-09"]
    assert data["c3"] == ["0.5000", None]
    assert data["c4"] == ["2026-10-08 09:30:00.000", None]  # Parquet keeps seconds as milliseconds
    assert data["c5"] == ["3", None]
    assert data["c6"] == [None, "备注"]
    assert data["_row"] == [1, 2]  # record positions: Parquet has no header line


def test_parquet_batches_and_rejections(tmp_path: Path, penalty: Dataset):
    path = tmp_path / "pull.parquet"
    pq.write_table(pa.table({"subject_name": [f"公司{i}" for i in range(2500)]}), path, row_group_size=700)
    delivery = open_delivery(path, penalty, batch_rows=1000)
    rows = [n for b in delivery.batches() for n in b.column("_row").to_pylist()]
    assert rows == list(range(1, 2501))

    pq.write_table(pa.table({"subject_name": pa.array([], pa.string())}), path)
    assert rejected(path, penalty).reason == "NO_DATA_ROWS"

    pq.write_table(pa.table({"subject_name": ["甲"], "tags": [["a", "b"]]}), path)
    error = rejected(path, penalty)
    assert error.reason == "UNSUPPORTED_COLUMN_TYPE" and "tags" in error.message

    path.write_bytes(b"PAR1" + b"\x00" * 20)
    assert rejected(path, penalty).reason == "CORRUPT_FILE"
