"""The freshness monitor DAG: parsed light, scheduled at 09:00 Shanghai, skipping days off, and one
run by ``airflow dags test`` (SQLite metadata, tasks in-process) that mails and posts the breaches
of a seeded ledger through the loopback servers."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowSkipException
from alert_ledger import FGW, SCJG, SOURCES, TAX, record
from alert_servers import LocalSmtpServer, RobotServer

from etl.alerts import monitor
from etl.alerts.store import read_alerts, read_messages
from etl.catalog import load_catalog
from etl.freshness import at
from etl.orchestration.airflow_env import airflow_environment, prepare, run_airflow, sqlite_url
from etl.settings import PROJECT_ROOT
from etl.warehouse import open_warehouse

DAG_FILE = PROJECT_ROOT / "dags" / "freshness_monitor.py"
UTC = dt.UTC

PROBE = """
import json, sys
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["freshness_monitor"]
print(json.dumps({
    "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "timetable": [type(dag.timetable).__name__, str(dag.timetable.expression), str(dag.timetable.timezone)],
    "catchup": dag.catchup, "max_active_runs": dag.max_active_runs,
    "tasks": {t.task_id: [sorted(t.upstream_task_ids), t.pool, t.retries] for t in dag.tasks},
    "heavy": sorted(m for m in ("pandas", "pyarrow", "duckdb", "psycopg", "great_expectations",
                                "etl.pipeline", "etl.alerts.run", "etl.warehouse.base") if m in sys.modules),
}))
"""


def test_the_dag_file_parses_light_and_runs_at_nine_in_shanghai(tmp_path: Path) -> None:
    env = airflow_environment(tmp_path / "airflow", sqlite_url(tmp_path / "airflow" / "airflow.db"))
    env["CREDIT_ETL_WAREHOUSE"] = f"duckdb:///{tmp_path}/w.duckdb"
    done = subprocess.run([sys.executable, "-c", PROBE, str(DAG_FILE)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["errors"] == {} and report["heavy"] == []
    assert report["timetable"] == ["CronTriggerTimetable", "0 9 * * *", "Asia/Shanghai"]
    assert (report["catchup"], report["max_active_runs"]) == (False, 1)
    assert report["tasks"] == {
        "monitor_day": [[], "default_pool", 3],
        "evaluate": [["monitor_day"], "duckdb_warehouse", 3],
        "record": [["evaluate", "monitor_day"], "duckdb_warehouse", 3],
        "notify": [["monitor_day", "record"], "duckdb_warehouse", 3],
    }


@pytest.mark.parametrize(
    ("logical_date", "expected"),
    [
        (dt.datetime(2026, 10, 16, 1, tzinfo=UTC), "2026-10-16"),  # Friday
        (dt.datetime(2026, 10, 10, 1, tzinfo=UTC), "2026-10-10"),  # Saturday, 调休上班
        (dt.datetime(2026, 10, 1, 1, tzinfo=UTC), None),  # 国庆节
        (dt.datetime(2026, 10, 11, 1, tzinfo=UTC), None),  # Sunday
        (dt.datetime(2026, 2, 17, 1, tzinfo=UTC), None),  # 春节
        (dt.datetime(2027, 1, 4, 1, tzinfo=UTC), "2027-01-04"),  # unknown year, Monday: run and say so
        (dt.datetime(2027, 1, 2, 1, tzinfo=UTC), None),  # unknown year, Saturday
    ],
)
def test_the_monitor_runs_on_working_days_only(logical_date: dt.datetime, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(AirflowSkipException, match="is not a working day"):
            monitor.monitor_day(logical_date)
    else:
        assert monitor.monitor_day(logical_date) == expected


def test_a_run_by_airflow_notifies_the_departments(
    tmp_path: Path, smtp_server: LocalSmtpServer, robots: RobotServer, catalog_dir: Path
) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(DAG_FILE, dags)  # only this DAG: parsing the catalog's DAGs is another test's job
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    warehouse = open_warehouse(url)
    warehouse.init(load_catalog(catalog_dir))
    record(warehouse, SOURCES[0], at(2026, 9, 20))
    record(warehouse, SOURCES[1], at(2026, 9, 20, 2), change=dt.date(2026, 9, 19))
    record(warehouse, SOURCES[1], at(2026, 9, 30, 2), "failed", change=dt.date(2026, 9, 30))
    record(warehouse, SOURCES[2], at(2026, 10, 9))

    env = airflow_environment(tmp_path / "airflow", sqlite_url(tmp_path / "airflow" / "airflow.db"),
                              dags_folder=dags)  # fmt: skip
    env.update({"CREDIT_ETL_HOME": str(tmp_path / "home"), "CREDIT_ETL_WAREHOUSE": url,
                "CREDIT_ETL_CATALOG": str(catalog_dir)})  # fmt: skip
    prepare(env)
    run_airflow(["dags", "test", "freshness_monitor", "2026-10-16T01:00:00+00:00"], env)

    assert sorted(m.recipients for m in smtp_server.mails) == [(TAX, FGW), (SCJG, FGW)]
    assert {m.subject for m in smtp_server.mails} == {
        "【超期提醒】市市场监管局公共信用信息报送：超期1项", "【升级督办】市税务局公共信用信息报送：超期2项",
    }  # fmt: skip
    posted_to = sorted(token or path for path, token, _ in robots.received)
    assert posted_to == ["/hook/tax", "token-fgw", "token-scjg"]
    assert all(m["sent_at"] is not None for m in read_messages(warehouse))
    assert {row.breach_id for row in read_alerts(warehouse)} == {
        "admin_penalty__scjg__landing:twice_monthly:2026-10-H1",
        "admin_penalty__tax__database:twice_monthly:2026-10-H1",
        "admin_penalty__tax__database:change:2026-09-30",
    }
