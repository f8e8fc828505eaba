"""A backfill through Airflow's own scheduler: `airflow backfill create` over past days of a database
pull, run by the real scheduler, DAG processor and API server (LocalExecutor, metadata on this
machine's PostgreSQL, a fresh database dropped after). The warehouse (DuckDB, so the one-slot pool is
in play) must hold exactly the rows whose watermark lies in the backfilled intervals; backfilling the
same range again (reprocessing the completed runs) must change nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from etl.catalog import load_catalog
from etl.demo_data import generate
from etl.drop import SHANGHAI
from etl.orchestration.airflow_env import AirflowServers, airflow_environment, free_port, prepare, run_airflow
from etl.warehouse import open_warehouse

pytestmark = pytest.mark.postgres

SOURCE = "tax_credit_grade_a__tax__database"
SERVER = "postgresql://postgres@127.0.0.1:5432"
SQL_TYPES = {"string": "text", "date": "date", "decimal": "numeric(20,6)", "integer": "bigint"}
# Logical dates of the backfilled runs: each covers [02:00 that day, 02:00 the next day) Shanghai.
FROM, TO = "2026-11-03T02:00:00+08:00", "2026-11-05T02:00:00+08:00"


def admin(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """A fresh Airflow metadata database and a department database, dropped after."""
    suffix = uuid.uuid4().hex[:10]
    names = (f"airflow_{suffix}", f"department_{suffix}")
    for name in names:
        admin(f"CREATE DATABASE {name}")
    yield names
    for name in names:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def seed_department_table(database: str, tmp_path: Path) -> list[dict]:
    """The tax bureau's view, its watermarks spread over 1-8 November."""
    ref = load_catalog().source(SOURCE)
    manifest = generate(tmp_path / "demo", seed=3, rows=48, sources=[SOURCE], defect_rate=0.0)
    path = tmp_path / "demo" / manifest["deliveries"][0]["path"]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for index, row in enumerate(rows):
        row["updated_at"] = dt.datetime(2026, 11, 1 + index % 8, index % 24, 7, tzinfo=SHANGHAI)
    schema, table = ref.source.table.split(".")
    names = [f.name for f in ref.dataset.fields]
    types = ["timestamptz" if n == ref.source.watermark else SQL_TYPES.get(f.type, "text")
             for n, f in zip(names, ref.dataset.fields, strict=True)]  # fmt: skip
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        columns = ", ".join(f"{n} {t}" for n, t in zip(names, types, strict=True))
        connection.execute(f"CREATE TABLE {schema}.{table} ({columns})")
        marks = ", ".join(["%s"] * len(names))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {schema}.{table} ({', '.join(names)}) VALUES ({marks})",
                               [tuple(row.get(n) for n in names) for row in rows])  # fmt: skip
    return rows


def metadata(env: dict[str, str], sql: str, *params: object) -> list[tuple]:
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def wait_for(what: str, check, timeout: float, servers: AirflowServers) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(2)
    logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(servers.log_dir.glob("*.log")))
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def backfill(env: dict[str, str], servers: AirflowServers, *extra: str) -> list[tuple]:
    """Creates a backfill over FROM..TO and waits until it is complete; its runs."""
    run_airflow(["backfill", "create", "--dag-id", SOURCE, "--from-date", FROM, "--to-date", TO, *extra], env)
    (backfill_id,) = metadata(env, "SELECT max(id) FROM backfill WHERE dag_id = %s", SOURCE)[0]

    def complete() -> bool:
        return bool(metadata(env, "SELECT 1 FROM backfill WHERE id = %s AND completed_at IS NOT NULL",
                             backfill_id))  # fmt: skip

    wait_for("the backfill", complete, 300, servers)
    return metadata(env, "SELECT state, data_interval_start, data_interval_end FROM dag_run "
                         "WHERE backfill_id = %s ORDER BY data_interval_start", backfill_id)  # fmt: skip


def test_backfilling_past_days_loads_exactly_their_rows_and_again_changes_nothing(databases, tmp_path):
    meta, department = databases
    rows = seed_department_table(department, tmp_path)
    home = tmp_path / "home"
    env = airflow_environment(home / "airflow", f"postgresql+psycopg://postgres@127.0.0.1:5432/{meta}",
                              api_port=free_port())  # fmt: skip
    env.update({"CREDIT_ETL_HOME": str(home), "AIRFLOW_CONN_DB_TAX": f"{SERVER}/{department}",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2"})  # fmt: skip
    for name in ("CREDIT_ETL_CATALOG", "CREDIT_ETL_STORAGE", "CREDIT_ETL_WAREHOUSE"):
        env.pop(name, None)
    prepare(env)
    with AirflowServers(env) as servers:
        parsed = "SELECT 1 FROM serialized_dag WHERE dag_id = %s"
        wait_for("the DAG to be parsed", lambda: metadata(env, parsed, SOURCE), 180, servers)
        run_airflow(["dags", "unpause", SOURCE], env)  # the scheduler starts no run of a paused DAG
        runs = backfill(env, servers)
        assert [state for state, _, _ in runs] == ["success"] * 3
        since, until = runs[0][1], runs[-1][2]
        assert (since, until) == (dt.datetime(2026, 11, 3, 2, tzinfo=SHANGHAI),
                                  dt.datetime(2026, 11, 6, 2, tzinfo=SHANGHAI))  # fmt: skip

        warehouse = open_warehouse(f"duckdb:///{home}/warehouse.duckdb")
        expected = {(r["tax_reg_no"], int(r["list_year"])) for r in rows if since <= r["updated_at"] < until}
        assert 0 < len(expected) < len(rows)
        table = warehouse.table_snapshot("tax_credit_grade_a")
        loaded = set(zip(table["tax_reg_no"].to_pylist(), table["list_year"].to_pylist(), strict=True))
        assert loaded == expected
        ledger = warehouse.ledger(dataset="tax_credit_grade_a")
        assert sorted(r.status for r in ledger) == ["loaded"] * 3

        again = backfill(env, servers, "--reprocess-behavior", "completed")
        assert [state for state, _, _ in again] == ["success"] * 3
        assert warehouse.table_snapshot("tax_credit_grade_a").equals(table)
        new = [r for r in warehouse.ledger(dataset="tax_credit_grade_a") if r.ledger_id not in
               {old.ledger_id for old in ledger}]  # fmt: skip
        assert sorted(r.status for r in new) == ["duplicate"] * 3
