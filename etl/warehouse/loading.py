"""One delivery loaded while it is read: ``Warehouse.loading`` returns a ``DeliveryLoad``.

The accepted rows go to the warehouse on a thread of their own while the pipeline reads, conforms
and validates the next batch — an ``INSERT`` from Arrow into DuckDB, one long ``COPY`` into
PostgreSQL, both outside the GIL, and on a two-core worker the load costs little more than the
read. ``finish`` then merges in the same transaction (history, replace, append, subjects,
quarantine, ledger), and the ``with`` block commits when it ends without an error. Nothing is
visible to anyone else before that commit: a crash or an error anywhere, mid-read included, leaves
no partial rows.

Where the rows go while they stream:

- the dataset table has no row yet (a first load or a backfill): straight into it — for
  PostgreSQL with its primary key dropped and built once at the end (``Session.bulk_into_empty``);
- otherwise: into the scratch table ``_stage_rows``, which ``finish`` joins with the table to find
  the new and changed records (``etl.warehouse.statements``).

The table's writers serialise on its lock for the whole load (DuckDB allows one writer per file
anyway; PostgreSQL loads different datasets in parallel), and an attempt that finds, under that
lock, that another worker processed the same bytes loads nothing and records a duplicate.

    with warehouse.loading(ledger_row, dataset) as load:
        if load.duplicate_of is None:
            for batch in accepted_batches:
                load.add_accepted(batch)    # staging.accepted_fields rows; returns at once
        report = load.finish(final_ledger_row, rejected_path)
    # committed here
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from etl.errors import WarehouseError
from etl.warehouse import statements as st
from etl.warehouse.schema import DatasetTable, ident
from etl.warehouse.staging import PathLike

if TYPE_CHECKING:
    from etl.warehouse.base import LoadReport, Session, Warehouse
    from etl.warehouse.ledger import LedgerRow

# Batches waiting for the writer: enough to keep it busy, few enough that memory does not grow when
# the warehouse is slower than the reader (the reader then waits).
QUEUE_DEPTH = 2


class DuplicateKeys(WarehouseError):
    """A bulk load into an empty table found a dedup key twice (raised by the backend)."""


class BatchWriter:
    """Hands the batches ``put`` to ``write_all`` on a thread of its own, as one iterator, in order,
    each passed through ``prepare`` first (on that thread too).

    A failure stops the writing; the batches after it are drained unread, so ``put`` never blocks
    for good, and the error is raised by the next ``put`` or by ``close``. A failure of ``prepare``
    ends the iterator as if the rows were all there, so that the sink (DuckDB reading a Python
    stream) does not wrap the error in its own; it is raised as it is.
    """

    _END = object()

    def __init__(
        self,
        write_all: Callable[[Iterator[pa.RecordBatch]], None],
        prepare: Callable[[pa.RecordBatch], pa.RecordBatch] = lambda batch: batch,
        depth: int = QUEUE_DEPTH,
    ) -> None:
        self._write_all, self._prepare = write_all, prepare
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="credit-etl-load", daemon=True)
        self._thread.start()

    def put(self, batch: pa.RecordBatch) -> None:
        self._raise()
        self._queue.put(batch)

    def close(self, *, raise_error: bool = True) -> None:
        """Waits until every batch is written; raises the writer's error unless ``raise_error`` is
        False (the load is failing for another reason already)."""
        if self._thread.is_alive():
            self._queue.put(self._END)
            self._thread.join()
        if raise_error:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _batches(self) -> Iterator[pa.RecordBatch]:
        while (batch := self._queue.get()) is not self._END:
            try:
                prepared = self._prepare(batch)
            except BaseException as exc:  # handed to the caller's thread
                self._error = exc
                return
            yield prepared
        self._ended = True

    def _run(self) -> None:
        try:
            self._write_all(self._batches())
        except BaseException as exc:
            self._error = self._error or exc
        while not self._ended:
            self._ended = self._queue.get() is self._END


@dataclass
class _Stream:
    """The writer of the accepted rows, what ends their stream, and how many went."""

    writer: BatchWriter
    closing: ExitStack
    rows: int = 0


class DeliveryLoad:
    """The load of one delivery, inside its transaction (see the module docstring)."""

    def __init__(
        self, warehouse: Warehouse, session: Session, table: DatasetTable, ledger: LedgerRow
    ) -> None:
        self.warehouse, self.session, self.table, self.ledger = warehouse, session, table, ledger
        self.loaded_at: dt.datetime = session.rows("SELECT now()")[0][0]
        self.duplicate_of: int | None = None
        self.into_empty = False
        self._stream: _Stream | None = None

    @classmethod
    def open(
        cls, warehouse: Warehouse, session: Session, table: DatasetTable, ledger: LedgerRow, stack: ExitStack
    ) -> DeliveryLoad:
        """Locks the table and gets ready to take rows; ``stack`` ends the streaming on an error."""
        session.lock(table.name)
        warehouse._require_table(session, table)
        load = cls(warehouse, session, table, ledger)
        load.duplicate_of = warehouse._processed_by_another(session, ledger)
        if load.duplicate_of is None:
            load._stream = load._open_stream(stack)
        return load

    def _open_stream(self, stack: ExitStack) -> _Stream:
        session, table = self.session, self.table
        self.into_empty = not session.rows(st.any_row_sql(table))
        closing = ExitStack()
        stack.enter_context(closing)
        closing.enter_context(session.streaming())
        columns = st.append_columns(table)
        # The same in every row of the delivery: set once for the load, not sent with each row.
        constants = {"_delivery_id": self.ledger.delivery_id, "_sha256": self.ledger.sha256}
        if self.into_empty:
            closing.enter_context(session.bulk_into_empty(table))
            target = ident(table.name)
        else:
            # Without NOT NULL: an empty key is counted and reported (refuse_bad_keys), not a driver error.
            session.create_scratch_table(st.STAGE_ROWS, [replace(c, not_null=False) for c in columns])
            target = st.STAGE_ROWS
        derived = {}
        if session.derives_columns:  # the record hash computed by the database, inside its insert
            from etl.warehouse.staging import record_hash_sql

            derived = {"_record_hash": record_hash_sql(table)}
        write_all = closing.enter_context(session.rows_sink(target, columns, constants, derived))
        writer = BatchWriter(write_all, partial(_prepared, table=table, hashed=not derived))
        # On an error the writer stops before the sink ends (last in, first out).
        closing.callback(lambda: writer.close(raise_error=False))
        return _Stream(writer, closing)

    def add_accepted(self, rows: pa.Table | pa.RecordBatch) -> None:
        """Queues accepted rows for the warehouse: ``staging.accepted_fields`` (the load adds the
        record hash, the delivery's id and its sha256) or the full ``staging.accepted_schema``
        (its id and sha256 must be this delivery's: the load writes them once for all rows)."""
        if self._stream is None:
            raise WarehouseError(f"delivery {self.ledger.delivery_id}: this load takes no rows")
        for batch in rows.to_batches() if isinstance(rows, pa.Table) else [rows]:
            if batch.num_rows:
                self._stream.writer.put(batch)
                self._stream.rows += batch.num_rows

    def finish(self, row: LedgerRow, rejected_path: PathLike | None = None) -> LoadReport:
        """Merges what was streamed and writes the quarantine and ``row``, the final ledger row (its
        ``rows_loaded`` must be the rows added, ``rows_rejected`` those of ``rejected_path``, staged
        as ``staging.REJECTED_SCHEMA``). The commit follows when the ``with`` block ends."""
        from etl.warehouse.base import LoadReport, StagedFile, as_duplicate, check_rejected, refuse_bad_keys

        warehouse, session, table = self.warehouse, self.session, self.table
        if self.duplicate_of is not None:
            written = warehouse._write_ledger(session, as_duplicate(row, f"与台账 {self.duplicate_of} 相同"))
            return LoadReport(ledger=written, loaded_at=self.loaded_at)
        assert self._stream is not None
        rejected = check_rejected(row, StagedFile.open(rejected_path) if rejected_path else None)
        accepted_rows, rejected_rows = self._stream.rows, rejected.num_rows if rejected else 0
        if (accepted_rows, rejected_rows) != (row.rows_loaded, row.rows_rejected):
            raise WarehouseError(
                f"delivery {row.delivery_id}: staged {accepted_rows} accepted and {rejected_rows} rejected "
                f"rows, but the ledger row says {row.rows_loaded} loaded and {row.rows_rejected} rejected"
            )
        self._stream.writer.close()
        try:
            self._stream.closing.close()
        except DuplicateKeys:
            refuse_bad_keys(session, table, row, ident(table.name))
            raise
        if self.into_empty:
            if not session.enforces_keys:
                refuse_bad_keys(session, table, row, ident(table.name))
            changes = _Changes(new=accepted_rows, total=accepted_rows)
        elif accepted_rows:
            refuse_bad_keys(session, table, row, st.STAGE_ROWS)
            changes = _Changes.find(session, table, accepted_rows, row)
        else:
            changes = _Changes()
        if rejected:
            session.stage(st.STAGE_REJECTED, st.REJECTED_STAGE_COLUMNS, rejected)
        params = warehouse._load_params(row)
        warehouse._checkpoint("stage")
        if changes.changed:
            sql = st.copy_to_history_sql(table)
            session.execute(sql, _bind(sql, params))
        warehouse._checkpoint("history")
        if changes.changed:
            session.replace_changed(table)
        warehouse._checkpoint("replace")
        appended = "new" if session.replaces_in_place else None
        if not self.into_empty and (changes.new or (changes.changed and appended is None)):
            session.execute(st.append_staged_sql(table, appended))
        warehouse._checkpoint("append")
        subjects = 0
        if accepted_rows and st.feeds_subjects(table):
            source = ident(table.name) if self.into_empty else st.STAGE_ROWS
            sql = st.upsert_subjects_sql(table, source)
            subjects = session.execute(sql, _bind(sql, params))
        warehouse._checkpoint("subjects")
        quarantined = warehouse._write_quarantine(session, rejected, params)
        warehouse._checkpoint("quarantine")
        written = warehouse._write_ledger(session, row)
        warehouse._checkpoint("ledger")
        return LoadReport(
            ledger=written,
            loaded_at=self.loaded_at,
            inserted=changes.new,
            updated=changes.changed,
            unchanged=changes.total - changes.new - changes.changed,
            quarantined=quarantined,
            subjects=subjects,
        )


@dataclass(frozen=True)
class _Changes:
    """How the accepted rows relate to the table: ``new`` and ``changed`` records are written, the
    rest are unchanged."""

    new: int = 0
    changed: int = 0
    total: int = 0

    @classmethod
    def find(cls, session: Session, table: DatasetTable, total: int, row: LedgerRow) -> _Changes:
        """Fills ``_stage_changes`` from ``_stage_rows`` and counts it. A reprocess leaves records a
        later-received delivery changed as they are."""
        session.scratch(st.STAGE_CHANGES, st.changes_sql(table))
        if row.reprocess_of is not None:
            sql = st.mark_older_sql(table)
            session.execute(sql, _bind(sql, {"received_at": row.received_at}))
        counts = dict(session.rows(st.COUNT_CHANGES_SQL))
        return cls(int(counts.get("new", 0)), int(counts.get("changed", 0)), total)


def _prepared(batch: pa.RecordBatch, *, table: DatasetTable, hashed: bool) -> pa.RecordBatch:
    """A batch as the writer thread hands it to the warehouse: with its record hash, unless the
    database computes it (``hashed`` False) or the batch has it already (a staged file)."""
    if not hashed:
        return batch
    from etl.warehouse.staging import with_record_hash

    rows = with_record_hash(batch, table).combine_chunks()
    return pa.RecordBatch.from_arrays([column.chunk(0) for column in rows.columns], schema=rows.schema)


def _bind(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    from etl.warehouse.base import bind

    return bind(sql, params)


def staged_batches(path: PathLike, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The batches of a staged accepted Parquet file, for ``Warehouse.load``."""
    from etl.warehouse.staging import parquet_file

    yield from parquet_file(path).iter_batches(batch_size=batch_rows)
