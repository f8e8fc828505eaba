"""Parquet files, as the database pulls write them: columns named by canonical field or header.

Columns arrive typed (integers, decimals, dates, timestamps); every one is cast to the text Arrow
writes for it (``2026-10-08``, ``12.500000``, ``2026-10-08 00:00:00``) so that the rest of the
pipeline treats a pull like any delivered file. Nested columns cannot be a cell and are rejected
(``UNSUPPORTED_COLUMN_TYPE``). A record's row number is its 1-based position in the file: there is no
header line to count (as for JSON).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl.catalog import Dataset
from etl.read import rejections
from etl.read.delivery import BadRows, RawDelivery, drop_blank_rows, make_batch

_STRING_NULL = pa.scalar(None, pa.string())


def open_parquet(path: Path, dataset: Dataset, batch_rows: int) -> RawDelivery:
    try:
        metadata = pq.read_metadata(path)
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise rejections.corrupt_file("Parquet 文件") from exc
    for column in schema:
        if not _readable(column.type):
            raise rejections.unsupported_column_type(column.name, str(column.type))
    if metadata.num_rows == 0:
        raise rejections.no_data_rows(dataset.title)
    return RawDelivery(
        path=path,
        format="parquet",
        headers=[name.strip() for name in schema.names],
        header_row=0,  # no header line: records are numbered from 1
        _stream=partial(_stream, path, batch_rows),
    )


def _readable(column_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(column_type):
        return _readable(column_type.value_type)
    return not pa.types.is_nested(column_type)


def as_text(column: pa.Array) -> pa.Array:
    """A column as strings, empty strings as null.

    >>> import datetime as dt, decimal
    >>> as_text(pa.array([dt.date(2026, 10, 8), None])).to_pylist()
    ['2026-10-08', None]
    >>> as_text(pa.array([12, 7])).to_pylist(), as_text(pa.array(["", "a"])).to_pylist()
    (['12', '7'], [None, 'a'])
    """
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if column.type != pa.string():
        column = column.cast(pa.string())
    return pc.if_else(pc.equal(column, ""), _STRING_NULL, column)


def _column_text(name: str, column: pa.Array) -> pa.Array:
    try:
        return as_text(column)
    except pa.ArrowInvalid as exc:  # e.g. a binary column that is not UTF-8 text
        raise rejections.unsupported_column_type(name, str(column.type)) from exc


def _stream(path: Path, batch_rows: int, bad_rows: BadRows) -> Iterator[pa.RecordBatch]:
    first = 1
    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=batch_rows):
            numbers = pa.array(range(first, first + batch.num_rows), pa.int64())
            first += batch.num_rows
            texts = [
                _column_text(name, column)
                for name, column in zip(batch.schema.names, batch.columns, strict=True)
            ]
            cleaned = drop_blank_rows(make_batch(texts, numbers))
            if cleaned.num_rows:
                yield cleaned
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise rejections.corrupt_file("Parquet 文件") from exc
