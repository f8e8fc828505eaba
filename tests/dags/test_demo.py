"""`make demo` (``python -m etl.demo``) on a fresh home: deliveries written, department tables in the
local PostgreSQL, Airflow's SQLite metadata created, every landing and database DAG run once through
Airflow, a summary printed; run again, it gives the same summary.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from etl.catalog import load_catalog
from etl.warehouse import open_warehouse

pytestmark = pytest.mark.postgres


def demo(home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CREDIT_ETL_", "AIRFLOW"))}
    env["CREDIT_ETL_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-m", "etl.demo", "--scale", "0.05"], env=env, capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def summary_table(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 6 and re.fullmatch(r"[a-z_]+", parts[0]) and parts[1].isdigit():
            rows[parts[0]] = parts[1:5]
    return rows


def test_make_demo_runs_every_dag_through_airflow_and_again(tmp_path):
    catalog = load_catalog()
    out = demo(tmp_path)
    work = tmp_path / "demo"
    runs = (work / "airflow-runs.jsonl").read_text(encoding="utf-8").splitlines()
    results = [json.loads(line) for line in runs]
    ran = {r["dag_id"] for r in results}
    not_sftp = {ref.id for ref in catalog.sources() if ref.source.method != "sftp"}
    assert not_sftp <= ran
    assert all(f"DAG {ref.id}: not run (no SFTP server in the demo)" in out
               for ref in catalog.sources() if ref.source.method == "sftp")  # fmt: skip
    assert f"of {len(results)} DAG runs succeeded" in out
    ledger = open_warehouse(f"duckdb:///{work}/warehouse.duckdb").ledger()
    assert {r.source for r in ledger} == not_sftp, "every landing and database DAG delivered"
    succeeded = {r["dag_id"] for r in results if r["state"] == "success"}
    for row in ledger:
        if row.source in succeeded:
            assert row.rows_loaded > 0 and row.rows_read == row.rows_loaded + row.rows_rejected
    table = summary_table(out)
    assert set(table) == set(catalog.datasets)
    assert "airflow standalone" in out and (work / "airflow.env").is_file()
    assert "feedback files for the departments" in out
    assert any((work / "storage" / "feedback").rglob("*.xlsx"))

    again = demo(tmp_path)
    assert summary_table(again) == table, "a second run starts over and gives the same summary"
