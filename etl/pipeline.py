"""process_drop: one delivery, end to end — read, conform, validate, route, load, feedback, ledger.

The DAGs, the CLI, backfills, reprocessing and the tests all call this one function; Airflow only
schedules, retries and records. What it guarantees:

- nothing is lost: every row read is either loaded or quarantined with its reasons, and the ledger
  says how many of each (``rows_read = rows_loaded + rows_rejected``); the raw file stays archived;
- idempotent: the same bytes for the same dataset and department are recorded as ``duplicate`` and
  change nothing; a corrected re-delivery updates the records it corrects (history is kept);
- atomic: the accepted rows stream into the warehouse while the delivery is read, inside the load's
  transaction (``Warehouse.loading``); the merge, the quarantine (rejected rows staged as Parquet)
  and the ledger row follow in that transaction, which commits once the feedback files are written;
- a delivery rejected whole (unreadable, missing required columns, or a file name the source refused:
  ``Drop.refused``, never read) gets a ledger row and a feedback file saying why, in Chinese, for the
  clerk.

Validation is the Arrow engine's; GX's own run on a sample of the delivery is a separate step
(``etl.gx_audit.audit_drop``), so its import and fixed cost do not delay the load.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from etl.catalog import Catalog, Dataset
from etl.drop import Drop, now
from etl.errors import DeliveryRejected
from etl.feedback import (
    FeedbackFiles,
    FeedbackItem,
    FeedbackSummary,
    feedback_files,
    item_order,
    items_from_reasons,
    write_feedback,
)
from etl.sources.names import file_safe
from etl.sources.refused_entries import refused_rejection
from etl.storage import Storage
from etl.warehouse.ledger import UNREAD_REJECTIONS

if TYPE_CHECKING:
    import pyarrow as pa

    from etl.conform.headers import HeaderMapping
    from etl.read.delivery import RawDelivery
    from etl.warehouse import LedgerRow, Warehouse
    from etl.warehouse.loading import DeliveryLoad

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BATCH_ROWS = 50_000
# A staging directory untouched this long belongs to an attempt whose worker was killed: the next
# delivery processed sweeps it (no attempt runs a day; a running one keeps writing into its own).
STALE_STAGING = dt.timedelta(hours=24)

# The ledger's reason for a delivery none of whose rows passed (each row carries its own reasons).
ALL_ROWS_REJECTED = "ALL_ROWS_REJECTED"

STATUS_TEXT = {
    "loaded": "全部入库",
    "loaded_with_rejections": "部分入库，问题行已退回",
    "rejected": "整体退回，未入库",
    "duplicate": "重复报送，已忽略",
    "failed": "处理失败，平台将重试",
}


@dataclass(frozen=True)
class LoadResult:
    """The ledger row of the attempt and where the department's feedback files are; ``seconds``: how
    long each stage of a processed delivery took, for logs and benchmarks: ``route`` (read, conform,
    validate, stream the accepted rows to the warehouse), ``load`` (the merge), ``feedback`` (written
    beside the merge, so not added to the total) and ``commit``."""

    ledger: LedgerRow
    feedback: FeedbackFiles | None = None
    normalised_cells: int = 0
    seconds: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        """Processed (rows may have been rejected) or a harmless duplicate."""
        return self.ledger.status in ("loaded", "loaded_with_rejections", "duplicate")

    def as_dict(self) -> dict[str, Any]:
        row = self.ledger.as_dict()
        row["feedback_paths"] = list(row["feedback_paths"])
        row["normalised_cells"] = self.normalised_cells
        return row


class _FeedbackSpool:
    """A delivery's feedback items, staged batch by batch in the clerk's order (``item_order``) as
    Parquet and read back once per feedback file: memory does not grow with the number of problems.

    Batches come in row order, so sorting each keeps the file in order; items that would not (the
    rows the reader could not split, found anywhere) are kept aside and merged in when reading.
    """

    def __init__(self, storage: Storage, key: str) -> None:
        self.storage, self.key = storage, key
        self.staged = 0
        self.aside: list[FeedbackItem] = []
        self._last: tuple[bool, int, bool, str] | None = None
        self._writer: Any = None

    def open(self, stack: ExitStack) -> None:
        import pyarrow.parquet as pq

        out = stack.enter_context(self.storage.open_write(self.key))
        self._writer = pq.ParquetWriter(out, _feedback_schema())
        stack.callback(self._writer.close)

    def add(self, items: list[FeedbackItem]) -> None:
        import pyarrow as pa

        items = sorted(items, key=item_order)
        if not items:
            return
        if self._last is not None and item_order(items[0]) < self._last:
            self.aside += items
            return
        schema = _feedback_schema()
        # Column by column: dataclasses.asdict per item cost more than the rest of the spool.
        columns = {name: [getattr(item, name) for item in items] for name in schema.names}
        self._writer.write_table(pa.Table.from_pydict(columns, schema))
        self.staged += len(items)
        self._last = item_order(items[-1])

    def __len__(self) -> int:
        return self.staged + len(self.aside)

    def __iter__(self) -> Iterator[FeedbackItem]:
        if not self.aside:  # the usual case: the staged items are in order already
            return self._read()
        return heapq.merge(self._read(), sorted(self.aside, key=item_order), key=item_order)

    def _read(self) -> Iterator[FeedbackItem]:
        from etl.warehouse.staging import parquet_file

        if not self.staged:
            return
        names = _feedback_schema().names  # FeedbackItem's fields, in order
        for batch in parquet_file(self.storage.location(self.key)).iter_batches(columns=names):
            # Column by column: a dict per row cost a third of writing the feedback files.
            for values in zip(*(batch.column(name).to_pylist() for name in names), strict=True):
                yield FeedbackItem(*values)


def _feedback_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([("row", pa.int64()), ("column", pa.string()), ("value", pa.string()),
                      ("problem", pa.string()), ("rule", pa.string()), ("rejected", pa.bool_())])  # fmt: skip


@dataclass
class _Routed:
    """What the batches of one delivery produced."""

    feedback: _FeedbackSpool
    accepted: int = 0
    rejected: int = 0
    normalised: int = 0


def process_drop(
    drop: Drop,
    *,
    catalog: Catalog,
    warehouse: Warehouse,
    storage: Storage,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    reprocess_of: int | None = None,
    notes: str | None = None,
) -> LoadResult:
    """Processes one archived delivery and returns its ledger row.

    ``reprocess_of`` (a ledger id) runs an already processed delivery again through the current
    catalog instead of recording it as a duplicate.
    """
    from etl.warehouse import LedgerRow

    dataset = catalog.dataset(drop.dataset)
    started = now()
    for swept in storage.sweep("staging", STALE_STAGING):
        log.info("removed %s, left by an attempt that did not finish", swept)
    base = LedgerRow(
        delivery_id=drop.delivery_id, dataset=drop.dataset, department=drop.department,
        source=drop.source, file_name=drop.file_name, sha256=drop.sha256, size_bytes=drop.size_bytes,
        received_at=drop.received_at, status="failed", started_at=started,
        change_date=drop.change_date, reprocess_of=reprocess_of, notes=notes,
    )  # fmt: skip
    if reprocess_of is None:
        previous = _earlier_attempt(warehouse, drop)
        if previous is not None and previous.is_processed:
            log.info("%s: duplicate of ledger row %s", drop.delivery_id, previous.ledger_id)
            note = f"与台账 {previous.ledger_id} 相同"
            row = base.replace(status="duplicate", finished_at=now(), notes=note)
            return LoadResult(warehouse.record_ledger(row))
        if previous is not None:  # a failed attempt: redo it in place
            base = base.replace(ledger_id=previous.ledger_id)

    # One directory per attempt: a second worker on the same delivery must neither overwrite nor
    # delete this one's staged files (whichever loads second records a duplicate, see Warehouse.load).
    staging = f"staging/{drop.sha256}-{drop.dataset}-{drop.department}-{uuid.uuid4().hex[:12]}"
    try:
        if drop.refused is not None:  # its name or kind was refused: the bytes are kept, never read
            raise refused_rejection(drop.refused, drop.file_name, storage, drop.raw_key)
        with local_copy(storage, drop) as path:
            return _load(drop, dataset, catalog, warehouse, storage, path, staging, base, batch_rows)
    except DeliveryRejected as exc:
        log.warning("%s: rejected whole: %s", drop.delivery_id, exc)
        item = FeedbackItem(row=None, column="整个文件", value=drop.file_name, problem=exc.message,
                            rule=exc.reason)  # fmt: skip
        row = base.replace(status="rejected", finished_at=now(), error_reason=exc.reason,
                           error_message=exc.message)  # fmt: skip
        files = _feedback(storage, drop, dataset, catalog, row, [item])
        row = row.replace(feedback_paths=(files.xlsx_key, files.csv_key))
        return LoadResult(warehouse.record_ledger(row), files)
    except Exception as exc:
        # Recorded so that freshness and the report see the attempt; re-raised so Airflow retries.
        log.exception("%s: failed", drop.delivery_id)
        row = base.replace(status="failed", finished_at=now(), error_reason=type(exc).__name__,
                           error_message=str(exc)[:2000])  # fmt: skip
        try:
            warehouse.record_ledger(row)
        except Exception:  # the warehouse itself may be what failed
            log.exception("%s: could not record the failure in the ledger", drop.delivery_id)
        raise
    finally:
        storage.delete_dir(staging)


def _earlier_attempt(warehouse: Warehouse, drop: Drop) -> LedgerRow | None:
    """The latest attempt at these bytes that this arrival duplicates or (failed) redoes.

    An arrival rejected for its file name was never read: it makes no later arrival of the same bytes
    a duplicate (the clerk renames the file and sends it again), and is itself never a duplicate;
    only its own failed attempt (same name) is redone in place.
    """
    previous = warehouse.find_delivery(drop.sha256, drop.dataset, drop.department)
    if drop.refused is not None:
        failed = previous is not None and previous.status == "failed" and previous.file_name == drop.file_name
        return previous if failed else None
    if previous is None or previous.error_reason not in UNREAD_REJECTIONS:
        return previous
    read = [
        r for r in warehouse.ledger(delivery_id=drop.delivery_id)
        if r.sha256 == drop.sha256 and r.status != "duplicate" and r.error_reason not in UNREAD_REJECTIONS
    ]  # fmt: skip
    return max(read, key=lambda r: r.ledger_id or 0, default=None)


def _load(
    drop: Drop,
    dataset: Dataset,
    catalog: Catalog,
    warehouse: Warehouse,
    storage: Storage,
    path: Path,
    staging: str,
    base: LedgerRow,
    batch_rows: int,
) -> LoadResult:
    from etl.conform import map_headers
    from etl.read import open_delivery

    clock = _Clock()
    # Opened before the load: a file rejected whole for its header is refused without a transaction.
    delivery = open_delivery(path, dataset, batch_rows=batch_rows)
    mapping = map_headers(delivery.headers, dataset)
    rejected_key, feedback_key = f"{staging}/rejected.parquet", f"{staging}/feedback.parquet"
    with warehouse.loading(base, dataset) as load:
        if load.duplicate_of is not None:  # another worker processed these bytes meanwhile
            return LoadResult(load.finish(base).ledger)
        routed = _route(drop, dataset, delivery, mapping, storage, load, (rejected_key, feedback_key))
        status = (
            "rejected" if routed.accepted == 0
            else "loaded_with_rejections" if routed.rejected else "loaded"
        )  # fmt: skip
        row = base.replace(
            status=status, finished_at=now(), rows_read=routed.accepted + routed.rejected,
            rows_loaded=routed.accepted, rows_rejected=routed.rejected,
        )  # fmt: skip
        if status == "rejected" and routed.rejected:  # the ledger says why too, not only each row
            message = f"全部{routed.rejected}行均未通过校验，未入库；每行的问题和修改建议见反馈文件"
            row = row.replace(error_reason=ALL_ROWS_REJECTED, error_message=message)
        clock.lap("route")
        keys = feedback_files(_feedback_prefix(drop))
        row = row.replace(feedback_paths=(keys.xlsx_key, keys.csv_key))
        # The feedback files are written while the warehouse merges; the load commits only once they
        # are there, so a committed ledger row never names a missing file.
        with ThreadPoolExecutor(1, thread_name_prefix="credit-etl-feedback") as pool:
            files = pool.submit(_timed, _feedback, storage, drop, dataset, catalog, row, routed.feedback,
                                ordered=True)  # fmt: skip
            report = load.finish(row, storage.location(rejected_key) if routed.rejected else None)
            clock.lap("load")
            written, clock.seconds["feedback"] = files.result()
    log.info(
        "%s: %s, read %d, loaded %d (new %d, changed %d, unchanged %d), rejected %d",
        drop.delivery_id, status, row.rows_read, row.rows_loaded, report.inserted, report.updated,
        report.unchanged, row.rows_rejected,
    )  # fmt: skip
    clock.lap("commit")
    log.info("%s: seconds %s", drop.delivery_id, ", ".join(f"{k} {v:.1f}" for k, v in clock.seconds.items()))
    return LoadResult(report.ledger, written, routed.normalised, clock.seconds)


def _timed(function: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, round(time.perf_counter() - started, 3)


class _Clock:
    """Seconds per stage, each lap since the previous one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now_ = time.perf_counter()
        self.seconds[stage] = round(now_ - self._last, 3)
        self._last = now_


def _route(
    drop: Drop,
    dataset: Dataset,
    delivery: RawDelivery,
    mapping: HeaderMapping,
    storage: Storage,
    load: DeliveryLoad,
    keys: tuple[str, str],
) -> _Routed:
    """Streams the delivery through conform and validate: accepted rows to ``load``, rejected rows and
    feedback items to the staging files ``keys``."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from etl.conform import conform_batch
    from etl.validate import DeliveryState, validate_batch
    from etl.warehouse.loading import BatchWriter
    from etl.warehouse.quarantine_rows import rejected_table, unreadable_table
    from etl.warehouse.staging import REJECTED_SCHEMA, accepted_fields

    rejected_key, feedback_key = keys
    titles = {f.name: f.title for f in dataset.fields}
    state = DeliveryState()
    routed = _Routed(_FeedbackSpool(storage, feedback_key))
    with ExitStack() as stack:
        routed.feedback.open(stack)
        rejected_out = pq.ParquetWriter(
            stack.enter_context(storage.open_write(rejected_key)), REJECTED_SCHEMA
        )
        stack.callback(rejected_out.close)
        # The quarantine records are made and written on a thread of their own (JSON by DuckDB,
        # outside the GIL), beside the next batch.
        quarantine = BatchWriter(
            lambda tables: [rejected_out.write_table(table) for table in tables],
            lambda parts: rejected_table(drop.delivery_id, *parts),
        )
        stack.callback(quarantine.close, raise_error=False)
        # Closed explicitly: a crash mid-delivery must stop the reader thread and release the file.
        batches = stack.enter_context(closing(delivery.batches()))
        for batch in batches:
            conformed = conform_batch(batch, mapping, dataset)
            # GX itself runs on a sample afterwards, off the critical path (etl.gx_audit).
            verdicts = validate_batch(conformed, dataset, state, gx_sample_rows=0)
            keep = pc.invert(verdicts.rejected)
            accepted = accepted_fields(conformed.typed.filter(keep), dataset,
                                       source_rows=conformed.rows.filter(keep))  # fmt: skip
            load.add_accepted(accepted)
            rejected_rows = conformed.rows.filter(verdicts.rejected)
            quarantine.put((conformed.raw.filter(verdicts.rejected), rejected_rows, verdicts.reasons))
            routed.accepted += accepted.num_rows
            routed.rejected += len(rejected_rows)
            normalised = conformed.issues.filter(pc.equal(conformed.issues["severity"], "normalised"))
            routed.normalised += normalised.num_rows
            corrected = items_from_reasons(normalised.to_pylist(), titles, rejected=False)
            routed.feedback.add(items_from_reasons(verdicts.reasons.to_pylist(), titles) + corrected)
        # Rows the reader could not split into cells are read and rejected like any other.
        quarantine.close()
        if delivery.bad_rows:
            unreadable = unreadable_table(drop.delivery_id, delivery.bad_rows)
            rejected_out.write_table(unreadable)
            routed.rejected += unreadable.num_rows
            routed.feedback.add([
                FeedbackItem(row=row, column="整行", value=None, problem=message, rule="RAGGED_ROW")
                for row, message in delivery.bad_rows
            ])  # fmt: skip
    return routed


def _feedback_prefix(drop: Drop) -> str:
    # file_safe: the name is also that of the copy in the department's outbox (no "\\", no leading ".").
    stem = file_safe(Path(drop.file_name).stem[:80], limit=255)
    return f"feedback/{drop.department}/{drop.dataset}/{stem}.{drop.sha256[:8]}.反馈"


def _feedback(
    storage: Storage,
    drop: Drop,
    dataset: Dataset,
    catalog: Catalog,
    row: LedgerRow,
    items: Collection[FeedbackItem],
    *,
    ordered: bool = False,
) -> FeedbackFiles:
    department = catalog.departments[drop.department]
    summary = FeedbackSummary(
        department_name=department.name, dataset_title=dataset.title, file_name=drop.file_name,
        received_at=drop.received_at, rows_read=row.rows_read, rows_loaded=row.rows_loaded,
        rows_rejected=row.rows_rejected, status_text=STATUS_TEXT[row.status],
    )  # fmt: skip
    return write_feedback(storage, _feedback_prefix(drop), summary, items, ordered=ordered)


@contextmanager
def local_copy(storage: Storage, drop: Drop) -> Iterator[Path]:
    """The raw delivery as a local file: itself on a local root, a temporary copy otherwise."""
    local = storage.local_path(drop.raw_key)
    if local is not None:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="credit-etl-") as folder:
        path = Path(folder) / "delivery"
        with storage.open_read(drop.raw_key) as src, path.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        yield path
