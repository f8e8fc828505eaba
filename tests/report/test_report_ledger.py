"""Which ledger rows a period counts: received in it (Shanghai dates), no duplicates, and a delivery
processed again counted once, by its latest attempt."""

from __future__ import annotations

from etl.freshness import at
from etl.report.metrics import in_period
from etl.report.period import ReportPeriod
from etl.warehouse.ledger import LedgerRow


def ledger_row(ledger_id: int, delivery: str, received, status: str, loaded: int, rejected: int) -> LedgerRow:
    return LedgerRow(
        delivery_id=f"admin_penalty:scjg:{delivery}", dataset="admin_penalty", department="scjg",
        source="admin_penalty__scjg__landing", file_name=f"{delivery}.csv", sha256=delivery * 16,
        size_bytes=10, received_at=received, status=status, rows_read=loaded + rejected, rows_loaded=loaded,
        rows_rejected=rejected, ledger_id=ledger_id,
    )  # fmt: skip


def test_a_reprocessed_delivery_counts_once_by_its_latest_attempt():
    rows = [
        ledger_row(1, "aaaa", at(2026, 10, 9), "loaded_with_rejections", 3, 2),
        ledger_row(2, "aaaa", at(2026, 10, 9), "duplicate", 0, 0),
        ledger_row(3, "bbbb", at(2026, 10, 31, 23, 30), "loaded", 4, 0),  # still October in Shanghai
        ledger_row(4, "cccc", at(2026, 11, 1, 0, 10), "loaded", 9, 0),
        ledger_row(5, "aaaa", at(2026, 10, 9), "loaded", 5, 0),  # reprocessed with a widened catalog
    ]
    counted = in_period(rows, ReportPeriod.parse("2026-10"))
    assert [(r.ledger_id, r.rows_loaded, r.rows_rejected) for r in counted] == [(5, 5, 0), (3, 4, 0)]
