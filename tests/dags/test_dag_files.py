"""The DAG files, parsed as Airflow's DAG processor parses them: in a fresh interpreter, with every
outgoing connection refused and recorded.

Parse times are printed (``-s``), not asserted: ``python -m bench.dags`` measures them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dag_helpers import parse_dags

from bench.dags.generated_catalog import write_catalog
from etl.catalog import load_catalog
from etl.dag_specs import asset_uri

CATALOG = load_catalog()
# Unreachable on purpose: parsing must never try them.
CONNECTIONS = {
    "AIRFLOW_CONN_DB_TAX": "postgres://etl:secret@127.0.0.1:9/exchange",
    "AIRFLOW_CONN_SFTP_STHJ": "sftp://credit@127.0.0.1:9",
}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from etl.orchestration.airflow_env import airflow_environment, sqlite_url

    tmp = tmp_path_factory.mktemp("parse")
    env = airflow_environment(tmp / "airflow", sqlite_url(tmp / "airflow" / "airflow.db"))
    env.update(CONNECTIONS, CREDIT_ETL_HOME=str(tmp / "home"))
    env.pop("CREDIT_ETL_CATALOG", None)
    env.pop("CREDIT_ETL_WAREHOUSE", None)
    report = parse_dags(env, tmp / "report.json")
    print(f"\nshipped catalog: {len(report['dags'])} DAGs, file parsed in {report['parse_seconds']:.2f} s "
          f"({report['process_seconds']:.2f} s with the interpreter and Airflow's imports)")
    return report


def source_dags(report: dict) -> dict:
    """The DAGs of dags/credit_sources.py (the folder also holds other engineers' DAGs)."""
    return {dag_id: dag for dag_id, dag in report["dags"].items() if dag["file"] == "credit_sources.py"}


def test_every_catalog_source_has_one_dag_and_the_files_import_cleanly(shipped):
    assert shipped["import_errors"] == {}
    assert sorted(source_dags(shipped)) == sorted(ref.id for ref in CATALOG.sources())


def test_parsing_opens_no_connection_and_imports_nothing_heavy(shipped):
    assert shipped["connection_attempts"] == []
    assert shipped["heavy_modules"] == [], "GX, pandas, pyarrow, drivers and etl.tasks load only in tasks"


def test_schedules_follow_the_catalog(shipped):
    for ref in CATALOG.sources():
        dag = shipped["dags"][ref.id]
        expected = "CronDataIntervalTimetable" if ref.source.method == "database" else "CronTriggerTimetable"
        assert dag["timetable"] == expected, ref.id
        assert dag["timezone"] == "Asia/Shanghai" and dag["expression"] == ref.source.cron
        assert dag["max_active_runs"] == 1


def test_tags_retries_and_documentation_come_from_the_catalog(shipped):
    for ref in CATALOG.sources():
        dag = shipped["dags"][ref.id]
        department = CATALOG.departments[ref.source.department]
        assert f"department:{department.id}" in dag["tags"]
        assert f"domain:{CATALOG.domain_of(ref)}" in dag["tags"]
        for task in dag["tasks"].values():
            assert task["retries"] >= 2 and task["exponential"]
        doc = dag["doc_md"]
        assert ref.dataset.title in doc and department.name in doc and "时效要求" in doc
        if ref.source.method == "database":
            assert ref.source.conn_id in doc


def test_tasks_that_write_duckdb_share_its_one_slot_pool_and_publish_updates_the_asset(shipped):
    for ref in CATALOG.sources():
        tasks = shipped["dags"][ref.id]["tasks"]
        assert set(tasks) == {"discover", "process", "record", "publish", "audit"}
        assert tasks["process"]["pool"] == "duckdb_warehouse"
        assert tasks["audit"]["pool"] == "default_pool"  # GX's audit reads the archive, not the warehouse
        reads_ledger = ref.source.method == "sftp"
        assert (tasks["discover"]["pool"] == "duckdb_warehouse") == reads_ledger
        assert tasks["record"]["pool"] == "default_pool"
        assert tasks["publish"]["outlets"] == [asset_uri(ref.dataset.table)]
        assert all(not t["outlets"] for name, t in tasks.items() if name != "publish")


def test_a_postgresql_warehouse_needs_no_pool(tmp_path, airflow_env):
    env = {**airflow_env, "CREDIT_ETL_WAREHOUSE": "postgresql://etl@127.0.0.1:9/credit"}
    report = parse_dags(env, tmp_path / "report.json")
    assert report["connection_attempts"] == [] and report["import_errors"] == {}
    pools = {t["pool"] for dag in source_dags(report).values() for t in dag["tasks"].values()}
    assert pools == {"default_pool"}


def test_a_dataset_added_to_the_catalog_adds_its_dags(tmp_path, airflow_env):
    catalog_dir = write_catalog(tmp_path / "catalog", datasets=100)
    generated = load_catalog(catalog_dir)
    report = parse_dags({**airflow_env, "CREDIT_ETL_CATALOG": str(catalog_dir)}, tmp_path / "report.json")
    print(f"\n100-dataset catalog: {len(report['dags'])} DAGs, file parsed in "
          f"{report['parse_seconds']:.2f} s ({report['process_seconds']:.2f} s with the interpreter and "
          "Airflow's imports)")
    assert report["import_errors"] == {} and report["connection_attempts"] == []
    assert sorted(source_dags(report)) == sorted(ref.id for ref in generated.sources())
    added = next(ref for ref in generated.sources() if ref.dataset.id.endswith("_g050"))
    assert report["dags"][added.id]["tasks"]["publish"]["outlets"] == [asset_uri(added.dataset.table)]
    assert Path(catalog_dir / "datasets" / f"{added.dataset.id}.yaml").is_file()


def test_the_ndrc_report_dag_parses_with_the_source_dags(shipped):
    dag = shipped["dags"]["ndrc_report"]
    assert dag["file"] == "ndrc_report.py"
    assert (dag["timetable"], dag["expression"], dag["timezone"]) == (
        "CronTriggerTimetable", "0 8 1,16 * *", "Asia/Shanghai")  # fmt: skip
    assert set(dag["tasks"]) == {"period", "write"} and dag["tasks"]["write"]["pool"] == "duckdb_warehouse"
    assert all(task["retries"] >= 2 and task["exponential"] for task in dag["tasks"].values())
    assert dag["max_active_runs"] == 1 and "发改委" in dag["doc_md"]
