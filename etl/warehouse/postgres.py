"""The PostgreSQL warehouse, loaded with ``COPY`` through psycopg 3.

A load streams the accepted rows to the server in one ``COPY`` while the delivery is read
(``etl.warehouse.loading``), as CSV blocks written by pyarrow (in C++, while a psycopg thread sends
the previous block): into the dataset table when it is empty, else into the scratch table
``_stage_rows`` that the merge decides on. Nothing goes row by row through Python.

Writers of one dataset table serialise on a transaction-scoped advisory lock; different datasets
load in parallel. ``?schema=name`` in the URL puts every table in that schema (tests use one
schema per test).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import psycopg
import pyarrow as pa
import pyarrow.csv as pcsv
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.copy import QueuedLibpqWriter
from psycopg.sql import Identifier

from etl.errors import WarehouseError
from etl.warehouse import statements as st
from etl.warehouse.base import PARAM_PATTERN, RowsWriter, Session, StagedFile, Warehouse, bind
from etl.warehouse.loading import DuplicateKeys
from etl.warehouse.schema import DIALECTS, Column, DatasetTable, column_ident, ident, internal_ident
from etl.warehouse.urls import WarehouseUrl

BATCH_ROWS = 50_000
COPY_SLICE_ROWS = 10_000
# Scratch tables of a large delivery stay in memory instead of spilling to temporary files.
TEMP_BUFFERS = "256MB"
WORK_MEM = "256MB"
CONNECT_TIMEOUT_S = 10

_CSV = pcsv.WriteOptions(include_header=False, quoting_style="all_valid")

# psycopg type OIDs -> Arrow types, for snapshots.
_ARROW_BY_OID: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    25: pa.string(),
    114: pa.string(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    3802: pa.string(),
}


def _psycopg_sql(sql: str) -> str:
    """``$name`` parameters -> psycopg's ``%(name)s`` (our SQL never contains a literal ``%``)."""
    if "%" in sql:
        raise WarehouseError("SQL for PostgreSQL must not contain '%'")
    return PARAM_PATTERN.sub(r"%(\1)s", sql)


class PostgresSession(Session):
    dialect = DIALECTS["postgresql"]
    enforces_keys = True

    def __init__(self, connection: psycopg.Connection[Any], schema: str | None) -> None:
        self.connection = connection
        self.schema = schema

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        cursor = self.connection.execute(_psycopg_sql(sql), bind(sql, params))
        return max(cursor.rowcount, 0)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.connection.execute(_psycopg_sql(sql), bind(sql, params)).fetchall()

    def script(self, sql: str) -> None:
        self.connection.execute(sql)

    def arrow(self, sql: str) -> pa.Table:
        cursor = self.connection.execute(_psycopg_sql(sql))
        rows = cursor.fetchall()
        description = cursor.description or []
        arrays, names = [], []
        for index, column in enumerate(description):
            values = [r[index] for r in rows]
            if column.type_code == 1700:
                kind: pa.DataType = pa.decimal128(column.precision or 38, column.scale or 0)
            else:
                kind = _ARROW_BY_OID.get(column.type_code, pa.string())
                if kind == pa.string():
                    values = [None if v is None else str(v) for v in values]
            arrays.append(pa.array(values, kind))
            names.append(column.name)
        return pa.table(arrays, names=names)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.connection.transaction():
            yield

    def lock(self, key: str) -> None:
        lock_key = zlib.crc32(f"credit-etl:{self.schema}:{key}".encode())
        self.rows("SELECT pg_advisory_xact_lock(CAST($lock_key AS BIGINT))", {"lock_key": lock_key})

    def ensure_schema(self) -> None:
        if self.schema is not None:
            self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(self.schema)}")

    def stage(self, name: str, columns: Sequence[Column], staged: StagedFile) -> None:
        table = internal_ident(name)
        ddl = ", ".join(c.ddl(self.dialect) for c in columns)
        self.connection.execute(f"CREATE TEMP TABLE {table} ({ddl}) ON COMMIT DROP")
        self._copy(table, columns, _batches(staged, columns))
        # Without statistics the planner takes a scratch table for tiny and joins it row by row.
        self.connection.execute(f"ANALYZE {table}")

    def scratch(self, name: str, sql: str) -> None:
        table = internal_ident(name)
        self.connection.execute(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS {_psycopg_sql(sql)}")
        self.connection.execute(f"ANALYZE {table}")

    def create_scratch_table(self, name: str, columns: Sequence[Column]) -> None:
        ddl = ", ".join(c.ddl(self.dialect) for c in columns)
        self.connection.execute(f"CREATE TEMP TABLE {internal_ident(name)} ({ddl}) ON COMMIT DROP")

    @contextmanager
    def rows_sink(
        self,
        target: str,
        columns: Sequence[Column],
        constants: Mapping[str, str],
        derived: Mapping[str, str] | None = None,
    ) -> Iterator[RowsWriter]:
        if derived:
            raise WarehouseError("the PostgreSQL warehouse takes every column from the batch")
        # The constant columns are filled by a default set for the load's transaction: 100 bytes a row
        # the server would otherwise parse a million times. The value is a bound parameter read back
        # by the default, never SQL text.
        for index, (name, value) in enumerate(constants.items()):
            setting = f"credit_etl.constant_{index}"
            self.rows("SELECT set_config($setting, $value, true)", {"setting": setting, "value": value})
            column = column_ident(name)
            sql = f"ALTER TABLE {target} ALTER COLUMN {column} SET DEFAULT current_setting('{setting}')"
            self.connection.execute(sql)
        sent = [c for c in columns if c.name not in constants]
        names = ", ".join(c.quoted for c in sent)
        with self.connection.cursor() as cursor:
            writer = QueuedLibpqWriter(cursor)
            with cursor.copy(f"COPY {target} ({names}) FROM STDIN (FORMAT csv)", writer=writer) as copy:

                def write_all(batches: Iterator[pa.RecordBatch]) -> None:
                    for batch in batches:
                        batch = batch.select([c.name for c in sent])
                        # In slices, so that pyarrow writes the next while psycopg sends this one.
                        for offset in range(0, batch.num_rows, COPY_SLICE_ROWS):
                            sink = pa.BufferOutputStream()
                            pcsv.write_csv(batch.slice(offset, COPY_SLICE_ROWS), sink, _CSV)
                            copy.write(memoryview(sink.getvalue()))

                yield write_all
        for name in constants:
            self.connection.execute(f"ALTER TABLE {target} ALTER COLUMN {column_ident(name)} DROP DEFAULT")
        if target.startswith('"_'):  # a scratch table: the planner needs its statistics for the merge
            self.connection.execute(f"ANALYZE {target}")

    def replace_changed(self, table: DatasetTable) -> None:
        # The staged rows are appended from _stage_rows: delete the current versions first.
        self.execute(st.delete_changed_sql(table))

    @contextmanager
    def bulk_into_empty(self, table: DatasetTable) -> Iterator[None]:
        """Into an empty table, the primary key is dropped for the COPY and built once after it, in the
        load's transaction: one sorted build instead of a B-tree insertion per row (960,000 rows:
        25 + 4 s instead of 38 s). The table is locked until the load commits; it had no rows."""
        found = self.rows(
            "SELECT conname FROM pg_constraint WHERE conrelid = CAST($table AS regclass) AND contype = 'p'",
            {"table": ident(table.name)},
        )
        if not found:
            yield
            return
        name = Identifier(found[0][0]).as_string(self.connection)
        self.connection.execute(f"ALTER TABLE {ident(table.name)} DROP CONSTRAINT {name}")
        yield
        keys = ", ".join(ident(k) for k in table.dedup_key)
        try:
            with self.connection.transaction():  # a savepoint: the caller counts the repeated keys
                self.connection.execute(
                    f"ALTER TABLE {ident(table.name)} ADD CONSTRAINT {name} PRIMARY KEY ({keys})"
                )
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateKeys(f"table {table.name}: a dedup key occurs more than once") from exc

    def _copy(self, table: str, columns: Sequence[Column], batches: Iterator[pa.RecordBatch]) -> int:
        names = ", ".join(c.quoted for c in columns)
        written = 0
        with self.connection.cursor() as cursor:
            writer = QueuedLibpqWriter(cursor)
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)", writer=writer) as copy:
                for batch in batches:
                    sink = pa.BufferOutputStream()
                    pcsv.write_csv(batch, sink, _CSV)
                    copy.write(memoryview(sink.getvalue()))
                    written += batch.num_rows
        return written


def _batches(staged: StagedFile, columns: Sequence[Column]) -> Iterator[pa.RecordBatch]:
    yield from staged.file.iter_batches(batch_size=BATCH_ROWS, columns=[c.name for c in columns])


class PostgresWarehouse(Warehouse):
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = (psycopg.Error,)

    def __init__(self, url: WarehouseUrl) -> None:
        super().__init__(url)
        assert url.conninfo is not None
        self.schema = url.schema

    def _conninfo(self) -> str:
        given = conninfo_to_dict(self.url.conninfo or "")
        options = [given.get("options") or ""]
        options.append(f"-c temp_buffers={TEMP_BUFFERS} -c work_mem={WORK_MEM}")
        if self.schema is not None:
            options.append(f"-c search_path={self.schema}")
        extra: dict[str, Any] = {"options": " ".join(o for o in options if o), "client_encoding": "UTF8"}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = CONNECT_TIMEOUT_S
        return make_conninfo(self.url.conninfo or "", **extra)

    @contextmanager
    def _connect(self, *, create: bool = False) -> Iterator[PostgresSession]:
        try:
            connection = psycopg.connect(self._conninfo(), autocommit=True)
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())
            raise WarehouseError(f"cannot connect to warehouse {self.url.display}: {reason}") from exc
        try:
            yield PostgresSession(connection, self.schema)
        finally:
            connection.close()
