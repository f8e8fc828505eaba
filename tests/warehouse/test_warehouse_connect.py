"""Reaching the warehouse: URLs, defaults, unreachable servers, the DuckDB file lock, the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import etl.cli
from etl.errors import WarehouseError
from etl.warehouse import open_warehouse, parse_url
from etl.warehouse.duckdb import DuckDBWarehouse
from etl.warehouse.postgres import PostgresWarehouse


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("duckdb:///srv/credit/w.duckdb", "/srv/credit/w.duckdb"),
        ("duckdb:////srv/credit/w.duckdb", "/srv/credit/w.duckdb"),
        ("/srv/credit/w.duckdb", "/srv/credit/w.duckdb"),
        ("var/w.duckdb", "var/w.duckdb"),
    ],
)
def test_duckdb_urls(url: str, path: str) -> None:
    parsed = parse_url(url)
    assert (parsed.dialect, parsed.path) == ("duckdb", Path(path))
    assert isinstance(open_warehouse(url), DuckDBWarehouse)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://etl:s3cret@db:5432/credit?schema=etl",
        "postgres://etl:s3cret@db:5432/credit?schema=etl",
        "postgresql+psycopg://etl:s3cret@db:5432/credit?schema=etl",
    ],
)
def test_postgresql_urls(url: str) -> None:
    parsed = parse_url(url)
    assert parsed.schema == "etl"
    assert parsed.conninfo == "postgresql://etl:s3cret@db:5432/credit"
    assert parsed.display == "postgresql://etl@db:5432/credit?schema=etl"
    assert isinstance(open_warehouse(url), PostgresWarehouse)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty warehouse URL"),
        ("sqlite:///x.db", "unsupported warehouse URL 'sqlite:///x.db'"),
        ("duckdb://:memory:", "needs a file path"),
        ("postgresql://u@h/db?schema=Bad-Name", "not a safe SQL identifier"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(WarehouseError, match=message):
        parse_url(url)


def test_url_comes_from_the_environment_then_the_project_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CREDIT_ETL_WAREHOUSE", raising=False)
    monkeypatch.setenv("CREDIT_ETL_HOME", str(tmp_path / "home"))
    assert open_warehouse().url.path == tmp_path / "home" / "warehouse.duckdb"
    monkeypatch.setenv("CREDIT_ETL_WAREHOUSE", "postgresql://u@h/db")
    assert open_warehouse().url.display == "postgresql://u@h/db"
    assert open_warehouse(f"duckdb://{tmp_path}/x.duckdb").url.path == tmp_path / "x.duckdb"


@pytest.mark.postgres
def test_unreachable_postgresql_says_so_without_the_password() -> None:
    warehouse = open_warehouse("postgresql://postgres:hunter2@127.0.0.1:1/test?connect_timeout=3")
    with pytest.raises(WarehouseError) as caught:
        warehouse.ledger()
    message = str(caught.value)
    assert message.startswith("cannot connect to warehouse postgresql://postgres@127.0.0.1:1/test")
    assert "refused" in message
    assert "hunter2" not in message


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_named() -> None:
    with pytest.raises(WarehouseError, match=r"cannot connect to warehouse .*database \"no_such_db\""):
        open_warehouse("postgresql://postgres@127.0.0.1:5432/no_such_db").ledger()


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    """A second process that opens the DuckDB file (taking its lock) for ``seconds``."""
    code = (
        "import duckdb, sys, time\n"
        "c = duckdb.connect(sys.argv[1]); print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2])); c.close()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_duckdb_waits_for_a_lock_held_briefly_by_another_process(tmp_path: Path, small_catalog) -> None:
    path = tmp_path / "w.duckdb"
    holder = _hold_lock(path, 1.0)
    try:
        started = time.monotonic()
        report = DuckDBWarehouse(parse_url(str(path)), lock_timeout=20).init(small_catalog)
        assert report.migrations == ["0001_core", "0002_alerts", "0003_marts"]
        assert time.monotonic() - started >= 0.3  # it did have to wait
    finally:
        holder.kill()
        holder.wait()


def test_duckdb_gives_up_on_a_lock_held_too_long(tmp_path: Path, small_catalog) -> None:
    path = tmp_path / "w.duckdb"
    holder = _hold_lock(path, 30)
    try:
        with pytest.raises(WarehouseError, match=r"is locked by another process after waiting 0\.5 s"):
            DuckDBWarehouse(parse_url(str(path)), lock_timeout=0.5).init(small_catalog)
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    # Only this group: the test must not depend on other command groups being importable.
    assert "etl.cli.warehouse_cmd" in etl.cli.COMMAND_MODULES
    monkeypatch.setattr(etl.cli, "COMMAND_MODULES", ["etl.cli.warehouse_cmd"])
    return etl.cli.main


def test_cli_warehouse_init(cli, warehouse_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["warehouse", "init", "--warehouse", warehouse_url]) == 0
    out = capsys.readouterr().out
    assert "migrations applied: 0001_core" in out
    assert "    admin_penalty_history\n" in out
    assert cli(["warehouse", "init", "--warehouse", warehouse_url]) == 0
    out = capsys.readouterr().out
    assert "migrations applied: none (up to date)" in out and "tables created: 0" in out
    assert open_warehouse(warehouse_url).applied_migrations() == ["0001", "0002", "0003"]
    assert cli(["warehouse", "ledger", "--warehouse", warehouse_url]) == 0
    assert capsys.readouterr().out == "0 of 0 ledger row(s)\n"


def test_cli_reports_errors_without_a_traceback(cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["warehouse", "init", "--warehouse", "mysql://u@h/db"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("credit-etl warehouse: unsupported warehouse URL")
    assert "Traceback" not in err
    assert cli(["warehouse", "ledger", "--warehouse", "x.duckdb", "--status", "done"]) == 2
    assert "unknown status done" in capsys.readouterr().err


def test_cli_uses_the_environment_url(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CREDIT_ETL_WAREHOUSE", f"duckdb://{tmp_path}/env.duckdb")
    assert cli(["warehouse", "init"]) == 0
    assert f"warehouse duckdb://{tmp_path}/env.duckdb" in capsys.readouterr().out
    assert (tmp_path / "env.duckdb").exists()
