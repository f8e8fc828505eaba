"""The ledger and catalog the alert tests share: admin_penalty delivered by three sources."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import yaml

from etl.catalog import DEFAULT_CATALOG_DIR
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
    folder = parent / "catalog_yaml"
    shutil.copytree(DEFAULT_CATALOG_DIR, folder)
    for path in (folder / "datasets").glob("*.yaml"):
        if path.stem != "admin_penalty":
            path.unlink()
    path = folder / "datasets" / "admin_penalty.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    wanted = {tuple(source.split("__")[1:]) for source in SOURCES}
    raw["sources"] = [s for s in raw["sources"] if (s["department"], s["method"]) in wanted]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return folder


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
