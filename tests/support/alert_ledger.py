"""The ledger and catalog the alert and security tests share: admin_penalty delivered by three sources."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

from penalty_deliveries import penalty_catalog_dir

from etl.warehouse import LedgerRow
from etl.warehouse.base import Warehouse

# A landing zone whose department has a robot, a database pull whose department has a webhook, a
# landing zone whose department has mail only.
SOURCES = ("admin_penalty__scjg__landing", "admin_penalty__tax__database", "admin_penalty__jt__landing")
SCJG = "xinyong@scjg.liuzhou.example.cn"
FGW = "xinyong@fgw.liuzhou.example.cn"
TAX = "nsxy@tax.liuzhou.example.cn"

_serial = itertools.count(1)


def write_catalog(parent: Path) -> Path:
    """The project's catalog with only admin_penalty, delivered only by ``SOURCES``."""
    return penalty_catalog_dir(parent, SOURCES)


def record(warehouse: Warehouse, source: str, received: dt.datetime, status: str = "loaded",
           change: dt.date | None = None, error: str | None = None) -> None:  # fmt: skip
    """A ledger row of ``source``, its processing finished five minutes after it arrived."""
    dataset, department, _ = source.split("__")
    sha256 = f"{next(_serial):064x}"
    rows = {"rows_read": 1, "rows_loaded": 1} if status == "loaded" else {}
    warehouse.record_ledger(LedgerRow(
        delivery_id=f"{dataset}:{department}:{sha256[:16]}", dataset=dataset, department=department,
        source=source, file_name="x.csv", sha256=sha256, size_bytes=10, received_at=received, status=status,
        finished_at=received + dt.timedelta(minutes=5), change_date=change, error_message=error,
        error_reason="MISSING_COLUMNS" if status == "rejected" else None, **rows,
    ))  # fmt: skip
