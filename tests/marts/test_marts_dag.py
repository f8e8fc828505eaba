"""``dags/credit_marts.py``: parsed light and scheduled on every dataset's Asset; one run by
``airflow dags test`` (SQLite metadata, task in-process) refreshes the marts of a loaded warehouse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from credit_fixture import A, C, court_rows, write_jsonl
from mart_helpers import Loader

from etl.catalog import Catalog
from etl.dag_specs import dataset_assets
from etl.orchestration.airflow_env import airflow_environment, prepare, run_airflow, sqlite_url
from etl.settings import PROJECT_ROOT
from etl.warehouse import open_warehouse

DAG_FILE = PROJECT_ROOT / "dags" / "credit_marts.py"

PROBE = """
import json, sys
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["credit_marts"]
timetable = dag.timetable
print(json.dumps({
    "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "timetable": type(timetable).__name__,
    "condition": type(timetable.asset_condition).__name__,
    "assets": sorted(a.uri for a in timetable.asset_condition.objects),
    "tasks": {t.task_id: [t.pool, t.retries] for t in dag.tasks},
    "max_active_runs": dag.max_active_runs,
    "heavy": sorted(m for m in ("pandas", "pyarrow", "duckdb", "psycopg", "great_expectations",
                                "etl.pipeline", "etl.marts.build", "etl.warehouse.base") if m in sys.modules),
}))
"""


def _parse(env: dict[str, str], folder: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(folder)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_dag_runs_when_any_dataset_is_loaded_and_parses_light(
    tmp_path: Path, shipped_catalog: Catalog
) -> None:
    env = airflow_environment(tmp_path / "airflow", sqlite_url(tmp_path / "airflow" / "airflow.db"))
    env["CREDIT_ETL_WAREHOUSE"] = f"duckdb:///{tmp_path}/w.duckdb"
    env.pop("CREDIT_ETL_CATALOG", None)
    report = _parse(env, DAG_FILE)
    assert report["errors"] == {} and report["heavy"] == []
    assert (report["timetable"], report["condition"]) == ("AssetTriggeredTimetable", "AssetAny")
    assert report["assets"] == sorted(dataset_assets(shipped_catalog).values())
    assert report["tasks"] == {"refresh": ["duckdb_warehouse", 3]} and report["max_active_runs"] == 1
    postgres = _parse({**env, "CREDIT_ETL_WAREHOUSE": "postgresql://etl@127.0.0.1:9/credit"}, DAG_FILE)
    assert postgres["tasks"] == {"refresh": ["default_pool", 3]}


def test_a_run_by_airflow_refreshes_the_marts(tmp_path: Path, shipped_catalog: Catalog) -> None:
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    warehouse = open_warehouse(url)
    warehouse.init(shipped_catalog)
    loaded = Loader(shipped_catalog, warehouse, tmp_path / "storage").deliver(
        write_jsonl(tmp_path / "sxbzxr.jsonl", court_rows()), "dishonest_judgment_debtor__court__database"
    )
    assert loaded.ledger.rows_loaded == 3
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(DAG_FILE, dags)  # only this DAG: the source DAGs are other tests' business
    env = airflow_environment(tmp_path / "airflow", sqlite_url(tmp_path / "airflow" / "airflow.db"),
                              dags_folder=dags)  # fmt: skip
    env.update({"CREDIT_ETL_HOME": str(tmp_path / "home"), "CREDIT_ETL_WAREHOUSE": url})
    env.pop("CREDIT_ETL_CATALOG", None)
    prepare(env)
    run_airflow(["dags", "test", "credit_marts", "2026-10-16T01:00:00+00:00"], env)
    refreshes = warehouse.table_snapshot("mart_refreshes").to_pylist()
    assert [(r["mode"], r["deliveries"]) for r in refreshes] == [("full", 1)]
    profiles = {p["subject_key"]: p for p in warehouse.table_snapshot("mart_subject_profiles").to_pylist()}
    assert profiles[A]["black_list_entries"] == 1 and profiles[C]["subject_kind"] == "idcard"
