"""``RawDelivery``: an opened delivery, its header, and its rows as a stream of Arrow batches.

Every reader produces the same batch shape: one string column per file column, named by position
(``c0``, ``c1``, …, because headers repeat or are blank and the mapping works on positions), plus
``_row``, the row number as the clerk sees it in Excel or WPS. Rows whose cells are all empty are not
records (spreadsheets leave them behind formatted but blank) and never appear in a batch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

ROW = "_row"
# Batches read ahead of the consumer (each about batch_rows rows of strings).
READ_AHEAD_BATCHES = 2

T = TypeVar("T")

BadRows = list[tuple[int, str]]
BatchStream = Callable[[BadRows], Iterator[pa.RecordBatch]]


@dataclass
class RawDelivery:
    """A delivery opened for reading.

    ``format``      ``csv``, ``xlsx``, ``json`` or ``parquet``, as found from the content
    ``headers``     the header cells as in the file, stripped, one per column
    ``header_row``  1-based row of the header as the clerk sees it; 0 for JSON and Parquet, which have
                    no header line (their records are numbered 1, 2, …)
    ``encoding``    CSV and JSON: ``utf-8``, ``utf-8-sig``, ``gb18030``, ``utf-16-le`` or ``utf-16-be``
    ``sheet``       XLSX: the name of the sheet read
    ``bad_rows``    (row, message) of rows that could not be read as records (``RAGGED_ROW``); filled
                    while ``batches()`` runs, complete once it is exhausted
    """

    path: Path
    format: str
    headers: list[str]
    header_row: int
    _stream: BatchStream = field(repr=False)
    encoding: str | None = None
    sheet: str | None = None
    bad_rows: BadRows = field(default_factory=list)

    @property
    def schema(self) -> pa.Schema:
        return batch_schema(len(self.headers))

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The data rows in batches (``c0 … c<n-1>`` strings and ``_row`` int64), read from the file
        as they are consumed; each call reads the file anew.

        Problems that only show while reading raise ``DeliveryRejected`` from here: a GB18030 file
        with an undecodable byte beyond the part checked up front, a CSV the parser cannot follow,
        a sheet whose XML is broken.
        """
        self.bad_rows.clear()
        yield from read_ahead(self._stream(self.bad_rows), READ_AHEAD_BATCHES)


def read_ahead(items: Iterator[T], depth: int) -> Iterator[T]:
    """``items``, produced by a background thread up to ``depth`` items ahead of the consumer.

    Parsing a CSV block (or a sheet's XML) runs in Arrow's C++ code without holding the GIL, so the
    next batch is read while the caller conforms, validates and writes the current one: the two
    halves of the work use two cores. Exceptions raised while producing (a ``DeliveryRejected``)
    reach the consumer at the point they happened in the sequence.

    >>> list(read_ahead(iter(range(5)), 2))
    [0, 1, 2, 3, 4]
    """
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(kind: str, value: Any) -> bool:
        """Puts one slot unless the consumer has gone (then a full queue would block for ever)."""
        while not stop.is_set():
            try:
                slots.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over("item", item):
                    break
            else:
                hand_over("done", None)
        except BaseException as exc:  # handed to the consumer, who raises it
            hand_over("error", exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()


def column_names(count: int) -> list[str]:
    return [f"c{i}" for i in range(count)]


def batch_schema(count: int) -> pa.Schema:
    return pa.schema([*((name, pa.string()) for name in column_names(count)), (ROW, pa.int64())])


def make_batch(columns: list[pa.Array], rows: pa.Array) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([*columns, rows], schema=batch_schema(len(columns)))


def drop_blank_rows(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Remove rows whose every cell is null."""
    cells = batch.columns[:-1] if batch.schema.names[-1] == ROW else batch.columns
    if not cells or not all(column.null_count for column in cells):
        return batch  # some column is filled on every row
    filled = pc.is_valid(cells[0])
    for column in cells[1:]:
        filled = pc.or_(filled, pc.is_valid(column))
    return batch if filled.false_count == 0 else batch.filter(filled)


def rebatch(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """Re-cut a stream of batches into batches of ``size`` rows (the last one shorter).

    >>> parts = [pa.record_batch({"c0": pa.array(["a"] * n)}) for n in (3, 4, 5)]
    >>> [b.num_rows for b in rebatch(parts, 5)]
    [5, 5, 2]
    """
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = min(size - count, batch.num_rows)
            pending.append(batch.slice(0, take))
            count += take
            batch = batch.slice(take)
            if count == size:
                yield _concat(pending)
                pending, count = [], 0
    if count:
        yield _concat(pending)


def _concat(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    return parts[0] if len(parts) == 1 else pa.concat_batches(parts)
