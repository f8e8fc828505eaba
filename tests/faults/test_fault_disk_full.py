"""The storage root (raw archive, staging, feedback) runs out of space in the middle of a delivery.

The root is a 2 MB tmpfs mounted for the test (the tests run as root, as in CI); once the raw file
is archived, a filler takes every free byte. Writing the staged Parquet then fails with ENOSPC:
the delivery is recorded ``failed`` with the reason in the ledger, nothing reaches the warehouse,
no staging file is left; once the filler is gone the rerun loads it and the warehouse equals that
of a clean run, table by table.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from warehouse_compare import assert_same_warehouse, dump

from etl.drop import receive_file
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.warehouse import open_warehouse


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True, timeout=30)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True, timeout=30)


def fill(folder: Path) -> Path:
    """Writes until the file system is full; returns the filler."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def receive(storage: Storage, penalty_file: Path):
    return receive_file(storage, penalty_file, dataset="admin_penalty", department="scjg",
                        source="admin_penalty__scjg__landing")  # fmt: skip


def test_a_full_staging_disk_fails_the_delivery_clearly_and_the_rerun_equals_a_clean_run(
    penalty_file, small_catalog, small_disk, tmp_path
):
    clean = open_warehouse(f"duckdb:///{tmp_path}/clean.duckdb")
    clean.init(small_catalog)
    clean_storage = Storage(tmp_path / "clean-storage")
    process_drop(receive(clean_storage, penalty_file), catalog=small_catalog, warehouse=clean,
                 storage=clean_storage)  # fmt: skip

    warehouse = open_warehouse(f"duckdb:///{tmp_path}/full.duckdb")
    warehouse.init(small_catalog)
    storage = Storage(small_disk / "storage")
    drop = receive(storage, penalty_file)
    filler = fill(small_disk)

    with pytest.raises(OSError, match="No space left on device"):
        process_drop(drop, catalog=small_catalog, warehouse=warehouse, storage=storage)
    (failed,) = warehouse.ledger()
    assert failed.status == "failed" and failed.rows_loaded == 0
    assert failed.error_reason == "OSError" and "No space left on device" in failed.error_message, failed
    assert [t for t, rows in dump(warehouse).items()
            if rows and t not in ("deliveries", "dataset_tables", "schema_migrations")] == []  # fmt: skip
    assert storage.list("staging") == []  # nothing half-written left behind
    assert storage.exists(drop.raw_key)  # the raw delivery is kept

    filler.unlink()
    result = process_drop(drop, catalog=small_catalog, warehouse=warehouse, storage=storage)
    assert result.ledger.status == "loaded_with_rejections"
    assert result.ledger.ledger_id == failed.ledger_id
    assert_same_warehouse(warehouse, clean)
