"""The NDRC report DAG: parsed light, scheduled on the 1st and 16th at 08:00 Shanghai, and one run by
``airflow dags test`` (SQLite metadata, tasks in-process) that writes October's report from the
fixture's warehouse."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etl.orchestration.airflow_env import airflow_environment, prepare, run_airflow, sqlite_url
from etl.report import run
from etl.settings import PROJECT_ROOT

DAG_FILE = PROJECT_ROOT / "dags" / "ndrc_report.py"

PROBE = """
import json, sys
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["ndrc_report"]
print(json.dumps({
    "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "timetable": [type(dag.timetable).__name__, str(dag.timetable.expression), str(dag.timetable.timezone)],
    "catchup": dag.catchup, "max_active_runs": dag.max_active_runs,
    "tasks": {t.task_id: [sorted(t.upstream_task_ids), t.pool, t.retries] for t in dag.tasks},
    "heavy": sorted(m for m in ("pandas", "pyarrow", "duckdb", "psycopg", "great_expectations",
                                "openpyxl", "etl.report.run", "etl.report.metrics", "etl.warehouse.base")
                    if m in sys.modules),
}))
"""


def test_the_dag_file_parses_light_and_runs_on_the_first_and_sixteenth(tmp_path: Path) -> None:
    env = airflow_environment(tmp_path / "airflow", sqlite_url(tmp_path / "airflow" / "airflow.db"))
    env["CREDIT_ETL_WAREHOUSE"] = f"duckdb:///{tmp_path}/w.duckdb"
    done = subprocess.run([sys.executable, "-c", PROBE, str(DAG_FILE)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["errors"] == {} and report["heavy"] == []
    assert report["timetable"] == ["CronTriggerTimetable", "0 8 1,16 * *", "Asia/Shanghai"]
    assert (report["catchup"], report["max_active_runs"]) == (False, 1)
    assert report["tasks"] == {
        "period": [[], "default_pool", 3],
        "write": [["period"], "duckdb_warehouse", 3],
    }


@pytest.mark.parametrize(
    ("logical_date", "expected"),
    [
        (dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC), "2026-10"),  # 08:00 on 11-01 in Shanghai
        (dt.datetime(2026, 11, 16, 0, tzinfo=dt.UTC), "2026-11-H1"),
        (dt.datetime(2027, 1, 1, 0, tzinfo=dt.UTC), "2026-12"),
        (dt.datetime(2026, 10, 31, 17, tzinfo=dt.UTC), "2026-10"),  # already 11-01 in Shanghai
    ],
)
def test_a_run_reports_the_period_just_ended(logical_date: dt.datetime, expected: str) -> None:
    assert run.period_of_run(logical_date)["key"] == expected


def test_a_run_by_airflow_writes_the_report(tmp_path: Path) -> None:
    from report_fixture import build_warehouse

    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(DAG_FILE, dags)  # only this DAG: parsing the catalog's DAGs is another test's job
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    build_warehouse(tmp_path, url)
    env = airflow_environment(tmp_path / "airflow", sqlite_url(tmp_path / "airflow" / "airflow.db"),
                              dags_folder=dags)  # fmt: skip
    env.update({"CREDIT_ETL_HOME": str(tmp_path / "home"), "CREDIT_ETL_WAREHOUSE": url,
                "CREDIT_ETL_CATALOG": str(tmp_path / "catalog_yaml"),
                "CREDIT_ETL_REPORTS": str(tmp_path / "reports")})  # fmt: skip
    prepare(env)
    run_airflow(["dags", "test", "ndrc_report", "2026-11-01T00:00:00+00:00"], env, timeout=600)

    out = tmp_path / "reports" / "2026-10"
    assert {p.name for p in out.iterdir()} == {"report.html", "report.xlsx", "metrics.json", "data_docs"}
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    overview = metrics["overview"]
    assert (metrics["period"]["key"], overview["deliveries"], overview["rows_loaded"]) == ("2026-10", 3, 5)
    assert (out / metrics["datasets"][0]["data_docs"]).is_file()
