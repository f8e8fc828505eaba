"""``warehouse init``: migrations, tables generated from the catalog, identifier checks."""

from __future__ import annotations

import dataclasses
import decimal
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from warehouse_deliveries import Deliveries, penalty

from etl.catalog import Catalog, CatalogField, Dataset
from etl.errors import WarehouseError
from etl.warehouse import base as warehouse_base
from etl.warehouse import open_warehouse
from etl.warehouse.migrations import MIGRATIONS_DIR, discover
from etl.warehouse.schema import CORE_TABLES, dataset_table

CORE_MIGRATION = MIGRATIONS_DIR / "0001_core.sql"


def with_dataset(catalog: Catalog, dataset: Dataset) -> Catalog:
    return dataclasses.replace(catalog, datasets={**catalog.datasets, dataset.id: dataset})


def test_init_is_idempotent_and_records_the_migration(warehouse_url: str, small_catalog: Catalog) -> None:
    warehouse = open_warehouse(warehouse_url)
    assert warehouse.applied_migrations() == []
    first = warehouse.init(small_catalog)
    assert first.migrations == ["0001_core", "0002_alerts", "0003_marts"]
    assert sorted(first.created_tables) == sorted(
        name for d in small_catalog.datasets.values() for name in (d.table, f"{d.table}_history")
    )
    before = {t: warehouse.table_snapshot(t) for t in (*CORE_TABLES, "admin_penalty")}
    second = warehouse.init(small_catalog)
    assert (second.migrations, second.created_tables, second.added_columns) == ([], [], [])
    assert {t: warehouse.table_snapshot(t) for t in before} == before
    assert warehouse.applied_migrations() == ["0001", "0002", "0003"]
    recorded = warehouse.table_snapshot("schema_migrations").to_pylist()
    assert [(m["version"], m["name"]) for m in recorded] == [
        ("0001", "core"), ("0002", "alerts"), ("0003", "marts")
    ]
    assert recorded[0]["checksum"] == discover(MIGRATIONS_DIR, "duckdb")[0].checksum


def test_dataset_tables_have_the_catalog_types(warehouse_url: str, catalog: Catalog) -> None:
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    penalty_types = {f.name: f.type for f in warehouse.table_snapshot("admin_penalty").schema}
    assert penalty_types["subject_name"] == pa.string()
    assert penalty_types["uscc"] == pa.string()  # code types are text
    assert penalty_types["fine_amount"] == pa.decimal128(20, 6)
    assert penalty_types["decision_date"] == pa.date32()
    assert penalty_types["_source_row"] == pa.int64()
    assert penalty_types["_loaded_at"] == pa.timestamp("us", tz="UTC")
    lineage = ["_delivery_id", "_sha256", "_source_row", "_loaded_at", "_record_hash"]
    assert list(penalty_types)[-5:] == lineage
    assert list(penalty_types)[: len(catalog.datasets["admin_penalty"].fields)] == list(
        catalog.datasets["admin_penalty"].field_names
    )
    assert warehouse.table_snapshot("tax_credit_grade_a").schema.field("list_year").type == pa.int64()
    history = warehouse.table_snapshot("admin_penalty_history").schema
    assert history.names == [*penalty_types, "_superseded_at", "_superseded_by"]
    for dataset in catalog.datasets.values():
        assert warehouse.table_snapshot(dataset.table).num_rows == 0


def test_init_adds_the_fields_the_catalog_gained_and_never_drops(
    warehouse_url: str, small_catalog: Catalog, tmp_path: Path
) -> None:
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(small_catalog)
    penalties = Deliveries(tmp_path, small_catalog.datasets["admin_penalty"])
    warehouse.load(penalties.batch([penalty(1)]))

    dataset = small_catalog.datasets["admin_penalty"]
    extra = CatalogField(name="appeal_deadline", title="申请复议期限", type="date")
    grown = with_dataset(small_catalog, dataset.model_copy(update={"fields": (*dataset.fields, extra)}))
    report = warehouse.init(grown)
    assert report.added_columns == ["admin_penalty.appeal_deadline", "admin_penalty_history.appeal_deadline"]
    rows = warehouse.table_snapshot("admin_penalty")
    assert rows.schema.field("appeal_deadline").type == pa.date32()
    assert rows.column("appeal_deadline").to_pylist() == [None]
    assert rows.column("decision_no").to_pylist() == ["柳市监处罚〔2026〕1号"]

    # Back to the old catalog: the column stays, and loads still work (it stays empty).
    assert warehouse.init(small_catalog).added_columns == []
    assert "appeal_deadline" in warehouse.table_snapshot("admin_penalty").schema.names
    warehouse.load(penalties.batch([penalty(2, fine_amount=decimal.Decimal(1))]))
    assert warehouse.table_snapshot("admin_penalty").num_rows == 2


def test_init_refuses_to_rekey_a_table(warehouse_url: str, small_catalog: Catalog) -> None:
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(small_catalog)
    dataset = small_catalog.datasets["tax_credit_grade_a"]
    rekeyed = with_dataset(small_catalog, dataset.model_copy(update={"dedup_key": ("tax_reg_no",)}))
    with pytest.raises(WarehouseError, match=r"keyed on \(tax_reg_no,list_year\).*needs a written migration"):
        warehouse.init(rekeyed)


@pytest.mark.parametrize(
    "change",
    [
        {"table": "admin_penalty; DROP TABLE deliveries"},
        {"table": "Admin_Penalty"},
        {"table": "x" * 60},  # its history table's name would pass PostgreSQL's 63-character limit
        {"fields": "unsafe field"},
    ],
    ids=["injection", "upper-case", "too-long", "field"],
)
def test_unsafe_identifiers_never_reach_sql(
    warehouse_url: str, small_catalog: Catalog, change: dict[str, str]
) -> None:
    dataset = small_catalog.datasets["admin_penalty"]
    values = dict(dataset)
    if "fields" in change:
        bad = CatalogField.model_construct(**{**dict(dataset.fields[0]), "name": 'x" text); --'})
        values["fields"] = (bad, *dataset.fields[1:])
    else:
        values.update(change)
    unsafe = Dataset.model_construct(**values)
    warehouse = open_warehouse(warehouse_url)
    with pytest.raises(WarehouseError, match="not a safe SQL identifier"):
        warehouse.init(with_dataset(small_catalog, unsafe))
    # Checked before anything was written: the warehouse is still uninitialised.
    assert warehouse.applied_migrations() == []


def test_reserved_and_clashing_table_names_are_refused(small_catalog: Catalog) -> None:
    dataset = small_catalog.datasets["admin_penalty"]
    with pytest.raises(WarehouseError, match="reserved"):
        dataset_table(dataset.model_copy(update={"table": "subjects"}))
    twin = dataset.model_copy(update={"id": "admin_penalty_copy"})
    with pytest.raises(WarehouseError, match="both need a table named 'admin_penalty'"):
        open_warehouse("/nonexistent/never-created.duckdb").init(with_dataset(small_catalog, twin))


def test_reading_a_duckdb_warehouse_that_does_not_exist_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.duckdb"
    warehouse = open_warehouse(str(path))
    assert warehouse.applied_migrations() == []
    with pytest.raises(WarehouseError, match=r"no warehouse at duckdb://.*run `credit-etl warehouse init`"):
        warehouse.ledger()
    assert not path.exists()


def test_table_snapshot_checks_its_argument(warehouse) -> None:
    with pytest.raises(WarehouseError, match="not a safe SQL identifier"):
        warehouse.table_snapshot("deliveries; DROP TABLE subjects")
    with pytest.raises(WarehouseError, match="no table 'nothing_here'"):
        warehouse.table_snapshot("nothing_here")


@pytest.fixture
def migrations_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    shutil.copy(CORE_MIGRATION, folder)
    monkeypatch.setattr(warehouse_base, "MIGRATIONS_DIR", folder)
    return folder


def test_new_migrations_apply_once_in_order_and_applied_ones_cannot_change(
    warehouse_url: str, small_catalog: Catalog, migrations_dir: Path
) -> None:
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(small_catalog)
    # A migration that differs between the dialects comes as a pair of files.
    (migrations_dir / "0002_notes.duckdb.sql").write_text("CREATE TABLE notes (body VARCHAR, written DATE);")
    (migrations_dir / "0002_notes.postgresql.sql").write_text("CREATE TABLE notes (body TEXT, written DATE);")
    (migrations_dir / "0003_more.sql").write_text("ALTER TABLE notes ADD COLUMN author VARCHAR;")
    assert warehouse.init(small_catalog).migrations == ["0002_notes", "0003_more"]
    assert warehouse.init(small_catalog).migrations == []
    assert warehouse.applied_migrations() == ["0001", "0002", "0003"]
    assert warehouse.table_snapshot("notes").schema.names == ["body", "written", "author"]

    (migrations_dir / "0003_more.sql").write_text("ALTER TABLE notes ADD COLUMN editor VARCHAR;")
    with pytest.raises(WarehouseError, match=r"0003_more\.sql changed after it was applied"):
        warehouse.init(small_catalog)


def test_a_failing_migration_leaves_the_warehouse_as_it_was(
    warehouse_url: str, small_catalog: Catalog, migrations_dir: Path
) -> None:
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(small_catalog)
    (migrations_dir / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (x BIGINT);\nALTER TABLE no_such_table ADD COLUMN y BIGINT;"
    )
    with pytest.raises(WarehouseError, match="init failed in warehouse"):
        warehouse.init(small_catalog)
    assert warehouse.applied_migrations() == ["0001"]
    with pytest.raises(WarehouseError, match="no table 'half_done'"):
        warehouse.table_snapshot("half_done")


def test_migration_files_are_discovered_per_dialect(tmp_path: Path) -> None:
    (tmp_path / "0001_core.sql").write_text("SELECT 1;")
    (tmp_path / "0002_x.duckdb.sql").write_text("SELECT 2;")
    (tmp_path / "0002_x.postgresql.sql").write_text("SELECT 3;")
    names = [m.path.name for m in discover(tmp_path, "postgresql")]
    assert names == ["0001_core.sql", "0002_x.postgresql.sql"]
    assert [m.path.name for m in discover(tmp_path, "duckdb")] == ["0001_core.sql", "0002_x.duckdb.sql"]
    (tmp_path / "0002_x.postgresql.sql").unlink()
    with pytest.raises(WarehouseError, match="migration 0002 has no file for postgresql"):
        discover(tmp_path, "duckdb")
    (tmp_path / "3_bad-name.sql").write_text("")
    with pytest.raises(WarehouseError, match=r"are named NNNN_name\.sql"):
        discover(tmp_path, "duckdb")
