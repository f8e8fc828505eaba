"""Database pulls against the real MariaDB (127.0.0.1:3306) and PostgreSQL (127.0.0.1:5432).

Each test creates its own table, seeded from the synthetic tax bureau export, and drops it after.
The pulled Parquet is read back from the storage root to check exactly which rows a window pulled.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pyarrow.parquet as pq
import pytest
from database_source import SOURCE, SourceTable, at, pull, source_ref, tax_rows
from tcp_proxy import CuttingProxy

from etl.catalog import Catalog
from etl.errors import SourceError
from etl.sources import Window
from etl.sources import database as database_module
from etl.storage import Storage

KEY = ("tax_reg_no", "list_year")
CORRECTED = "国家税务总局柳州市税务局（复核更正）"


@pytest.fixture(scope="module")
def seed_rows(demo) -> list[dict]:
    return tax_rows(demo)


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

        def broken_loading(ledger, dataset):
            raise ConnectionError("warehouse went away")

        with monkeypatch.context() as patch:
            patch.setattr(warehouse, "loading", broken_loading)
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

