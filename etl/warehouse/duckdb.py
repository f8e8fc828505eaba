"""The embedded DuckDB warehouse: one file, loaded straight from the staged Parquet.

DuckDB lets one process at a time open a database file for writing. Airflow runs tasks in
parallel processes, so the DAGs give every task that writes the embedded warehouse the Airflow
pool ``duckdb_warehouse`` of one slot; on top of that, opening the file retries with back-off
for ``lock_timeout`` seconds while another process holds it (a CLI command run by hand, say),
then gives up with a clear message. PostgreSQL has no such limit.

Accepted rows arrive as Arrow batches and go in with ``INSERT … SELECT`` from the registered batch
(``etl.warehouse.loading``); the staged rejected rows are read with ``read_parquet($path)`` — the
path is a bound parameter — or, under an object-storage URI, scanned through pyarrow.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from etl.errors import WarehouseError
from etl.warehouse import statements as st
from etl.warehouse.base import RowsWriter, Session, StagedFile, Warehouse, bind
from etl.warehouse.schema import DIALECTS, Column, DatasetTable, Dialect, internal_ident
from etl.warehouse.urls import WarehouseUrl

LOCK_MESSAGE = "Could not set lock"
# DuckDB's own memory, beyond which it spills to ``<file>.tmp``; its default is 80 % of the machine.
# A bulk load runs as fast under 512 MB (960,000 rows: 9.5 s, peak 0.44 GB) as without (11 s, 1.0 GB),
# and a delivery's peak stops growing with its size (pipeline: 0.82 GB at 1M rows, 0.90 GB at 5M;
# with 1 GB: 0.89 and 1.43 GB).
MEMORY_LIMIT = "512MB"
STREAMING_MEMORY_LIMIT = "256MB"


class DuckDBSession(Session):
    dialect = DIALECTS["duckdb"]
    replaces_in_place = True
    derives_columns = True

    def __init__(self, connection: duckdb.DuckDBPyConnection, memory_limit: str = MEMORY_LIMIT) -> None:
        self.connection = connection
        self.memory_limit = memory_limit
        self._registered = 0

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        result = self.connection.execute(sql, bind(sql, params))
        row = result.fetchone()
        return int(row[0]) if row else 0

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, bind(sql, params)).fetchall()

    def script(self, sql: str) -> None:
        self.connection.execute(sql)

    def arrow(self, sql: str) -> pa.Table:
        return self.connection.sql(sql).to_arrow_table()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.connection.begin()
        try:
            yield
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()

    def _source(self, staged: StagedFile) -> tuple[str, dict[str, Any]]:
        """SQL that reads ``staged`` and the parameters it needs."""
        if staged.local_path is not None:
            return "read_parquet($staged_path)", {"staged_path": str(staged.local_path)}
        import pyarrow.dataset as ds

        self._registered += 1
        name = f"_staged_{self._registered}"
        self.connection.register(name, ds.dataset(str(staged.location), format="parquet"))
        return internal_ident(name), {}

    def stage(self, name: str, columns: Sequence[Column], staged: StagedFile) -> None:
        source, params = self._source(staged)
        selected = _casts(columns, self.dialect)
        sql = f"CREATE OR REPLACE TEMP TABLE {internal_ident(name)} AS SELECT {selected} FROM {source}"
        self.connection.execute(sql, params)

    def scratch(self, name: str, sql: str) -> None:
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {internal_ident(name)} AS {sql}")

    @contextmanager
    def streaming(self) -> Iterator[None]:
        # The reader and the validation of the next batch keep the other core busy meanwhile: a
        # second DuckDB thread only contends with them (1M rows on two cores: 5.5-5.9 s instead of
        # 6.1-6.2 s for the whole delivery). DuckDB keeps the row groups it has written in its buffers
        # up to its limit, so a lower one while rows stream keeps a large delivery's peak down (5M
        # rows: 1.07 GB instead of 1.16; 1M rows: 0.92 GB either way). The merge and the commit after
        # it get every thread and the whole limit back.
        self.connection.execute("SET threads = 1")
        self.connection.execute("SET memory_limit = $limit", {"limit": STREAMING_MEMORY_LIMIT})
        yield
        self.connection.execute("RESET threads")
        self.connection.execute("SET memory_limit = $limit", {"limit": self.memory_limit})

    def create_scratch_table(self, name: str, columns: Sequence[Column]) -> None:
        ddl = ", ".join(c.ddl(self.dialect) for c in columns)
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {internal_ident(name)} ({ddl})")

    @contextmanager
    def rows_sink(
        self,
        target: str,
        columns: Sequence[Column],
        constants: Mapping[str, str],
        derived: Mapping[str, str] | None = None,
    ) -> Iterator[RowsWriter]:
        values = {f"constant_{i}": value for i, value in enumerate(constants.values())}
        by_name = dict(zip(constants, values, strict=True))

        def selected(delivered: pa.Schema) -> str:
            def value(column: Column) -> str:
                if column.name in by_name:
                    return f"CAST(${by_name[column.name]} AS {self.dialect.types[column.logical_type]})"
                if column.name not in delivered.names and derived and column.name in derived:
                    return derived[column.name]
                return f"CAST({column.quoted} AS {self.dialect.types[column.logical_type]})"

            return ", ".join(f"{value(c)} AS {c.quoted}" for c in columns)

        def write_all(batches: Iterator[pa.RecordBatch]) -> None:
            # One INSERT pulling every batch: DuckDB fills its row groups and writes them as they fill
            # (an INSERT per batch took three times as long and held them all in memory to the commit).
            first = next(batches, None)
            if first is None:
                return
            rows = pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))
            names = st.select_list(tuple(columns))
            sql = f"INSERT INTO {target} ({names}) SELECT {selected(first.schema)} FROM _rows_in"
            self.connection.register("_rows_in", rows)
            self.connection.execute(sql, values)  # on an error the transaction is over anyway
            self.connection.unregister("_rows_in")

        yield write_all

    def replace_changed(self, table: DatasetTable) -> None:
        # In place: deleting and re-inserting a record costs DuckDB more than updating its columns.
        self.connection.execute(st.update_changed_sql(table, st.staged_rows_sql(table, "changed")))


def _casts(columns: Sequence[Column], dialect: Dialect) -> str:
    return ", ".join(f"CAST({c.quoted} AS {dialect.types[c.logical_type]}) AS {c.quoted}" for c in columns)


class DuckDBWarehouse(Warehouse):
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = (duckdb.Error,)

    def __init__(
        self, url: WarehouseUrl, *, lock_timeout: float = 10.0, memory_limit: str = MEMORY_LIMIT
    ) -> None:
        super().__init__(url)
        assert url.path is not None
        self.path = url.path
        self.lock_timeout = lock_timeout
        self.memory_limit = memory_limit

    def _exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def _connect(self, *, create: bool = False) -> Iterator[DuckDBSession]:
        if not create and not self._exists():
            raise WarehouseError(f"no warehouse at {self.url.display}; run `credit-etl warehouse init`")
        connection = self._open()
        try:
            # Never let a SQL name resolve to a Python variable of the caller.
            connection.execute("SET python_enable_replacements = false")
            # Row order in a table means nothing here (reads order explicitly), and keeping it
            # serialises bulk inserts: about twice as fast without.
            connection.execute("SET preserve_insertion_order = false")
            # Bounded, so a delivery's load takes the same memory at any size (it spills instead).
            connection.execute("SET memory_limit = $limit", {"limit": self.memory_limit})
            # A long load would otherwise draw DuckDB's progress bar into the output of a command.
            connection.execute("SET enable_progress_bar = false")
            yield DuckDBSession(connection, self.memory_limit)
        finally:
            connection.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            message = f"cannot create the directory of warehouse {self.url.display}: {exc}"
            raise WarehouseError(message) from exc
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if LOCK_MESSAGE not in str(exc):
                    raise WarehouseError(f"cannot open warehouse {self.url.display}: {exc}") from exc
                if time.monotonic() + delay > deadline:
                    raise WarehouseError(
                        f"warehouse {self.url.display} is locked by another process after waiting "
                        f"{self.lock_timeout:g} s (DuckDB allows one writer; Airflow tasks share the "
                        f"one-slot pool duckdb_warehouse): {exc}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot open warehouse {self.url.display}: {exc}") from exc
