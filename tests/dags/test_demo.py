"""`make demo` (``python -m etl.demo``) on a fresh home: deliveries written, department tables in the
local PostgreSQL, the SFTP folders served by the demo SFTP server, Airflow's SQLite metadata created,
every DAG of ``dags/`` run once through Airflow (sources first, Asset-scheduled next, the rest last), a
summary printed. ``make ui`` (``python -m etl.demo ui``) then serves the same runs through ``airflow
standalone``'s REST API. Run again, the demo gives the same summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from dag_helpers import parse_dags

from etl.catalog import load_catalog
from etl.orchestration import demo_sources
from etl.orchestration.airflow_env import airflow_environment, free_port, sqlite_url
from etl.orchestration.process_group import group_alive, stop_group
from etl.warehouse import open_warehouse

pytestmark = pytest.mark.postgres

CATALOG = load_catalog()
SOURCES = {ref.id for ref in CATALOG.sources()}
UI_START_TIMEOUT = 240


def demo_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CREDIT_ETL_", "AIRFLOW"))}
    env["CREDIT_ETL_HOME"] = str(home)
    return env


def demo(home: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "etl.demo", "--scale", "0.05"], env=demo_env(home),
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def summary_table(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 6 and re.fullmatch(r"[a-z_]+", parts[0]) and parts[1].isdigit():
            rows[parts[0]] = parts[1:5]
    return rows


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    home = tmp_path_factory.mktemp("demo-home")
    try:
        yield home, demo(home)
    finally:
        demo_sources.drop(home / "demo")  # the department databases of this home only


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The DAG folder as Airflow's DAG processor parses it (whatever DAG files it holds today)."""
    tmp = tmp_path_factory.mktemp("parse")
    env = airflow_environment(tmp / "airflow", sqlite_url(tmp / "airflow" / "airflow.db"))
    env.update(CREDIT_ETL_HOME=str(tmp / "home"))
    return parse_dags(env, tmp / "report.json")


def sftp_port(work: Path) -> int:
    exports = (work / "airflow.env").read_text(encoding="utf-8")
    return int(re.search(r'AIRFLOW_CONN_SFTP_PBC=.*"port": (\d+)', exports).group(1))


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        return True
    return False


@pytest.mark.timeout(900)
def test_make_demo_runs_every_dag_of_the_folder_through_airflow(first_run, folder):
    home, out = first_run
    work = home / "demo"
    results = [json.loads(line) for line in (work / "airflow-runs.jsonl").read_text().splitlines()]
    order = [r["dag_id"] for r in results]
    assert folder["import_errors"] == {}
    assert sorted(order) == sorted(folder["dags"]), "every DAG in dags/ ran once, and nothing else"
    assert set(order[: len(SOURCES)]) == SOURCES, "the source DAGs run first"
    timetables = {dag_id: dag["timetable"] for dag_id, dag in folder["dags"].items()}
    on_assets = [i for i, dag_id in enumerate(order) if timetables[dag_id].startswith("Asset")]
    others = [i for i, dag_id in enumerate(order) if dag_id not in SOURCES and i not in on_assets]
    assert max(on_assets, default=-1) < min(others, default=len(order)), "Asset-scheduled before the rest"
    failed = {r["dag_id"]: r.get("error") or r["tasks"] for r in results if r["state"] != "success"}
    assert failed == {}
    assert f"{len(results)} of {len(results)} DAG runs succeeded" in out

    ledger = open_warehouse(f"duckdb:///{work}/warehouse.duckdb").ledger()
    assert {r.source for r in ledger} == SOURCES, "every landing, SFTP and database source delivered"
    for row in ledger:
        assert row.rows_loaded > 0 and row.rows_read == row.rows_loaded + row.rows_rejected
    table = summary_table(out)
    assert set(table) == set(CATALOG.datasets)
    assert all(int(deliveries) > 0 for deliveries, _, _, _ in table.values())

    # SFTP: fetched over the demo server, archived on it where the source has an archive folder.
    pbc = work / "sftp" / "pbc" / "credit" / "jbzh"
    assert [p.name for p in pbc.glob("*.csv")] == []
    (archived,) = (pbc / "done").glob("jbzh_*.csv")
    assert sorted(p.name for p in (pbc / "done").iterdir()) == [archived.name, f"{archived.name}.ok"]
    assert not port_open(sftp_port(work)), "the SFTP server stopped with the demo"
    assert oct((work / "airflow.env").stat().st_mode & 0o777) == "0o600"
    exports = (work / "airflow.env").read_text(encoding="utf-8")
    assert f"/{demo_sources.database_prefix(work)}db_tax" in exports, "this home's own department databases"

    assert "feedback files for the departments" in out
    assert any((work / "storage" / "feedback").rglob("*.xlsx"))
    (report_line,) = [line for line in out.splitlines() if line.startswith("quality report: ")]
    if (Path(__file__).parents[2] / "etl" / "cli" / "report_cmd.py").exists():
        assert (work / "report" / "report.html").is_file() and str(work / "report") in report_line
    else:
        assert "no `credit-etl report`" in report_line
    assert "make ui" in out and "airflow standalone" in out and "DAG freshness_monitor: success" in out
    assert re.search(r"demo finished in \d+ s", out)


def api(port: int, path: str, token: str | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def ui(home: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m etl.demo ui`` in its own process group; SIGTERM (its clean-up stops standalone and the
    SFTP server), then the group and any process left with this home's AIRFLOW_HOME are killed."""
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "etl.demo", "ui", "--port", str(port)],
                                   env=demo_env(home), stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, process_group=0)  # fmt: skip
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=60)
        stop_group(process.pid, [process], grace=5)
        for pid in processes_with(f"AIRFLOW_HOME={home / 'airflow'}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def processes_with(variable: str) -> list[int]:
    """Processes whose environment holds ``variable`` (NAME=value): what a clean stop must leave none of."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if variable.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


@pytest.mark.timeout(600)
def test_make_ui_serves_the_demo_dags_and_their_runs_through_airflow_standalone(first_run, folder, tmp_path):
    home, _ = first_run
    port = free_port()
    with ui(home, port, tmp_path / "ui.log") as process:
        deadline = time.monotonic() + UI_START_TIMEOUT
        while not port_open(port):
            assert process.poll() is None, (tmp_path / "ui.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "ui.log").read_text(errors="replace")[-3000:]
            time.sleep(1)
        while True:  # the API server listens before it answers
            with contextlib.suppress(OSError):
                if api(port, "/api/v2/monitor/health")["metadatabase"]["status"] == "healthy":
                    break
            assert time.monotonic() < deadline
            time.sleep(1)
        # [core] simple_auth_manager_all_admins: the simple auth manager hands a token without credentials.
        token = api(port, "/auth/token")["access_token"]
        dags = api(port, "/api/v2/dags?limit=500", token)
        assert sorted(d["dag_id"] for d in dags["dags"]) == sorted(folder["dags"])
        for dag_id in folder["dags"]:
            runs = api(port, f"/api/v2/dags/{dag_id}/dagRuns", token)["dag_runs"]
            assert [r["state"] for r in runs] == ["success"], dag_id
        assert port_open(sftp_port(home / "demo")), "the SFTP DAGs' server runs beside the UI"
        live_sftp = sftp_port(home / "demo")
    assert not group_alive(process.pid)
    assert processes_with(f"AIRFLOW_HOME={home / 'airflow'}") == []
    assert not port_open(port) and not port_open(live_sftp), "the UI and the SFTP server are gone"


@pytest.mark.timeout(900)
def test_make_demo_runs_again_with_the_same_summary(first_run):
    home, out = first_run
    again = demo(home)
    assert summary_table(again) == summary_table(out), "a second run starts over and gives the same summary"
