"""Builders of staged deliveries for the warehouse tests: ledger row + accepted/rejected Parquet."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl.catalog import Dataset
from etl.warehouse import LedgerRow
from etl.warehouse.base import LoadBatch
from etl.warehouse.ledger import SHANGHAI
from etl.warehouse.staging import REJECTED_SCHEMA, accepted_schema, accepted_table

# Valid codes (reference/codes.md); 92… is an individual business.
USCC_A = "91110000600037341L"
USCC_B = "91310115MA1K3BTP2B"
USCC_C = "92340602MA2PBMEM24"
PLACEHOLDER = "00000000000000000X"


def penalty(n: int, **changes: Any) -> dict[str, Any]:
    """A valid-looking admin_penalty record number ``n`` (dedup key: decision_no + subject_name)."""
    record = {
        "subject_name": f"柳州市第{n}商贸有限公司",
        "subject_category": "法人及非法人组织",
        "uscc": USCC_A,
        "legal_rep": "张三",
        "decision_no": f"柳市监处罚〔2026〕{n}号",
        "violation_type": "销售不合格食品",
        "violation_facts": "当事人销售过期食品",
        "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
        "penalty_types": "罚款",
        "penalty_content": "罚款人民币伍仟元",
        "fine_amount": decimal.Decimal("0.5"),
        "decision_date": dt.date(2026, 9, 1),
        "valid_until": dt.date(2027, 9, 1),
        "authority": "柳州市市场监督管理局",
        "authority_uscc": USCC_B,
        "source_unit": "柳州市市场监督管理局",
        "source_unit_uscc": USCC_B,
    }
    record.update(changes)
    return record


class Deliveries:
    """Writes staged deliveries of one dataset under ``root``."""

    def __init__(self, root: Path, dataset: Dataset) -> None:
        self.root = root
        self.dataset = dataset
        self.counter = 0

    def batch(
        self,
        records: list[dict[str, Any]],
        rejected: list[dict[str, Any]] | None = None,
        *,
        name: str | None = None,
        received_at: dt.datetime | None = None,
        department: str = "scjg",
    ) -> LoadBatch:
        """A delivery of ``records`` (accepted, rows 2..) and ``rejected`` (raw cells, after them)."""
        self.counter += 1
        name = name or f"delivery-{self.counter}"
        sha256 = hashlib.sha256(name.encode()).hexdigest()
        delivery_id = f"{self.dataset.id}:{department}:{sha256[:16]}"
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        rejected = rejected or []
        rows_read = len(records) + len(rejected)
        accepted_path = folder / "accepted.parquet"
        schema = accepted_schema(self.dataset)
        fields = [f for f in schema if not f.name.startswith("_")]
        typed = pa.Table.from_pylist(
            [{f.name: r.get(f.name) for f in fields} for r in records], schema=pa.schema(fields)
        )
        table = accepted_table(
            typed, self.dataset, delivery_id=delivery_id, sha256=sha256,
            source_rows=list(range(2, 2 + len(records))),
        )
        pq.write_table(table, accepted_path)
        rejected_path = None
        if rejected:
            rejected_path = folder / "rejected.parquet"
            rows = [
                {
                    "delivery_id": delivery_id,
                    "source_row": 2 + len(records) + i,
                    "raw_json": json.dumps(raw, ensure_ascii=False),
                    "reasons_json": json.dumps(
                        [{"field": "uscc", "rule": "USCC_CHECKSUM", "value": raw.get("uscc"),
                          "message": "统一社会信用代码校验位错误，请核对后重新报送"}],
                        ensure_ascii=False,
                    ),
                }
                for i, raw in enumerate(rejected)
            ]
            pq.write_table(pa.Table.from_pylist(rows, schema=REJECTED_SCHEMA), rejected_path)
        received_at = received_at or dt.datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI) + dt.timedelta(
            days=self.counter
        )
        ledger = LedgerRow(
            delivery_id=delivery_id,
            dataset=self.dataset.id,
            department=department,
            source=f"{self.dataset.id}__{department}__landing",
            file_name=f"{name}.csv",
            sha256=sha256,
            size_bytes=1000 + self.counter,
            received_at=received_at,
            started_at=received_at + dt.timedelta(seconds=5),
            finished_at=received_at + dt.timedelta(seconds=9),
            rows_read=rows_read,
            rows_loaded=len(records),
            rows_rejected=len(rejected),
            status="loaded_with_rejections" if rejected else "loaded",
            feedback_paths=(f"feedback/{department}/{self.dataset.id}/{name}.xlsx",) if rejected else (),
        )
        return LoadBatch(ledger=ledger, dataset=self.dataset, accepted_path=accepted_path,
                         rejected_path=rejected_path)
