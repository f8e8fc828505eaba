"""The warehouse interface and everything both backends share.

A backend supplies a ``Session`` (one connection for one operation: run SQL, fill a scratch table
from a staged Parquet file, stream Arrow batches into a table in bulk, run a transaction) and a way
to open it; the operations themselves — init, load (``etl.warehouse.loading``), ledger reads and
writes, snapshots — are written once here against that session, with the SQL from ``schema`` and
``statements``.

Every operation opens its own connection and closes it when done: a DuckDB file is locked only
while something is being written, and a task never holds a connection it is not using.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from etl.catalog import Catalog, Dataset
from etl.errors import WarehouseError
from etl.warehouse import statements as st
from etl.warehouse.ledger import LEDGER_COLUMNS, SHANGHAI, TIMESTAMP_COLUMNS, UNREAD_REJECTIONS, LedgerRow
from etl.warehouse.migrations import MIGRATIONS_DIR, SCHEMA_MIGRATIONS_DDL, discover
from etl.warehouse.schema import (
    DIALECTS,
    Column,
    DatasetTable,
    Dialect,
    add_column_sql,
    catalog_tables,
    column_ident,
    create_history_sql,
    create_table_sql,
    dataset_table,
    ident,
)
from etl.warehouse.staging import (
    REJECTED_SCHEMA,
    PathLike,
    accepted_schema,
    distinct_values,
    parquet_file,
    require_columns,
)
from etl.warehouse.urls import WarehouseUrl

if TYPE_CHECKING:
    from etl.warehouse.loading import DeliveryLoad

log = logging.getLogger(__name__)

# What ``Session.rows_sink`` yields: writes every batch of an iterator to its table.
RowsWriter = Callable[[Iterator[pa.RecordBatch]], None]

# Rows per batch when a staged accepted file is loaded.
LOAD_BATCH_ROWS = 50_000

# Named parameters are written $name (DuckDB style); the PostgreSQL backend rewrites them.
PARAM_PATTERN = re.compile(r"\$([a-z_][a-z0-9_]*)")

# SQL types of the ledger columns, for the casts that give bound parameters their type.
_LEDGER_TYPES = {
    **dict.fromkeys(
        ("ledger_id", "size_bytes", "rows_read", "rows_loaded", "rows_rejected", "reprocess_of"), "BIGINT"
    ),
    **dict.fromkeys(TIMESTAMP_COLUMNS, "TIMESTAMPTZ"),
    "change_date": "DATE",
    "feedback_paths": "JSON",
}


def bind(sql: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters ``sql`` uses (``$name``); raises if one is missing.

    >>> bind("SELECT $a, $a, $b", {"a": 1, "b": 2, "c": 3})
    {'a': 1, 'b': 2}
    """
    names = dict.fromkeys(PARAM_PATTERN.findall(sql))
    params = params or {}
    missing = [n for n in names if n not in params]
    if missing:
        raise WarehouseError(f"SQL parameter(s) {', '.join(missing)} not supplied")
    return {n: params[n] for n in names}


@dataclass(frozen=True)
class StagedFile:
    """A staged Parquet file: local path or storage URI, opened once."""

    location: PathLike
    file: pq.ParquetFile

    @classmethod
    def open(cls, location: PathLike) -> StagedFile:
        return cls(location, parquet_file(location))

    @property
    def local_path(self) -> Path | None:
        return None if "://" in str(self.location) else Path(self.location)

    @property
    def num_rows(self) -> int:
        return self.file.metadata.num_rows


class Session(ABC):
    """One connection of a backend, used by one operation."""

    dialect: Dialect
    # Whether the dataset tables' primary keys refuse a repeated dedup key by themselves.
    enforces_keys: ClassVar[bool] = False
    # Whether ``replace_changed`` writes the new versions itself (else the append brings them).
    replaces_in_place: ClassVar[bool] = False
    # Whether ``rows_sink`` computes ``derived`` columns (the record hash) in the database itself.
    derives_columns: ClassVar[bool] = False

    @abstractmethod
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Runs one statement; returns the number of rows it changed."""

    @abstractmethod
    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Runs one query; returns all its rows."""

    @abstractmethod
    def script(self, sql: str) -> None:
        """Runs several statements without parameters (a migration file)."""

    @abstractmethod
    def arrow(self, sql: str) -> pa.Table:
        """Runs one query without parameters; returns the result as an Arrow table."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Commits on leaving, rolls back on an exception."""

    @abstractmethod
    def stage(self, name: str, columns: Sequence[Column], staged: StagedFile) -> None:
        """Creates scratch table ``name`` (gone after the transaction) with ``columns`` of ``staged``."""

    @abstractmethod
    def scratch(self, name: str, sql: str) -> None:
        """Creates scratch table ``name`` (gone after the transaction) from a query without parameters."""

    @abstractmethod
    def create_scratch_table(self, name: str, columns: Sequence[Column]) -> None:
        """Creates the empty scratch table ``name`` (gone after the transaction)."""

    @abstractmethod
    def rows_sink(
        self,
        target: str,
        columns: Sequence[Column],
        constants: Mapping[str, str],
        derived: Mapping[str, str] | None = None,
    ) -> AbstractContextManager[RowsWriter]:
        """A function that appends the ``columns`` of every batch of an iterator to table ``target``
        (a quoted name), the columns named in ``constants`` taking that value instead, and those in
        ``derived`` (only where ``derives_columns``) computed by that SQL expression over the batch
        when the batch lacks them; the rows are all in when the context ends. It is called once,
        from another thread than the one that entered the context, and nothing else uses the
        session meanwhile."""

    @abstractmethod
    def replace_changed(self, table: DatasetTable) -> None:
        """Replaces the current version of the records ``_stage_changes`` marks changed (after their
        copy to history) with the staged one, in place or by deleting it for the append to bring."""

    def streaming(self) -> AbstractContextManager[None]:
        """Around rows streaming in while the delivery is read (and validated) beside them."""
        return nullcontext()

    def bulk_into_empty(self, table: DatasetTable) -> AbstractContextManager[None]:
        """Around streaming rows into ``table`` while it has none of its own (a backend may load it
        differently); raises ``DuplicateKeys`` on leaving when the rows repeat a key it enforces."""
        return nullcontext()

    def lock(self, key: str) -> None:  # noqa: B027 - only backends with parallel writers need it
        """Serialises writers of ``key`` until the transaction ends."""

    def ensure_schema(self) -> None:  # noqa: B027 - only backends with schemas need it
        """Creates the schema the tables live in, where the URL names one."""


@dataclass(frozen=True)
class LoadBatch:
    """One delivery ready to load: its ledger row and its staged accepted and rejected rows.

    ``accepted_path`` follows ``staging.accepted_schema(dataset)`` and ``rejected_path``
    ``staging.REJECTED_SCHEMA``; either may be None when there are no such rows. Their row counts
    must match ``ledger.rows_loaded`` and ``ledger.rows_rejected``.
    """

    ledger: LedgerRow
    dataset: Dataset
    accepted_path: PathLike | None
    rejected_path: PathLike | None = None


@dataclass(frozen=True)
class LoadReport:
    """What a load did. ``inserted + updated + unchanged`` = accepted rows; ``subjects`` counts the
    subjects the delivery added or changed (first or last sighting, name, type)."""

    ledger: LedgerRow
    loaded_at: dt.datetime
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    subjects: int = 0


@dataclass
class InitReport:
    migrations: list[str] = field(default_factory=list)
    created_tables: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)


class Warehouse(ABC):
    """The credit warehouse; ``etl.warehouse.open_warehouse(url)`` returns the right backend."""

    # Points inside the load transaction, in order; ``_checkpoint`` is called after each.
    LOAD_STAGES: ClassVar[tuple[str, ...]] = (
        "stage", "history", "replace", "append", "subjects", "quarantine", "ledger",
    )  # fmt: skip
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, url: WarehouseUrl) -> None:
        self.url = url

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url.display}>"

    @property
    def dialect(self) -> Dialect:
        return DIALECTS[self.url.dialect]

    @abstractmethod
    def _connect(self, *, create: bool = False) -> AbstractContextManager[Session]:
        """Opens a session; raises ``WarehouseError`` when the warehouse cannot be reached (or, unless
        ``create``, does not exist yet)."""

    @contextmanager
    def _session(self, action: str, *, create: bool = False) -> Iterator[Session]:
        try:
            with self._connect(create=create) as session:
                yield session
        except (*self.driver_errors, pa.ArrowException) as exc:  # Arrow: reading a staged file
            message = f"{action} failed in warehouse {self.url.display}: {_describe(exc)}"
            raise WarehouseError(message) from exc

    def _checkpoint(self, stage: str) -> None:  # noqa: B027 - a hook, deliberately empty
        """Called inside the load transaction after each stage; tests make it raise."""

    # -- init -------------------------------------------------------------------------------------

    def init(self, catalog: Catalog) -> InitReport:
        """Applies pending migrations, then creates or extends every dataset's tables. Idempotent."""
        tables = catalog_tables(catalog)
        migrations = discover(MIGRATIONS_DIR, self.dialect.name)
        report = InitReport()
        with self._session("init", create=True) as session, session.transaction():
            session.lock("init")
            session.ensure_schema()
            session.script(SCHEMA_MIGRATIONS_DDL)
            applied = dict(session.rows("SELECT version, checksum FROM schema_migrations"))
            for migration in migrations:
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        raise WarehouseError(
                            f"migration {migration.path.name} changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                session.script(migration.sql)
                session.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                    "VALUES ($version, $name, $checksum, now())",
                    {"version": migration.version, "name": migration.name, "checksum": migration.checksum},
                )
                report.migrations.append(f"{migration.version}_{migration.name}")
            registered = {
                name: (dataset, key)
                for name, dataset, key in session.rows(
                    "SELECT table_name, dataset, dedup_key FROM dataset_tables"
                )
            }
            for table in tables:
                self._init_table(session, table, registered.get(table.name), report)
        return report

    def _init_table(
        self, session: Session, table: DatasetTable, registered: tuple[str, str] | None, report: InitReport
    ) -> None:
        key = ",".join(table.dedup_key)
        current = _columns(session, table.name)
        if not current:
            session.script(create_table_sql(table, self.dialect))
            session.script(create_history_sql(table, self.dialect))
            session.execute(
                "INSERT INTO dataset_tables (table_name, dataset, dedup_key, created_at) "
                "VALUES ($table_name, $dataset, $dedup_key, now())",
                {"table_name": table.name, "dataset": table.dataset_id, "dedup_key": key},
            )
            report.created_tables += [table.name, table.history_name]
            return
        if registered is None:
            raise WarehouseError(f"table {table.name} exists but was not created by `warehouse init`")
        if registered != (table.dataset_id, key):
            raise WarehouseError(
                f"table {table.name} holds dataset {registered[0]} keyed on ({registered[1]}); the catalog "
                f"now says dataset {table.dataset_id} keyed on ({key}). Re-keying needs a written migration."
            )
        history = _columns(session, table.history_name)
        if not history:
            session.script(create_history_sql(table, self.dialect))
            report.created_tables.append(table.history_name)
            history = _columns(session, table.history_name)
        for column in table.fields:
            for name, present in ((table.name, current), (table.history_name, history)):
                if column.name not in present:
                    session.script(add_column_sql(name, column, self.dialect))
                    report.added_columns.append(f"{name}.{column.name}")

    def _exists(self) -> bool:
        """False when there is certainly no warehouse yet (a DuckDB file not created)."""
        return True

    def applied_migrations(self) -> list[str]:
        """Versions recorded in ``schema_migrations``, in order; empty before the first init."""
        if not self._exists():
            return []
        with self._session("reading schema_migrations") as session:
            if not _columns(session, "schema_migrations"):
                return []
            return [v for (v,) in session.rows("SELECT version FROM schema_migrations ORDER BY version")]

    # -- load -------------------------------------------------------------------------------------

    @contextmanager
    def loading(self, ledger: LedgerRow, dataset: Dataset) -> Iterator[DeliveryLoad]:
        """The load of one delivery, taking its accepted rows while they are produced and committing
        when the block ends without an error (``etl.warehouse.loading``). ``ledger`` is the attempt's
        row as far as it is known; ``DeliveryLoad.finish`` takes the final one."""
        from etl.warehouse.loading import DeliveryLoad

        if ledger.dataset != dataset.id:
            raise WarehouseError(
                f"delivery {ledger.delivery_id}: ledger row is for dataset {ledger.dataset}, not {dataset.id}"
            )
        table = dataset_table(dataset)
        with (
            self._session(f"load of delivery {ledger.delivery_id}") as session,
            session.transaction(),
            ExitStack() as streaming,
        ):
            yield DeliveryLoad.open(self, session, table, ledger, streaming)

    def load(self, batch: LoadBatch) -> LoadReport:
        """Merges one delivery staged as Parquet into the warehouse in one transaction: the dataset
        table (changed records' previous versions to history), subjects, quarantine and the ledger row."""
        from etl.warehouse.loading import staged_batches

        row = batch.ledger
        accepted = _check_accepted(batch, dataset_table(batch.dataset))
        with self.loading(row, batch.dataset) as load:
            if load.duplicate_of is None and accepted is not None:
                for rows in staged_batches(accepted.location, LOAD_BATCH_ROWS):
                    load.add_accepted(rows)
            return load.finish(row, batch.rejected_path)

    def _load_params(self, row: LedgerRow) -> dict[str, Any]:
        """The parameters of the load's statements."""
        return {
            "delivery_id": row.delivery_id,
            "dataset": row.dataset,
            "department": row.department,
            "received_at": row.received_at,
            "placeholder": _uscc_placeholder(),
        }

    def _processed_by_another(self, session: Session, row: LedgerRow) -> int | None:
        """The ledger id of another attempt that processed these bytes for this dataset and department
        (checked under the table's lock, so two workers cannot both load them); None for a reprocess.
        An attempt rejected for its name or kind of entry was never read, and processed nothing
        (``UNREAD_REJECTIONS``)."""
        if row.reprocess_of is not None:
            return None
        # Placeholders only: the reasons are bound like any value.
        unread = {f"unread_{i}": reason for i, reason in enumerate(UNREAD_REJECTIONS)}
        unread_params = ", ".join(f"${name}" for name in unread)
        found = session.rows(
            "SELECT ledger_id FROM deliveries WHERE sha256 = $sha256 AND dataset = $dataset "
            "AND department = $department AND status IN ('loaded', 'loaded_with_rejections', 'rejected') "
            f"AND COALESCE(error_reason, '') NOT IN ({unread_params}) "
            "AND ledger_id <> CAST($ledger_id AS BIGINT) ORDER BY ledger_id LIMIT 1",
            {"sha256": row.sha256, "dataset": row.dataset, "department": row.department,
             "ledger_id": row.ledger_id if row.ledger_id is not None else -1, **unread},
        )  # fmt: skip
        return int(found[0][0]) if found else None

    def _require_table(self, session: Session, table: DatasetTable) -> None:
        present = _columns(session, table.name)
        missing = [c.name for c in table.columns if c.name not in present]
        if missing:
            what = "does not exist" if not present else f"lacks columns {', '.join(missing)}"
            raise WarehouseError(
                f"table {table.name} {what} in {self.url.display}; run `credit-etl warehouse init`"
            )

    def _write_quarantine(self, session: Session, rejected: StagedFile | None, params: dict[str, Any]) -> int:
        if rejected is None:
            session.execute(st.DELETE_QUARANTINE_SQL, bind(st.DELETE_QUARANTINE_SQL, params))
            return 0
        session.execute(st.DELETE_UNREJECTED_SQL, bind(st.DELETE_UNREJECTED_SQL, params))
        return session.execute(st.UPSERT_QUARANTINE_SQL, bind(st.UPSERT_QUARANTINE_SQL, params))

    # -- ledger -----------------------------------------------------------------------------------

    def record_ledger(self, row: LedgerRow) -> LedgerRow:
        """Writes a ledger row on its own (duplicate, rejected-whole or failed deliveries); returns it
        with its ``ledger_id``. A row that has a ``ledger_id`` updates that row."""
        with self._session(f"recording delivery {row.delivery_id}") as session, session.transaction():
            # Rejected whole: two workers on the same file record it once (a name rejection, unread,
            # is recorded for each arrival).
            if row.is_processed and row.error_reason not in UNREAD_REJECTIONS:
                session.lock(f"delivery:{row.sha256}")
                earlier = self._processed_by_another(session, row)
                if earlier is not None:
                    return self._write_ledger(session, as_duplicate(row, f"与台账 {earlier} 相同"))
            return self._write_ledger(session, row)

    def _write_ledger(self, session: Session, row: LedgerRow) -> LedgerRow:
        values = _ledger_params(row)
        names = [c for c in LEDGER_COLUMNS if c != "ledger_id"]
        casts = {c: f"CAST(${c} AS {_LEDGER_TYPES.get(c, 'VARCHAR')})" for c in names}
        if row.ledger_id is None:
            sql = (
                f"INSERT INTO deliveries ({', '.join(names)})\n"
                f"VALUES ({', '.join(casts[c] for c in names)})\nRETURNING ledger_id"
            )
            ledger_id = session.rows(sql, values)[0][0]
            return row.replace(ledger_id=int(ledger_id))
        sql = (
            f"UPDATE deliveries SET {', '.join(f'{c} = {casts[c]}' for c in names)}\n"
            f"WHERE ledger_id = CAST($ledger_id AS BIGINT)"
        )
        if session.execute(sql, values) != 1:
            raise WarehouseError(f"no ledger row {row.ledger_id} to update for delivery {row.delivery_id}")
        return row

    def find_delivery(self, sha256: str, dataset: str, department: str) -> LedgerRow | None:
        """The latest ledger row (not itself a duplicate) of these bytes for this dataset and department."""
        rows = self._ledger_rows(
            "sha256 = $sha256 AND dataset = $dataset AND department = $department AND status <> 'duplicate'",
            {"sha256": sha256, "dataset": dataset, "department": department},
            order="ledger_id DESC LIMIT 1",
        )
        return rows[0] if rows else None

    def ledger(
        self,
        *,
        dataset: str | None = None,
        department: str | None = None,
        status: str | Sequence[str] | None = None,
        received_from: dt.datetime | None = None,
        received_before: dt.datetime | None = None,
        delivery_id: str | None = None,
    ) -> list[LedgerRow]:
        """Ledger rows matching every filter given, by ``received_at`` then ``ledger_id``."""
        tests, params = [], {}
        for column, value in (("dataset", dataset), ("department", department), ("delivery_id", delivery_id)):
            if value is not None:
                tests.append(f"{column} = ${column}")
                params[column] = value
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            names = [f"status_{i}" for i in range(len(statuses))]
            tests.append(f"status IN ({', '.join('$' + n for n in names)})" if names else "FALSE")
            params.update(zip(names, statuses, strict=True))
        if received_from is not None:
            tests.append("received_at >= CAST($received_from AS TIMESTAMPTZ)")
            params["received_from"] = received_from
        if received_before is not None:
            tests.append("received_at < CAST($received_before AS TIMESTAMPTZ)")
            params["received_before"] = received_before
        return self._ledger_rows(" AND ".join(tests) or "TRUE", params, order="received_at, ledger_id")

    def _ledger_rows(self, where: str, params: dict[str, Any], order: str) -> list[LedgerRow]:
        selected = ", ".join(
            "CAST(feedback_paths AS VARCHAR)" if c == "feedback_paths" else c for c in LEDGER_COLUMNS
        )
        sql = f"SELECT {selected} FROM deliveries WHERE {where} ORDER BY {order}"
        with self._session("reading the ledger") as session:
            if not _columns(session, "deliveries"):
                raise WarehouseError(f"no ledger in {self.url.display}; run `credit-etl warehouse init`")
            return [_ledger_row(dict(zip(LEDGER_COLUMNS, r, strict=True))) for r in session.rows(sql, params)]

    # -- reading ----------------------------------------------------------------------------------

    def table_snapshot(self, table: str) -> pa.Table:
        """Every row of ``table``, ordered by all its columns: two snapshots compare equal exactly when
        the contents are equal. JSON columns come back as text, timestamps in UTC."""
        name = ident(table)
        with self._session(f"reading table {table}") as session:
            columns = _columns(session, table)
            if not columns:
                raise WarehouseError(f"no table {table!r} in {self.url.display}")
            selected = ", ".join(
                f"CAST({column_ident(c)} AS VARCHAR) AS {column_ident(c)}"
                if kind.lower() == "json"
                else column_ident(c)
                for c, kind in columns.items()
            )
            order = ", ".join(str(i + 1) for i in range(len(columns)))
            result = session.arrow(f"SELECT {selected} FROM {name} ORDER BY {order}")
        return _timestamps_in_utc(result)


def _columns(session: Session, table: str) -> dict[str, str]:
    """Column name -> data type of ``table`` in the warehouse's schema; empty when it does not exist."""
    rows = session.rows(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = current_schema() "
        "AND table_name = $table ORDER BY ordinal_position",
        {"table": table},
    )
    return {str(name): str(kind) for name, kind in rows}


def _check_accepted(batch: LoadBatch, table: DatasetTable) -> StagedFile | None:
    """Checks a staged accepted file against the ledger row before any SQL runs."""
    row = batch.ledger
    label = f"delivery {row.delivery_id}"
    if not row.is_processed:
        raise WarehouseError(
            f"{label}: a load ends as loaded, loaded_with_rejections or rejected, not {row.status}"
        )
    accepted = StagedFile.open(batch.accepted_path) if batch.accepted_path is not None else None
    n_accepted = accepted.num_rows if accepted else 0
    if accepted and n_accepted:
        what = f"{label}: accepted file {accepted.location}"
        require_columns(accepted.file, accepted_schema(table).names, what)
        # The load writes the delivery's id and sha256 once for all its rows.
        for column, expected in (("_delivery_id", row.delivery_id), ("_sha256", row.sha256)):
            found = distinct_values(accepted.file, column)
            if found != [expected]:
                raise WarehouseError(f"{label}: accepted rows carry {column} {found[:3]}, not {expected}")
    return accepted if n_accepted else None


def check_rejected(row: LedgerRow, rejected: StagedFile | None) -> StagedFile | None:
    """Checks the staged rejected file against the final ledger row; None when it has no row."""
    label = f"delivery {row.delivery_id}"
    if not row.is_processed:
        raise WarehouseError(
            f"{label}: a load ends as loaded, loaded_with_rejections or rejected, not {row.status}"
        )
    n_rejected = rejected.num_rows if rejected else 0
    if rejected and n_rejected:
        require_columns(rejected.file, REJECTED_SCHEMA.names, f"{label}: rejected file {rejected.location}")
        found = distinct_values(rejected.file, "delivery_id")
        if found != [row.delivery_id]:
            raise WarehouseError(f"{label}: rejected rows carry delivery_id {found[:3]}")
    return rejected if n_rejected else None


def as_duplicate(row: LedgerRow, note: str) -> LedgerRow:
    """The ledger row of an attempt that found its delivery already processed (as ``process_drop``
    records a duplicate: nothing read or loaded by it)."""
    return row.replace(status="duplicate", rows_read=0, rows_loaded=0, rows_rejected=0, feedback_paths=(),
                       error_reason=None, error_message=None, notes=note)  # fmt: skip


def refuse_bad_keys(session: Session, table: DatasetTable, row: LedgerRow, source: str) -> None:
    """Raises when the staged rows in ``source`` have an empty or a repeated dedup key."""
    empty, repeated = session.rows(st.stage_problems_sql(table, source))[0]
    if empty or repeated:
        keys = ", ".join(table.dedup_key)
        raise WarehouseError(
            f"delivery {row.delivery_id}: accepted rows must have a complete, unique dedup key ({keys}); "
            f"{empty} row(s) have an empty key field and {repeated} key(s) occur more than once"
        )


def _uscc_placeholder() -> str:
    from etl.codes.uscc import PLACEHOLDER

    return PLACEHOLDER


def _ledger_params(row: LedgerRow) -> dict[str, Any]:
    values = row.as_dict()
    values["feedback_paths"] = json.dumps(list(row.feedback_paths), ensure_ascii=False)
    return values


def _ledger_row(values: dict[str, Any]) -> LedgerRow:
    for name in TIMESTAMP_COLUMNS:
        if values[name] is not None:
            values[name] = _shanghai(values[name])
    values["feedback_paths"] = tuple(json.loads(values["feedback_paths"] or "[]"))
    return LedgerRow(**values)


def _shanghai(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SHANGHAI)


def _timestamps_in_utc(table: pa.Table) -> pa.Table:
    schema = pa.schema(
        [
            f.with_type(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type) and f.type.tz else f
            for f in table.schema
        ]
    )
    return table.cast(schema) if schema != table.schema else table


def _describe(exc: BaseException) -> str:
    """The first line of a driver error, whitespace collapsed (details may hold row values)."""
    text = str(exc).strip().splitlines()
    return " ".join(text[0].split()) if text else type(exc).__name__
