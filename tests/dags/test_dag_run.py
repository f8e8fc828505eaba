"""One landing-zone DAG run end to end by `airflow dags test` (SQLite metadata, tasks in-process):
the delivery is claimed, processed through the mapped task, archived, its feedback sent to the outbox,
the ledger written and the dataset's Asset updated; a second run finds nothing and updates nothing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from etl.catalog import load_catalog
from etl.dag_specs import asset_uri
from etl.demo_data import generate
from etl.orchestration.airflow_env import prepare, run_airflow
from etl.warehouse import open_warehouse

SOURCE = "admin_penalty__jt__landing"
ROWS = 40
MISSING_REQUIRED = 0.1  # 4 rows miss a required cell: rejected


@pytest.fixture
def landing_env(airflow_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    manifest = generate(tmp_path / "demo", seed=11, rows=ROWS, sources=[SOURCE],
                        defect_rates={"missing_required": MISSING_REQUIRED})  # fmt: skip
    assert [d["source_id"] for d in manifest["deliveries"]] == [SOURCE]
    env = {**airflow_env, "CREDIT_ETL_LANDING": str(tmp_path / "demo" / "landing"),
           "CREDIT_ETL_STABLE_SECONDS": "0.5"}  # fmt: skip
    prepare(env)
    return env


def asset_events(env: dict[str, str], uri: str) -> int:
    database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM asset_event JOIN asset ON asset.id = asset_event.asset_id "
            "WHERE asset.uri = ?",
            (uri,),
        ).fetchone()
    return int(count)


def test_a_landing_dag_runs_end_to_end_and_updates_its_asset_only_when_rows_loaded(landing_env):
    ref = load_catalog().source(SOURCE)
    zone = Path(landing_env["CREDIT_ETL_LANDING"]) / ref.dataset.landing_directory(ref.source)
    (delivered,) = sorted(p.name for p in (zone / "incoming").iterdir())

    run_airflow(["dags", "test", SOURCE], landing_env, timeout=240)

    warehouse = open_warehouse(f"duckdb:///{landing_env['CREDIT_ETL_HOME']}/warehouse.duckdb")
    (row,) = warehouse.ledger(dataset="admin_penalty")
    assert (row.status, row.file_name, row.source) == ("loaded_with_rejections", delivered, SOURCE)
    assert (row.rows_read, row.rows_loaded, row.rows_rejected) == (ROWS, ROWS - 4, 4)
    assert warehouse.table_snapshot(ref.dataset.table).num_rows == ROWS - 4
    assert list((zone / "incoming").iterdir()) == [] and list((zone / "processing").iterdir()) == []
    (archived,) = (zone / "archive").rglob("*__*")
    assert archived.name == f"{row.sha256}__{delivered}"
    assert sorted(p.suffix for p in (zone / "outbox").iterdir()) == [".csv", ".xlsx"]
    assert asset_events(landing_env, asset_uri(ref.dataset.table)) == 1
    # The audit task ran GX on the delivery's sample after process and kept its result.
    (audit,) = (Path(landing_env["CREDIT_ETL_HOME"]) / "storage" / "gx_audit").rglob("*.json")
    assert audit.stem == row.sha256
    assert json.loads(audit.read_text(encoding="utf-8"))["agrees"]

    run_airflow(["dags", "test", SOURCE], landing_env, timeout=240)

    assert [r.ledger_id for r in warehouse.ledger(dataset="admin_penalty")] == [row.ledger_id]
    assert asset_events(landing_env, asset_uri(ref.dataset.table)) == 1, "nothing loaded: no Asset event"
