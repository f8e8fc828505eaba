"""`credit-etl reprocess`: a period's archived deliveries run again through a fixed catalog.

A department sends certificate statuses the catalog does not list yet (暂停); those rows are
rejected. Once the catalog's allowed values are widened, reprocessing the period loads them, with
ledger rows saying it was a reprocess of which attempt; reprocessing again changes nothing.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl import validate
from etl.catalog import DEFAULT_CATALOG_DIR, load_catalog
from etl.cli import main as cli_main
from etl.demo_data import generate
from etl.drop import receive_file
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.validate import suites
from etl.validate.suites import DEFAULT_SUITES_DIR
from etl.warehouse import open_warehouse

SOURCE = "construction_enterprise_qualification__zj__landing"
DATASET = "construction_enterprise_qualification"
NEW_STATUS = "暂停"
CHANGED_ROWS = (2, 5, 9, 14)  # 0-based record indexes whose status becomes the unlisted value


@pytest.fixture(autouse=True)
def fresh_suites() -> Iterator[None]:
    """The pipeline keeps each dataset's checked suite for the process; these tests change suites."""
    validate._current_suite.cache_clear()
    validate._current_checks.cache_clear()
    yield
    validate._current_suite.cache_clear()
    validate._current_checks.cache_clear()


@pytest.fixture
def setup(tmp_path: Path) -> dict:
    catalog_dir = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, catalog_dir)
    catalog = load_catalog(catalog_dir)
    manifest = generate(tmp_path / "demo", seed=8, rows=30, sources=[SOURCE], file_format="csv",
                        defect_rate=0.0, catalog=catalog)  # fmt: skip
    (record,) = manifest["deliveries"]
    path = tmp_path / "demo" / record["path"]
    _set_statuses(path, record["encoding"])
    warehouse_url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    storage = Storage(tmp_path / "storage")
    storage_root = tmp_path / "storage"
    drop = receive_file(storage, path, dataset=DATASET, department="zj", source=SOURCE)
    first = process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)
    return {"catalog_dir": catalog_dir, "warehouse": warehouse, "url": warehouse_url, "storage": storage,
            "storage_root": storage_root,
            "first": first.ledger, "day": drop.received_at.date().isoformat()}  # fmt: skip


def _set_statuses(path: Path, encoding: str) -> None:
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle))
    column = next(i for i, header in enumerate(rows[0]) if header in ("证书状态", "状态", "cert_status"))
    for index in CHANGED_ROWS:
        rows[1 + index][column] = NEW_STATUS
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


def _widen_allowed(catalog_dir: Path, monkeypatch: pytest.MonkeyPatch, suites_dir: Path | None) -> None:
    """The catalog fix; with ``suites_dir``, also its rebuilt expectation suites (as committed after
    `credit-etl expectations build`), which the pipeline then reads instead of the project's."""
    path = catalog_dir / "datasets" / f"{DATASET}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "allowed: [有效, 注销, 撤回, 撤销]" in text
    widened = text.replace("撤回, 撤销]", f"撤回, 撤销, {NEW_STATUS}]")
    path.write_text(widened, encoding="utf-8")
    if suites_dir is None:
        return
    shutil.copytree(DEFAULT_SUITES_DIR, suites_dir)
    build = ["expectations", "build", "--catalog", str(catalog_dir), "--suites", str(suites_dir)]
    assert cli_main(build) == 0
    committed = suites.load_suite
    monkeypatch.setattr(suites, "load_suite", lambda dataset_id, _=None: committed(dataset_id, suites_dir))


def reprocess(setup: dict, *extra: str) -> int:
    return cli_main(["reprocess", "--dataset", DATASET, "--from", setup["day"], "--to", setup["day"],
                     "--catalog", str(setup["catalog_dir"]), "--warehouse", setup["url"],
                     "--storage", str(setup["storage_root"]), *extra])  # fmt: skip


def quarantined(warehouse) -> int:  # type: ignore[no-untyped-def]
    return warehouse.table_snapshot("quarantine").num_rows


def test_reprocessing_after_a_catalog_fix_loads_the_rows_it_rejected_and_again_changes_nothing(
    setup, capsys, monkeypatch, tmp_path
):
    warehouse, first = setup["warehouse"], setup["first"]
    assert (first.status, first.rows_loaded, first.rows_rejected) == ("loaded_with_rejections", 26, 4)
    assert quarantined(warehouse) == 4

    _widen_allowed(setup["catalog_dir"], monkeypatch, tmp_path / "suites")
    assert reprocess(setup) == 0
    out = capsys.readouterr().out
    assert f"reprocess of {first.ledger_id}" in out and "loaded 26 -> 30, rejected 4 -> 0" in out

    rows = warehouse.ledger(dataset=DATASET)
    assert rows[0].ledger_id == first.ledger_id
    second = rows[-1]
    assert (second.status, second.rows_loaded, second.rows_rejected) == ("loaded", 30, 0)
    assert (second.reprocess_of, second.notes, second.sha256) == (first.ledger_id, "reprocess: catalog fix",
                                                                  first.sha256)  # fmt: skip
    table = warehouse.table_snapshot(DATASET)
    assert table.num_rows == 30 and table["cert_status"].to_pylist().count(NEW_STATUS) == len(CHANGED_ROWS)
    assert quarantined(warehouse) == 0

    assert reprocess(setup, "--note", "reprocess: checked again") == 0
    third = warehouse.ledger(dataset=DATASET)[-1]
    assert (third.reprocess_of, third.notes, third.status) == (second.ledger_id, "reprocess: checked again",
                                                               "loaded")  # fmt: skip
    assert warehouse.table_snapshot(DATASET).equals(table)
    assert warehouse.table_snapshot(f"{DATASET}_history").num_rows == 0, "identical records are not versioned"


def test_a_catalog_fix_without_rebuilt_suites_stops_before_touching_anything(setup, capsys, monkeypatch):
    before = setup["warehouse"].ledger(dataset=DATASET)
    _widen_allowed(setup["catalog_dir"], monkeypatch, None)
    assert reprocess(setup) == 2
    assert "credit-etl expectations build" in capsys.readouterr().err
    assert setup["warehouse"].ledger(dataset=DATASET) == before


def test_a_dry_run_changes_nothing_and_an_empty_period_says_so(setup, capsys):
    before = setup["warehouse"].ledger(dataset=DATASET)
    assert reprocess(setup, "--dry-run") == 0
    assert f"would reprocess ledger {setup['first'].ledger_id}" in capsys.readouterr().out
    assert setup["warehouse"].ledger(dataset=DATASET) == before
    assert cli_main(["reprocess", "--dataset", DATASET, "--from", "2020-01-01", "--to", "2020-01-31",
                     "--catalog", str(setup["catalog_dir"]), "--warehouse", setup["url"]]) == 0  # fmt: skip
    assert "no processed deliveries" in capsys.readouterr().err


def test_a_missing_archive_is_reported_not_a_traceback(setup, capsys):
    first = setup["first"]
    raw = Path(setup["storage"].location(Storage.raw_key(first.sha256)))
    raw.unlink()
    assert reprocess(setup) == 1
    assert "archived file" in capsys.readouterr().err


def test_bad_arguments_are_usage_errors(setup, capsys):
    assert cli_main(["reprocess", "--dataset", DATASET, "--from", "2026-11-30", "--to", "2026-11-01",
                     "--catalog", str(setup["catalog_dir"])]) == 2  # fmt: skip
    assert "is after" in capsys.readouterr().err
    assert cli_main(["reprocess", "--dataset", "nope", "--from", "2026-11-01", "--to", "2026-11-30",
                     "--catalog", str(setup["catalog_dir"])]) == 2  # fmt: skip
    assert "unknown dataset" in capsys.readouterr().err
