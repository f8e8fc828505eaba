"""A crash at any stage of a delivery leaves no partial rows; rerunning completes the load.

The crash is an exception injected at one stage — while reading, conforming, validating, writing the
staged files, writing the feedback, or at each point inside the warehouse's load transaction — on
DuckDB and on PostgreSQL. After the crash the warehouse holds nothing of the delivery but a
``failed`` ledger row; after a rerun it equals, table by table, a warehouse that loaded the same
delivery without a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pytest
from backends import BACKENDS, initialised_warehouse

from etl.catalog import Catalog
from etl.demo_data import generate
from etl.drop import receive_file
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.warehouse.base import Warehouse

SOURCE = "admin_penalty__scjg__landing"
TABLES = ("admin_penalty", "admin_penalty_history", "quarantine", "subjects")
# Columns that record when, not what: they differ between any two runs.
WHEN_COLUMNS = ("_loaded_at", "_superseded_at", "created_at", "first_seen", "last_seen")


class Crash(RuntimeError):
    """The injected fault."""


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("demo")
    manifest = generate(out, seed=11, scale=0.5, sources=[SOURCE], file_format="csv")
    (record,) = manifest["deliveries"]
    return {**record, "file": out / record["path"]}


@pytest.fixture(params=BACKENDS)
def make_warehouse(request: pytest.FixtureRequest, tmp_path: Path, catalog: Catalog) -> Iterator:
    with ExitStack() as cleanup:

        def make(name: str) -> Warehouse:
            return cleanup.enter_context(initialised_warehouse(request.param, tmp_path, catalog, name))[1]

        yield make


def run(delivery: dict, catalog: Catalog, warehouse: Warehouse, storage: Storage):
    drop = receive_file(storage, delivery["file"], dataset="admin_penalty", department="scjg", source=SOURCE)
    return process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage, batch_rows=40)


def contents(warehouse: Warehouse) -> dict[str, pa.Table]:
    tables = {}
    for name in TABLES:
        table = warehouse.table_snapshot(name)
        tables[name] = table.drop_columns([c for c in WHEN_COLUMNS if c in table.column_names])
    return tables


def fail_on_second_call(monkeypatch: pytest.MonkeyPatch, module: str, name: str) -> None:
    """Replaces ``module.name`` so its second call raises: the crash comes mid-delivery."""
    import importlib

    target = importlib.import_module(module)
    original = getattr(target, name)
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash(f"injected crash in {module}.{name}")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, crashing)


PIPELINE_STAGES = [
    ("etl.read.csv_reader", "drop_blank_rows"),  # reading the file (on the reader thread)
    ("etl.conform", "conform_batch"),
    ("etl.validate", "validate_batch"),
    ("etl.warehouse.staging", "accepted_fields"),  # handing the accepted rows to the load
    ("etl.warehouse.loading", "_prepared"),  # the load's writer thread
    ("etl.feedback", "neutralise"),  # writing the feedback files
]


@pytest.mark.parametrize(("module", "name"), PIPELINE_STAGES, ids=[n for _, n in PIPELINE_STAGES])
def test_crash_in_a_pipeline_stage(module, name, delivery, catalog, make_warehouse, tmp_path, monkeypatch):
    reference = make_warehouse("reference")
    run(delivery, catalog, reference, Storage(tmp_path / "ref-storage"))

    warehouse = make_warehouse("crashed")
    storage = Storage(tmp_path / "storage")
    empty = contents(warehouse)
    with monkeypatch.context() as patch:
        fail_on_second_call(patch, module, name)
        with pytest.raises(Crash):
            run(delivery, catalog, warehouse, storage)
    assert contents(warehouse) == empty
    assert [row.status for row in warehouse.ledger(dataset="admin_penalty")] == ["failed"]
    assert storage.list("staging") == []  # nothing half-written is left for a later run

    result = run(delivery, catalog, warehouse, storage)
    assert result.ledger.status == "loaded_with_rejections"
    assert contents(warehouse) == contents(reference)
    # The failed attempt is redone in place: one ledger row, now loaded.
    assert [row.status for row in warehouse.ledger(dataset="admin_penalty")] == ["loaded_with_rejections"]


@pytest.mark.parametrize("stage", Warehouse.LOAD_STAGES)
def test_crash_inside_the_load_transaction(stage, delivery, catalog, make_warehouse, tmp_path, monkeypatch):
    reference = make_warehouse("reference")
    run(delivery, catalog, reference, Storage(tmp_path / "ref-storage"))

    warehouse = make_warehouse("crashed")
    storage = Storage(tmp_path / "storage")
    empty = contents(warehouse)

    def checkpoint(self, reached: str) -> None:
        if reached == stage:
            raise Crash(f"injected crash after {stage}")

    with monkeypatch.context() as patch:
        patch.setattr(type(warehouse), "_checkpoint", checkpoint)
        with pytest.raises(Crash):
            run(delivery, catalog, warehouse, storage)
    assert contents(warehouse) == empty

    result = run(delivery, catalog, warehouse, storage)
    assert result.ledger.rows_read == result.ledger.rows_loaded + result.ledger.rows_rejected
    assert contents(warehouse) == contents(reference)
