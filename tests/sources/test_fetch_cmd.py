"""``credit-etl fetch`` end to end, in process: a landing zone, a database window, usage errors."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pymysql
import pytest
from source_deliveries import delivery_of

from etl.cli import main

LANDING_SOURCE = "admin_penalty__wjw__landing"


@pytest.fixture
def environment(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("CREDIT_ETL_WAREHOUSE", f"duckdb:///{tmp_path}/warehouse.duckdb")
    monkeypatch.setenv("CREDIT_ETL_STORAGE", str(tmp_path / "storage"))
    monkeypatch.setenv("CREDIT_ETL_LANDING", str(tmp_path / "landing"))
    return tmp_path


def test_fetch_from_a_landing_zone_prints_one_ledger_row_per_delivery(environment, demo, capsys):
    source_file, record = delivery_of(demo, LANDING_SOURCE)
    incoming = environment / "landing" / "wjw" / "admin_penalty" / "incoming"
    incoming.mkdir(parents=True)
    shutil.copy(source_file, incoming / "one.csv")
    shutil.copy(source_file, incoming / "two.csv")  # the same bytes: a duplicate

    code = main(["fetch", "--source", LANDING_SOURCE, "--stable-seconds", "0.2", "--json"])

    out, _ = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["file_name"], r["status"]) for r in rows] == [("one.csv", "loaded"), ("two.csv", "duplicate")]
    assert rows[0]["rows_loaded"] == record["rows"]
    assert all(Path(p).exists() for p in rows[0]["feedback_paths"])


def test_a_refused_file_makes_fetch_exit_1(environment, capsys):
    incoming = environment / "landing" / "wjw" / "admin_penalty" / "incoming"
    incoming.mkdir(parents=True)
    (incoming / "link.csv").symlink_to("/etc/hostname")

    assert main(["fetch", "--source", LANDING_SOURCE, "--no-wait"]) == 1
    _, err = capsys.readouterr()
    assert "refused: link.csv (SYMLINK)" in err


@pytest.mark.mariadb
def test_fetch_pulls_a_database_window(environment, demo, capsys, monkeypatch):
    path, _ = delivery_of(demo, "tax_credit_grade_a__tax__database")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][:10]
    table = f"src_{uuid.uuid4().hex[:10]}"
    connection = pymysql.connect(host="127.0.0.1", user="root", password="", database="test", autocommit=True,
                                 charset="utf8mb4")  # fmt: skip
    names = list(rows[0])
    try:
        with connection.cursor() as cursor:
            texts = ", ".join(f"{n} VARCHAR(300)" for n in names if n != "updated_at")
            cursor.execute(f"CREATE TABLE {table} ({texts}, updated_at DATETIME)")
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
                [[f"2026-11-0{1 + i % 3} 10:00:00" if n == "updated_at" else r[n] for n in names]
                 for i, r in enumerate(rows)],
            )  # fmt: skip
        catalog_dir = environment / "catalog"
        shutil.copytree(Path(__file__).resolve().parents[2] / "catalog_yaml", catalog_dir)
        dataset_file = catalog_dir / "datasets" / "tax_credit_grade_a.yaml"
        dataset_file.write_text(dataset_file.read_text(encoding="utf-8").replace(
            "table: credit_exchange.v_nsxy_ajnsr", f"table: test.{table}"), encoding="utf-8")
        monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", "mysql://root@127.0.0.1:3306/test")

        code = main(["fetch", "--source", "tax_credit_grade_a__tax__database", "--catalog", str(catalog_dir),
                     "--since", "2026-11-02", "--until", "2026-11-03"])  # fmt: skip

        out, _ = capsys.readouterr()
        assert code == 0
        (line,) = out.splitlines()
        _, status, read, loaded, rejected, _, file_name = line.split("  ")
        expected = sum(1 for i in range(len(rows)) if i % 3 == 1)
        assert (status, int(read), int(loaded), int(rejected)) == ("loaded", expected, expected, 0)
        assert file_name == "tax_credit_grade_a__tax__database__20261102T000000-20261103T000000.parquet"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        connection.close()


def test_usage_errors_are_reported_without_a_traceback(environment, capsys, monkeypatch):
    assert main(["fetch", "--source", LANDING_SOURCE, "--since", "2026-11-01"]) == 2
    assert "apply to database sources" in capsys.readouterr().err
    assert main(["fetch", "--source", "no_such__source__landing"]) == 2
    assert "unknown source" in capsys.readouterr().err
    assert main(["fetch", "--source", "tax_credit_grade_a__tax__database", "--since", "1 Nov"]) == 2
    assert "is not a date" in capsys.readouterr().err
    monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", "mysql://root:secret@127.0.0.1:1/test")
    assert main(["fetch", "--source", "tax_credit_grade_a__tax__database", "--until", "2026-11-01"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach database 'db_tax' (mysql://root@127.0.0.1:1/test)" in err
    assert "secret" not in err and "Traceback" not in err
    monkeypatch.delenv("AIRFLOW_CONN_DB_TAX")
    assert main(["fetch", "--source", "tax_credit_grade_a__tax__database"]) == 2
    assert "set AIRFLOW_CONN_DB_TAX" in capsys.readouterr().err
