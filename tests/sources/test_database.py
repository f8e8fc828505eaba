"""Database pulls against the real MariaDB (127.0.0.1:3306) and PostgreSQL (127.0.0.1:5432).

Each test creates its own table, seeded from the synthetic tax bureau export, and drops it after.
The pulled Parquet is read back from the storage root to check exactly which rows a window pulled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pymysql
import pytest
from source_deliveries import delivery_of
from tcp_proxy import CuttingProxy

from etl.catalog import Catalog, SourceRef
from etl.drop import SHANGHAI
from etl.errors import SourceError
from etl.sources import FetchOptions, Window, run_source
from etl.sources import database as database_module
from etl.storage import Storage

SOURCE = "tax_credit_grade_a__tax__database"
KEY = ("tax_reg_no", "list_year")
CORRECTED = "国家税务总局柳州市税务局（复核更正）"
SQL_TYPES = {
    "mariadb": {"string": "VARCHAR(500)", "date": "DATE", "decimal": "DECIMAL(20,6)", "integer": "BIGINT",
                "watermark": "DATETIME"},
    "postgresql": {"string": "text", "date": "date", "decimal": "numeric(20,6)", "integer": "bigint",
                   "watermark": "timestamptz"},
}  # fmt: skip


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


class SourceTable:
    """A department table in one of the two databases, named uniquely for the test."""

    def __init__(self, dialect: str, ref: SourceRef) -> None:
        self.dialect = dialect
        self.name = f"src_{uuid.uuid4().hex[:10]}"
        self.fields = [(f.name, "watermark" if f.name == ref.source.watermark else
                        f.type if f.type in ("date", "decimal", "integer") else "string")
                       for f in ref.dataset.fields]  # fmt: skip
        self.uri = ("mysql://root@127.0.0.1:3306/test" if dialect == "mariadb"
                    else "postgres://postgres@127.0.0.1:5432/test")  # fmt: skip
        self.qualified = f"test.{self.name}" if dialect == "mariadb" else f"public.{self.name}"

    def connect(self) -> Any:
        if self.dialect == "mariadb":
            return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database="test",
                                   autocommit=True, charset="utf8mb4")  # fmt: skip
        return psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True)

    def execute(self, sql: str, rows: list[tuple] | None = None) -> None:
        with self.connect() as connection, connection.cursor() as cursor:
            if rows is None:
                cursor.execute(sql)
            else:
                cursor.executemany(sql, rows)

    def create(self) -> None:
        types = SQL_TYPES[self.dialect]
        columns = ", ".join(f"{name} {types[kind]}" for name, kind in self.fields)
        self.execute(f"CREATE TABLE {self.name} ({columns})")

    def drop(self) -> None:
        self.execute(f"DROP TABLE IF EXISTS {self.name}")

    def value(self, kind: str, value: Any) -> Any:
        if value is None:
            return None
        if kind == "watermark":
            moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
            moment = moment.astimezone(SHANGHAI)
            return moment.replace(tzinfo=None) if self.dialect == "mariadb" else moment
        return value

    def insert(self, rows: list[dict]) -> None:
        names = [name for name, _ in self.fields]
        values = [tuple(self.value(kind, row[name]) for name, kind in self.fields) for row in rows]
        marks = ", ".join(["%s"] * len(names))
        self.execute(f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({marks})", values)

    def update(self, key: tuple[str, int], *, authority: str, updated_at: dt.datetime) -> None:
        stamp = self.value("watermark", updated_at)
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"UPDATE {self.name} SET authority = %s, updated_at = %s "
                           "WHERE tax_reg_no = %s AND list_year = %s", (authority, stamp, *key))  # fmt: skip
            assert cursor.rowcount == 1


@pytest.fixture(scope="module")
def seed_rows(demo) -> list[dict]:
    path, _ = delivery_of(demo, SOURCE)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    # Spread the watermarks over 1-20 November so that the windows below split them.
    for index, row in enumerate(rows):
        row["updated_at"] = at(1 + index % 20, 9 + index % 8, index % 60).isoformat()
    return rows


def wm(row: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(row["updated_at"])


def keys(rows: list[dict]) -> set[tuple[str, int]]:
    return {(r["tax_reg_no"], int(r["list_year"])) for r in rows}


@pytest.fixture(params=[pytest.param("mariadb", marks=pytest.mark.mariadb),
                        pytest.param("postgresql", marks=pytest.mark.postgres)])  # fmt: skip
def table(request: pytest.FixtureRequest, catalog: Catalog, monkeypatch) -> Iterator[SourceTable]:
    ref = catalog.source(SOURCE)
    source_table = SourceTable(request.param, ref)
    source_table.create()
    monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", source_table.uri)
    yield source_table
    source_table.drop()


def source_ref(catalog: Catalog, source_table: SourceTable, **changes: Any) -> SourceRef:
    ref = catalog.source(SOURCE)
    update = {"table": source_table.qualified, **changes}
    return dataclasses.replace(ref, source=ref.source.model_copy(update=update))


def pull(ref, catalog, storage, warehouse, since=None, until=None, **options):
    window = Window(since, until) if until is not None else None
    options.setdefault("chunk_rows", 16)
    return run_source(ref, catalog=catalog, storage=storage, warehouse=warehouse,
                      options=FetchOptions(window=window, **options))


def pulled_keys(storage: Storage, sha256: str) -> list[tuple[str, int]]:
    table = pq.read_table(storage.local_path(Storage.raw_key(sha256)))
    return [(r["tax_reg_no"], int(r["list_year"])) for r in table.select(list(KEY)).to_pylist()]


def warehouse_rows(warehouse) -> dict[tuple[str, int], dict]:
    rows = warehouse.table_snapshot("tax_credit_grade_a").to_pylist()
    return {(r["tax_reg_no"], r["list_year"]): r for r in rows}


# -- incremental pulls -----------------------------------------------------------------------------


def test_pulls_pick_up_exactly_the_new_and_changed_rows(table, seed_rows, catalog, storage, warehouse):
    ref = source_ref(catalog, table)
    history = [r for r in seed_rows if wm(r) < at(11)]
    held_back = [r for r in seed_rows if wm(r) >= at(11)][:2]
    table.insert(history)

    (first,) = pull(ref, catalog, storage, warehouse, None, at(11)).results
    assert first.ledger.status == "loaded" and first.ledger.rows_loaded == len(history)
    assert set(pulled_keys(storage, first.ledger.sha256)) == keys(history)
    assert first.ledger.change_date == max(wm(r) for r in history).date()

    changed = history[:3]
    for row in changed:
        table.update((row["tax_reg_no"], row["list_year"]), authority=CORRECTED,
                     updated_at=at(11, 10))  # fmt: skip
    table.insert([{**r, "updated_at": at(12, 8).isoformat()} for r in held_back])

    second = pull(ref, catalog, storage, warehouse, at(11), at(13))
    (result,) = second.results
    assert set(pulled_keys(storage, result.ledger.sha256)) == keys(changed) | keys(held_back)
    assert result.ledger.rows_read == 5 and result.ledger.status == "loaded"
    rows = warehouse_rows(warehouse)
    assert set(rows) == keys(history) | keys(held_back)
    assert {k for k, r in rows.items() if r["authority"] == CORRECTED} == keys(changed)
    assert warehouse.table_snapshot("tax_credit_grade_a_history").num_rows == 3

    assert pull(ref, catalog, storage, warehouse, at(13), at(14)).results == []  # nothing changed since
    (again,) = pull(ref, catalog, storage, warehouse, at(11), at(13)).results
    assert again.ledger.status == "duplicate"  # the same window again: the same bytes


def test_a_past_interval_pulls_exactly_its_rows(table, seed_rows, catalog, storage, warehouse):
    ref = source_ref(catalog, table)
    rows = [dict(r) for r in seed_rows]
    rows[0]["updated_at"] = at(5).isoformat()  # exactly at the start: inside
    rows[1]["updated_at"] = at(9).isoformat()  # exactly at the end: outside (the next interval's)
    table.insert(rows)
    expected = [r for r in rows if at(5) <= wm(r) < at(9)]

    (result,) = pull(ref, catalog, storage, warehouse, at(5), at(9)).results

    pulled = pulled_keys(storage, result.ledger.sha256)
    assert sorted(pulled) == sorted(keys(expected)) and len(pulled) == len(expected)
    assert result.ledger.rows_loaded == len(expected)
    # In watermark order: the file is the same whenever the interval is pulled.
    order = {(r["tax_reg_no"], int(r["list_year"])): wm(r) for r in rows}
    assert [order[k] for k in pulled] == sorted(order[k] for k in pulled)
    manifest = storage.read_json(f"{Storage.raw_key(result.ledger.sha256)}.pull.json")
    assert manifest["rows"] == len(expected)
    assert manifest["since"] == at(5).isoformat() and manifest["until"] == at(9).isoformat()
    # A backfill elsewhere does not move where the next scheduled pull starts.
    assert database_module.covered_until(storage, ref) is None


def test_an_empty_window_delivers_nothing(table, seed_rows, catalog, storage, warehouse):
    table.insert(seed_rows)
    run = pull(source_ref(catalog, table), catalog, storage, warehouse, at(25), at(26))
    assert run.results == [] and warehouse.ledger() == []
    assert "nothing to deliver" in run.report.notes[0]


# -- failures --------------------------------------------------------------------------------------


def test_an_unreachable_database_fails_clearly_and_loses_nothing(table, seed_rows, catalog, storage,
                                                                 warehouse, monkeypatch):  # fmt: skip
    table.insert(seed_rows)
    ref = source_ref(catalog, table)
    good = table.uri
    monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", good.replace(":3306/", ":1/").replace(":5432/", ":1/"))

    with pytest.raises(SourceError, match=r"cannot reach database 'db_tax' \(.*127\.0\.0\.1:1/test\)"):
        pull(ref, catalog, storage, warehouse)
    assert warehouse.ledger() == [] and storage.list("raw") == []
    assert database_module.covered_until(storage, ref) is None

    monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", good)
    (result,) = pull(ref, catalog, storage, warehouse).results  # from the beginning up to now
    assert result.ledger.rows_loaded == len(seed_rows)
    assert database_module.covered_until(storage, ref) is not None


def test_a_pull_cut_off_midway_is_retried_without_skipping_or_doubling(table, seed_rows, catalog, storage,
                                                                       warehouse, monkeypatch):  # fmt: skip
    table.insert(seed_rows)
    ref = source_ref(catalog, table)
    port = 3306 if table.dialect == "mariadb" else 5432
    proxy = CuttingProxy(("127.0.0.1", port), cut_after=9_000, cut={0})
    chunks: list[int] = []
    text_batch = database_module._text_batch

    def counted(part, *args):  # watches the chunks written, changes nothing
        chunks.append(len(part))
        return text_batch(part, *args)

    monkeypatch.setattr(database_module, "_text_batch", counted)
    with proxy.running():
        monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", table.uri.replace(f":{port}/", f":{proxy.port}/"))
        with pytest.raises(SourceError, match=r"failed: .*the same window is pulled again"):
            pull(ref, catalog, storage, warehouse, at(1), at(21))
        assert proxy.cuts == 1
        assert 0 < sum(chunks) < len(seed_rows)  # cut after some rows had arrived
        assert warehouse.ledger() == [] and storage.list("raw") == []

        (retried,) = pull(ref, catalog, storage, warehouse, at(1), at(21)).results
        (again,) = pull(ref, catalog, storage, warehouse, at(1), at(21)).results

    assert retried.ledger.status == "loaded" and retried.ledger.rows_loaded == len(seed_rows)
    assert sorted(pulled_keys(storage, retried.ledger.sha256)) == sorted(keys(seed_rows))
    assert again.ledger.status == "duplicate"
    assert len(warehouse_rows(warehouse)) == len(seed_rows)


@pytest.mark.mariadb
def test_a_pull_whose_load_failed_is_redone_in_place(catalog, seed_rows, storage, warehouse, monkeypatch):
    source_table = SourceTable("mariadb", catalog.source(SOURCE))
    source_table.create()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", source_table.uri)
        source_table.insert(seed_rows)
        ref = source_ref(catalog, source_table)

        def broken_load(batch):
            raise ConnectionError("warehouse went away")

        with monkeypatch.context() as patch:
            patch.setattr(warehouse, "load", broken_load)
            with pytest.raises(ConnectionError):
                pull(ref, catalog, storage, warehouse)
        assert [r.status for r in warehouse.ledger()] == ["failed"]
        assert database_module.covered_until(storage, ref) is None

        (result,) = pull(ref, catalog, storage, warehouse).results
        assert [r.status for r in warehouse.ledger()] == ["loaded"]
        assert result.ledger.rows_loaded == len(seed_rows) == len(warehouse_rows(warehouse))
    finally:
        source_table.drop()


# -- query sources ---------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_query_source_is_pulled_through_its_column_aliases(catalog, seed_rows, storage, warehouse,
                                                             monkeypatch):  # fmt: skip
    source_table = SourceTable("postgresql", catalog.source(SOURCE))
    source_table.create()
    try:
        as_json = {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres",
                   "schema": "test"}  # the JSON form of an Airflow connection
        monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", json.dumps(as_json))
        source_table.insert(seed_rows)
        columns = ", ".join('subject_name AS "纳税人名称"' if name == "subject_name" else name
                            for name, _ in source_table.fields)  # fmt: skip
        query = f"SELECT {columns} FROM {source_table.name}"
        ref = source_ref(catalog, source_table, table=None, query=query)
        (result,) = pull(ref, catalog, storage, warehouse, at(1), at(21)).results
        assert result.ledger.rows_loaded == len(seed_rows)
        names = pq.read_schema(storage.local_path(Storage.raw_key(result.ledger.sha256))).names
        assert "纳税人名称" in names
    finally:
        source_table.drop()


def test_window_bounds_are_compared_in_shanghai_time():
    utc = dt.datetime(2026, 11, 4, 16, 0, tzinfo=dt.UTC)
    assert database_module.bind_time(utc) == dt.datetime(2026, 11, 5, 0, 0)
    with pytest.raises(ValueError, match="empty pull window"):
        Window(at(5), at(5))


def test_tables_and_watermarks_that_are_not_safe_identifiers_are_refused():
    with pytest.raises(SourceError, match="not a safe SQL identifier"):
        database_module.pull_sql('"t" AS src', ["a", "updated_at"], "updated_at; drop", [], str, since=True)
    with pytest.raises(SourceError, match="no watermark column 'changed_at'"):
        database_module.pull_sql('"t" AS src', ["a", "updated_at"], "changed_at", [], str, since=True)

