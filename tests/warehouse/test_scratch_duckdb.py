"""One scratch DuckDB connection per thread: reused within a thread, never shared between two."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from etl.warehouse.schema import Column, DatasetTable
from etl.warehouse.scratch_duckdb import registered, scratch_connection
from etl.warehouse.staging import record_hashes

TABLE = DatasetTable(
    dataset_id="sample", name="sample", fields=(Column("name", "string", not_null=True),), dedup_key=("name",)
)


def test_each_thread_has_its_own_connection() -> None:
    together = threading.Barrier(4)

    def connections(_: int) -> tuple[object, object]:
        together.wait(timeout=10)  # all four threads alive at once, so none reuses another's thread
        return scratch_connection(), scratch_connection()

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(connections, range(4)))
    assert all(first is again for first, again in found)
    assert len({id(first) for first, _ in found} | {id(scratch_connection())}) == 5


def test_tables_are_unregistered_after_use() -> None:
    with registered(_scratch_test=pa.table({"n": [1]})) as connection:
        assert connection.sql("SELECT n FROM _scratch_test").fetchall() == [(1,)]
    assert "_scratch_test" not in {name for (name,) in connection.sql("SHOW TABLES").fetchall()}


def test_hashes_computed_on_many_threads_at_once_are_the_same() -> None:
    batches = [pa.table({"name": [f"柳州市{b}-{i}" for i in range(20_000)]}) for b in range(8)]
    expected = [record_hashes(batch, TABLE).to_pylist() for batch in batches]
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda batch: record_hashes(batch, TABLE).to_pylist(), batches * 3))
    assert found == expected * 3
