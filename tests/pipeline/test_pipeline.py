"""process_drop end to end on the synthetic deliveries, on DuckDB and PostgreSQL.

The answer keys written by the generator are the oracle: the rows the pipeline rejects must be
exactly the rows injected with a rejecting defect, and normalised defects must be loaded.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from etl.catalog import Catalog
from etl.demo_data import generate
from etl.drop import receive_file
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.warehouse import open_warehouse


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    manifest = generate(out, seed=7, scale=0.4)
    return out, manifest


def answer_key(out: Path, delivery: dict) -> dict[int, str]:
    with (out / delivery["answer_key"]).open(encoding="utf-8") as handle:
        return {int(r["row"]): r["expected"] for r in csv.DictReader(handle)}


def ingest(path: Path, delivery: dict, catalog: Catalog, warehouse, storage: Storage):
    drop = receive_file(storage, path, dataset=delivery["dataset"], department=delivery["department"],
                        source=delivery["source_id"])
    return process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage, batch_rows=64)


def quarantined_rows(warehouse, delivery_id: str) -> set[int]:
    table = warehouse.table_snapshot("quarantine").to_pylist()
    return {r["source_row"] for r in table if r["delivery_id"] == delivery_id}


def test_rejections_equal_the_answer_key_for_every_delivery(demo, catalog, tmp_path):
    out, manifest = demo
    warehouse = open_warehouse(f"duckdb:///{tmp_path}/w.duckdb")
    warehouse.init(catalog)
    storage = Storage(tmp_path / "storage")
    for delivery in manifest["deliveries"]:
        result = ingest(out / delivery["path"], delivery, catalog, warehouse, storage)
        key = answer_key(out, delivery)
        expected_rejected = {row for row, outcome in key.items() if outcome == "rejected"}
        ledger = result.ledger
        assert ledger.rows_read == delivery["rows"], delivery["path"]
        assert ledger.rows_read == ledger.rows_loaded + ledger.rows_rejected
        assert quarantined_rows(warehouse, ledger.delivery_id) == expected_rejected, delivery["path"]
        expected_normalised = sum(1 for outcome in key.values() if outcome == "normalised")
        assert result.normalised_cells >= expected_normalised, delivery["path"]


def test_same_delivery_twice_is_a_duplicate_and_changes_nothing(demo, catalog, warehouse_url, tmp_path):
    out, manifest = demo
    delivery = next(d for d in manifest["deliveries"] if d["source_id"] == "admin_penalty__scjg__landing")
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    storage = Storage(tmp_path / "storage")
    first = ingest(out / delivery["path"], delivery, catalog, warehouse, storage)
    snapshot = {t: warehouse.table_snapshot(t) for t in ("admin_penalty", "quarantine", "subjects")}
    second = ingest(out / delivery["path"], delivery, catalog, warehouse, storage)
    assert first.ledger.status == "loaded_with_rejections"
    assert second.ledger.status == "duplicate"
    for table, before in snapshot.items():
        assert warehouse.table_snapshot(table).equals(before), table
    statuses = [row.status for row in warehouse.ledger(dataset="admin_penalty")]
    assert sorted(statuses) == ["duplicate", "loaded_with_rejections"]


def test_corrected_redelivery_replaces_what_it_corrects(demo, catalog, warehouse_url, tmp_path):
    out, manifest = demo
    delivery = next(d for d in manifest["deliveries"] if d["source_id"] == "admin_penalty__wjw__landing")
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    storage = Storage(tmp_path / "storage")
    original = out / delivery["path"]
    first = ingest(original, delivery, catalog, warehouse, storage)
    loaded = first.ledger.rows_loaded

    # The clerk corrects one penalty's content and sends the file again.
    text = original.read_bytes().decode(delivery["encoding"])
    rows = list(csv.reader(text.splitlines()))
    header = rows[0]
    content = header.index(next(h for h in header if h.startswith("处罚内容")))
    target = next(i for i, r in enumerate(rows[1:], start=2) if i not in answer_key(out, delivery))
    rows[target - 1][content] = rows[target - 1][content] + "（更正）"
    corrected = tmp_path / "corrected.csv"
    with corrected.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    second = ingest(corrected, delivery, catalog, warehouse, storage)

    assert second.ledger.status == "loaded_with_rejections"
    current = warehouse.table_snapshot("admin_penalty")
    assert current.num_rows == loaded  # updated in place, never duplicated
    history = warehouse.table_snapshot("admin_penalty_history").to_pylist()
    assert len(history) == 1 and not history[0]["penalty_content"].endswith("（更正）")
    updated = [r for r in current.to_pylist() if r["penalty_content"].endswith("（更正）")]
    assert len(updated) == 1 and updated[0]["_source_row"] == target


def test_file_rejected_whole_gets_a_ledger_row_and_feedback(catalog, tmp_path):
    warehouse = open_warehouse(f"duckdb:///{tmp_path}/w.duckdb")
    warehouse.init(catalog)
    storage = Storage(tmp_path / "storage")
    path = tmp_path / "处罚.csv"
    header = "行政相对人名称,行政相对人类别,违法行为类型,违法事实,处罚依据,处罚类别,处罚决定日期,处罚机关"
    path.write_text(f"{header}\n某公司,法人及非法人组织,a,b,c,警告,2026-10-08,柳州市市场监督管理局\n",
                    encoding="utf-8")
    delivery = {"dataset": "admin_penalty", "department": "scjg", "source_id": "admin_penalty__scjg__landing"}
    result = ingest(path, delivery, catalog, warehouse, storage)
    assert result.ledger.status == "rejected"
    assert result.ledger.error_reason == "MISSING_COLUMNS"
    assert "行政处罚决定书文号" in result.ledger.error_message
    feedback = (tmp_path / "storage" / result.feedback.csv_key).read_text(encoding="utf-8-sig")
    assert "整个文件" in feedback and "行政处罚决定书文号" in feedback
    assert storage.exists(Storage.raw_key(result.ledger.sha256))  # the raw file is kept


def test_ingest_command_prints_the_ledger_row_as_json(demo, catalog, tmp_path, capsys, monkeypatch):
    from etl.cli import main

    out, manifest = demo
    delivery = next(d for d in manifest["deliveries"] if d["source_id"] == "admin_penalty__yjgl__landing")
    monkeypatch.setenv("CREDIT_ETL_HOME", str(tmp_path))
    code = main(["ingest", str(out / delivery["path"]), "--dataset", "admin_penalty",
                 "--department", "yjgl", "--json"])
    row = json.loads(capsys.readouterr().out)
    assert code == 0
    assert row["rows_read"] == delivery["rows"] == row["rows_loaded"] + row["rows_rejected"]
    assert all(Path(p).exists() for p in row["feedback_paths"])
    assert {Path(p).suffix for p in row["feedback_paths"]} == {".xlsx", ".csv"}


def test_gx_audit_runs_gx_on_a_sample_after_the_load_and_keeps_it(demo, tmp_path, monkeypatch, capsys):
    from etl.cli import main

    out, manifest = demo
    delivery = next(d for d in manifest["deliveries"] if d["source_id"] == "admin_penalty__yjgl__landing")
    monkeypatch.setenv("CREDIT_ETL_HOME", str(tmp_path))
    code = main(["ingest", str(out / delivery["path"]), "--dataset", "admin_penalty",
                 "--department", "yjgl", "--json", "--gx-audit"])
    row = json.loads(capsys.readouterr().out)
    audit = row["gx_audit"]
    assert code == 0 and audit["agrees"] and audit["differences"] == []
    assert audit["rows"] == min(delivery["rows"], 5000) and not audit["success"]
    # The identifier checks are GX expectations of their own in GX's result.
    failed = {f["type"] for f in audit["failed"]}
    assert "expect_column_values_to_be_valid_uscc" in failed, failed
    assert audit["evaluated_expectations"] > audit["successful_expectations"]
    stored = tmp_path / "storage" / "gx_audit" / "yjgl" / "admin_penalty" / f"{row['sha256']}.json"
    assert json.loads(stored.read_text(encoding="utf-8"))["failed"] == audit["failed"]


def test_ingest_command_refuses_unknown_input_cleanly(tmp_path, capsys):
    from etl.cli import main

    assert main(["ingest", str(tmp_path / "missing.csv"), "--dataset", "admin_penalty"]) == 2
    assert "no such file" in capsys.readouterr().err
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    assert main(["ingest", str(path), "--dataset", "admin_penalty"]) == 2
    assert "give --department" in capsys.readouterr().err
    assert main(["ingest", str(path), "--dataset", "no_such_dataset"]) == 2
    assert "unknown dataset" in capsys.readouterr().err
