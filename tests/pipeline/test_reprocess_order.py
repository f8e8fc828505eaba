"""Reprocessing an old delivery after a newer one corrected its records: the newer versions stay
current, on both backends; its own records that nothing newer touched are reprocessed as usual."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from etl.catalog import Catalog
from etl.demo_data import generate
from etl.drop import receive_file
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.warehouse import open_warehouse

SOURCE = "admin_penalty__scjg__landing"
CORRECTED = 5  # the newer delivery corrects the first records' 处罚内容


def _rewrite(path: Path, encoding: str, out: Path, corrected: int) -> Path:
    """A copy of the delivery whose first ``corrected`` records carry another 处罚内容."""
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("处罚内容")
    for row in rows[1 : 1 + corrected]:
        row[column] = f"{row[column]}（复核更正）"
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerows(rows[: 1 + corrected])
    out.write_bytes(text.getvalue().encode(encoding))
    return out


def test_reprocessing_an_older_delivery_keeps_the_newer_versions_current(
    warehouse_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    manifest = generate(tmp_path / "demo", seed=11, rows=12, sources=[SOURCE], file_format="csv",
                        defect_rate=0.0, catalog=catalog)  # fmt: skip
    (record,) = manifest["deliveries"]
    original = tmp_path / "demo" / record["path"]
    correction = _rewrite(original, record["encoding"], tmp_path / "correction.csv", CORRECTED)
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    storage = Storage(tmp_path / "storage")

    def deliver(path: Path):
        drop = receive_file(storage, path, dataset="admin_penalty", department="scjg", source=SOURCE)
        return drop, process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)

    old_drop, old = deliver(original)
    _, new = deliver(correction)
    assert (old.ledger.rows_loaded, new.ledger.rows_loaded) == (12, CORRECTED)
    before = warehouse.table_snapshot("admin_penalty").sort_by("decision_no").to_pylist()
    history_before = warehouse.table_snapshot("admin_penalty_history").num_rows

    again = process_drop(old_drop, catalog=catalog, warehouse=warehouse, storage=storage,
                         reprocess_of=old.ledger.ledger_id)  # fmt: skip

    assert again.ledger.status == "loaded" and again.ledger.rows_loaded == 12
    after = warehouse.table_snapshot("admin_penalty").sort_by("decision_no").to_pylist()
    corrected = [r for r in after if r["penalty_content"].endswith("（复核更正）")]
    assert len(corrected) == CORRECTED
    assert {r["_delivery_id"] for r in corrected} == {new.ledger.delivery_id}
    # Nothing else changed: the old delivery's other records were already its own.
    assert [r["penalty_content"] for r in after] == [r["penalty_content"] for r in before]
    assert warehouse.table_snapshot("admin_penalty_history").num_rows == history_before
