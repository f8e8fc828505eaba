"""The staged Parquet files a load reads, and the record hash.

The pipeline writes two files per delivery under the storage root, then calls
``Warehouse.load``:

accepted (``accepted_schema(dataset)``)
    the dataset's fields in catalog order with their canonical Arrow types (string, date32,
    decimal128(20, 6), int64), then ``_delivery_id``, ``_sha256``, ``_source_row`` and
    ``_record_hash``. ``accepted_table`` builds it from conform's typed table.
rejected (``REJECTED_SCHEMA``)
    ``delivery_id``, ``source_row``, ``raw_json`` (the row exactly as delivered: a JSON object
    whose keys are the canonical field names of conform's ``raw`` table, values the cell strings),
    ``reasons_json`` (a JSON list of ``{field, rule, value, message}``). ``rejected_table`` and
    ``unreadable_table`` (``etl.warehouse.quarantine_rows``) build it.

The record hash tells an unchanged re-delivered record from a changed one. It is DuckDB's 64-bit
``hash`` of each non-null (field name, value) pair (text hashed twice, see ``_field_hash``),
combined with XOR, as 16 hex digits: a field
the catalog gains later (null in old records) leaves old hashes unchanged, and it costs a fraction
of a second per million rows where md5 over the serialised row costs seconds (computed on the
thread's scratch connection, ``etl.warehouse.scratch_duckdb``). DuckDB does not promise its
``hash`` across versions; ``tests/warehouse/test_warehouse_staging.py`` pins known values, so an
upgrade that changes it is noticed (its only effect would be one extra history version per record
re-delivered afterwards).

>>> from etl.catalog import load_catalog
>>> dataset = load_catalog().datasets["tax_credit_grade_a"]
>>> fields = pa.schema([f for f in accepted_schema(dataset) if not f.name.startswith("_")])
>>> typed = pa.Table.from_pylist([{"subject_name": "柳州市某某有限公司", "list_year": 2025}], fields)
>>> accepted = accepted_table(typed, dataset, delivery_id="d1", sha256="ab" * 32, source_rows=[2])
>>> accepted.schema.field("list_year").type, accepted.column("_source_row").to_pylist()
(DataType(int64), [2])
>>> len(accepted.column("_record_hash")[0].as_py())
16
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl.catalog import Dataset
from etl.errors import WarehouseError
from etl.warehouse.schema import STAGED_LINEAGE, Column, DatasetTable, dataset_table, ident
from etl.warehouse.scratch_duckdb import registered

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "code": pa.string(),
    "date": pa.date32(),
    "decimal": pa.decimal128(20, 6),
    "integer": pa.int64(),
}

REJECTED_SCHEMA = pa.schema(
    [
        pa.field("delivery_id", pa.string(), nullable=False),
        pa.field("source_row", pa.int64(), nullable=False),
        pa.field("raw_json", pa.string(), nullable=False),
        pa.field("reasons_json", pa.string(), nullable=False),
    ]
)

PathLike = str | Path


def accepted_schema(dataset: Dataset | DatasetTable) -> pa.Schema:
    """Arrow schema of the accepted Parquet of ``dataset``."""
    table = dataset if isinstance(dataset, DatasetTable) else dataset_table(dataset)
    return pa.schema(
        [pa.field(c.name, ARROW_TYPES[c.logical_type]) for c in table.fields]
        + [pa.field(c.name, ARROW_TYPES[c.logical_type], nullable=False) for c in STAGED_LINEAGE]
    )


def record_hash_sql(table: DatasetTable) -> str:
    """The record hash as a DuckDB expression over a relation with the table's fields (canonical
    types): ``record_hashes`` runs it on an Arrow table, a DuckDB load inside its ``INSERT``."""
    # Names are checked identifiers, so quoting them as string literals is safe.
    terms = [
        f"CASE WHEN {ident(c.name)} IS NULL THEN 0::UBIGINT ELSE {_field_hash(c)} END" for c in table.fields
    ]
    combined = reduce(lambda left, right: f"xor({left}, {right})", terms)
    return f"printf('%016x', {combined})"


def _hash_sql(table: DatasetTable) -> str:
    return f"SELECT {record_hash_sql(table)} AS h FROM _rows_to_hash"


def _field_hash(column: Column) -> str:
    """DuckDB's hash of one (field name, value) pair; text is hashed twice, the second time shifted by
    three bytes. DuckDB folds a string in 8-byte words with xor-and-multiply, where a change in a
    word's top byte never reaches the lower bits before the next word: two edits at byte 7 and byte
    15 can cancel out ('4502202500047695' and '4502202200047692' hash alike), and a corrected record
    would look unchanged. Shifted, the same edits land mid-word, where they spread."""
    value = ident(column.name)
    if column.logical_type not in ("string", "code"):
        return f"hash('{column.name}', {value})"
    shifted = f"concat(repeat(chr(1), 3), {value})"
    return f"xor(hash('{column.name}', {value}), hash('{column.name}', {shifted}))"


def record_hashes(typed: pa.Table, dataset: Dataset | DatasetTable) -> pa.Array:
    """The record hash of every row of ``typed`` (the dataset's fields, canonical types)."""
    table = dataset if isinstance(dataset, DatasetTable) else dataset_table(dataset)
    fields = _canonical_fields(typed, table)
    with registered(_rows_to_hash=fields) as connection:
        result = connection.sql(_hash_sql(table)).to_arrow_table()
    return result.column(0).combine_chunks()


def _canonical_fields(typed: pa.Table, table: DatasetTable) -> pa.Table:
    missing = [name for name in table.field_names if name not in typed.column_names]
    if missing:
        raise WarehouseError(f"dataset {table.dataset_id}: typed rows lack fields {', '.join(missing)}")
    columns = []
    for column in table.fields:
        values = typed.column(column.name)
        target = ARROW_TYPES[column.logical_type]
        try:
            columns.append(values if values.type == target else values.cast(target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise WarehouseError(
                f"dataset {table.dataset_id}: field {column.name} of type {values.type} "
                f"cannot be stored as {target}: {exc}"
            ) from exc
    return pa.table(columns, names=list(table.field_names))


def _key_text_not_null(fields: pa.Table, table: DatasetTable) -> pa.Table:
    """An optional text field of the dedup key is stored as ``''`` when empty.

    Registries key a subject by its code and its legacy number (``uscc``, ``regno``), either of which
    may be missing; the key is the primary key, and SQL never matches NULL with NULL, so an absent
    part must be a value. Only text fields get this: a missing date or number in a key is an error.
    """
    for name in table.dedup_key:
        index = fields.column_names.index(name)
        column = fields.column(index)
        if pa.types.is_string(column.type) and column.null_count:
            fields = fields.set_column(index, name, column.fill_null(""))
    return fields


def accepted_fields(
    typed: pa.Table, dataset: Dataset | DatasetTable, *, source_rows: pa.Array | Sequence[int]
) -> pa.Table:
    """Conform's typed rows as the warehouse stores them, with ``_source_row``: what
    ``Warehouse.loading`` takes (it adds the delivery's id and sha256 and, on its writer thread, the
    record hash: ``with_record_hash``)."""
    table = dataset if isinstance(dataset, DatasetTable) else dataset_table(dataset)
    fields = _key_text_not_null(_canonical_fields(typed, table), table)
    rows = pa.array(source_rows, pa.int64())
    if len(rows) != fields.num_rows:
        raise WarehouseError(f"{len(rows)} source rows for {fields.num_rows} accepted rows")
    return fields.append_column("_source_row", rows)


def with_record_hash(rows: pa.Table | pa.RecordBatch, dataset: Dataset | DatasetTable) -> pa.Table:
    """``accepted_fields`` rows with ``_record_hash`` (as they are when they have it already)."""
    rows = rows if isinstance(rows, pa.Table) else pa.Table.from_batches([rows])
    if "_record_hash" in rows.column_names:
        return rows
    table = dataset if isinstance(dataset, DatasetTable) else dataset_table(dataset)
    return rows.append_column("_record_hash", record_hashes(rows.select(list(table.field_names)), table))


def accepted_table(
    typed: pa.Table,
    dataset: Dataset | DatasetTable,
    *,
    delivery_id: str,
    sha256: str,
    source_rows: pa.Array | Sequence[int],
) -> pa.Table:
    """Conform's typed rows with the lineage columns, ready to write as the accepted Parquet."""
    table = dataset if isinstance(dataset, DatasetTable) else dataset_table(dataset)
    rows = with_record_hash(accepted_fields(typed, table, source_rows=source_rows), table)
    count = rows.num_rows
    constants = {
        "_delivery_id": pa.array([delivery_id] * count, pa.string()),
        "_sha256": pa.array([sha256] * count, pa.string()),
    }
    columns = {**dict(zip(rows.column_names, rows.columns, strict=True)), **constants}
    schema = accepted_schema(table)
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def parquet_file(path: PathLike) -> pq.ParquetFile:
    """Opens a staged Parquet file from a local path or any URI ``pyarrow.fs`` understands."""
    from pyarrow import fs

    try:
        if "://" in str(path):
            filesystem, inner = fs.FileSystem.from_uri(str(path))
            return pq.ParquetFile(filesystem.open_input_file(inner))
        return pq.ParquetFile(str(path))
    except (OSError, pa.ArrowException) as exc:
        raise WarehouseError(f"cannot read staged file {path}: {exc}") from exc


def require_columns(file: pq.ParquetFile, names: Sequence[str], what: str) -> None:
    """Raises ``WarehouseError`` naming the columns a staged file lacks."""
    present = set(file.schema_arrow.names)
    missing = [name for name in names if name not in present]
    if missing:
        raise WarehouseError(f"{what} lacks columns {', '.join(missing)}")


def distinct_values(file: pq.ParquetFile, column: str) -> list[Any]:
    """The distinct values of one column of a staged file (for consistency checks).

    Read from the row groups' statistics when each holds a single value and no null (the lineage
    columns always do), instead of reading the column: 5 million sha256s are 0.3 GB and seconds."""
    import pyarrow.compute as pc

    from_statistics = _single_values(file, column)
    if from_statistics is not None:
        return from_statistics
    values = file.read(columns=[column]).column(0)
    return pc.unique(values).to_pylist()


def _single_values(file: pq.ParquetFile, column: str) -> list[Any] | None:
    """The distinct values of ``column`` when every row group's statistics say it holds one value."""
    metadata = file.metadata
    index = file.schema_arrow.get_field_index(column)
    if index < 0 or metadata.num_row_groups == 0 or metadata.num_columns != len(file.schema_arrow):
        return None  # not a flat schema: leaf columns do not follow the fields
    values: list[Any] = []
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(index).statistics
        if statistics is None or not statistics.has_min_max or statistics.null_count != 0:
            return None
        if statistics.min != statistics.max:
            return None
        if statistics.min not in values:
            values.append(statistics.min)
    return values
