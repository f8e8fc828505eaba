"""The NDRC report DAG: the period a run reports, and one run by ``airflow dags test`` (SQLite
metadata, tasks in-process) that writes October's report from the fixture's warehouse. Parsing
(light, schedule, tasks, pool) is tested with the other DAG files in tests/dags/test_dag_files.py."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from etl.orchestration.airflow_env import airflow_environment, prepare, run_airflow, sqlite_url
from etl.report import run
from etl.settings import PROJECT_ROOT

DAG_FILE = PROJECT_ROOT / "dags" / "ndrc_report.py"

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
