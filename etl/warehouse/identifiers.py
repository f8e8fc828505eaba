"""Subject identifiers of every current record, across the dataset tables: what cross-record code
checks (一码多名, 一名多码, organisation code vs USCC) read from the warehouse.

A dataset takes part when its table has a ``uscc`` and a ``subject_name`` column (``orgcode`` is
read where the table has one, null elsewhere). Only current versions are read, not history, and
only records with a non-empty USCC: the checks have nothing to compare in the others. Each record
comes with its lineage — the delivery it was loaded from, that delivery's department and file
name (from the ledger), and its row in that file — so a finding can tell a clerk where to look.

Table and column names come from the catalog through ``schema.ident``; the queries carry no values.

>>> from etl.catalog import load_catalog
>>> tables = identifier_tables(load_catalog(), ["admin_penalty", "tax_credit_grade_a"])
>>> [t.name for t in tables]
['admin_penalty']
>>> print(identifiers_sql(tables[0]))
SELECT "uscc", "subject_name", "orgcode", "_delivery_id", "_source_row" FROM "admin_penalty"
WHERE "uscc" IS NOT NULL AND "uscc" <> ''
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from etl.catalog import Catalog
from etl.errors import WarehouseError
from etl.warehouse.base import Warehouse, _columns
from etl.warehouse.schema import DatasetTable, dataset_table, ident, internal_ident

CODE = "uscc"
NAME = "subject_name"
ORGCODE = "orgcode"

IDENTIFIERS_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("department", pa.string()),
        ("delivery_id", pa.string()),
        ("file_name", pa.string()),
        ("source_row", pa.int64()),
        ("uscc", pa.string()),
        ("subject_name", pa.string()),
        ("orgcode", pa.string()),
    ]
)
"""One row per record; ordered by dataset, delivery and source row."""

LINEAGE = pa.schema([("delivery_id", pa.string()), ("department", pa.string()), ("file_name", pa.string())])

# Department and file of each delivery; a duplicate arrival may carry another file name.
DELIVERIES_SQL = (
    "SELECT delivery_id, min(department), min(file_name) FROM deliveries "
    "WHERE status <> 'duplicate' GROUP BY delivery_id"
)


def identifier_tables(catalog: Catalog, dataset_ids: Iterable[str] | None = None) -> list[DatasetTable]:
    """The tables of the datasets (all, or ``dataset_ids``, which must be in the catalog) that carry
    a USCC and a subject name, in catalog order."""
    wanted = list(catalog.datasets) if dataset_ids is None else [catalog.dataset(d).id for d in dataset_ids]
    tables = (dataset_table(catalog.datasets[d]) for d in dict.fromkeys(wanted))
    return [t for t in tables if t.has_fields(CODE, NAME)]


def identifiers_sql(table: DatasetTable) -> str:
    """The query of one table's records that have a USCC."""
    orgcode = ident(ORGCODE) if table.has_fields(ORGCODE) else "CAST(NULL AS VARCHAR)"
    selected = ", ".join(
        [ident(CODE), ident(NAME), orgcode, internal_ident("_delivery_id"), internal_ident("_source_row")]
    )
    code = ident(CODE)
    return f"SELECT {selected} FROM {ident(table.name)}\nWHERE {code} IS NOT NULL AND {code} <> ''"


def read_identifiers(warehouse: Warehouse, tables: Iterable[DatasetTable]) -> pa.Table:
    """The records of ``tables`` with a USCC, as ``IDENTIFIERS_SCHEMA``. A table the warehouse does
    not have yet (its dataset was added to the catalog after the last init) has no records."""
    parts: list[pa.Table] = []
    with warehouse._session("reading subject identifiers") as session:
        if not _columns(session, "deliveries"):
            raise WarehouseError(f"no ledger in {warehouse.url.display}; run `credit-etl warehouse init`")
        deliveries = session.rows(DELIVERIES_SQL)
        for table in tables:
            if _columns(session, table.name):
                parts.append(_named(table.dataset_id, session.arrow(identifiers_sql(table))))
    if not parts:
        return IDENTIFIERS_SCHEMA.empty_table()
    lineage = pa.Table.from_pylist(
        [dict(zip(LINEAGE.names, row, strict=True)) for row in deliveries], LINEAGE
    )
    records = pa.concat_tables(parts).join(lineage, "delivery_id", join_type="left outer")
    order = [("dataset", "ascending"), ("delivery_id", "ascending"), ("source_row", "ascending")]
    return records.select(IDENTIFIERS_SCHEMA.names).sort_by(order).cast(IDENTIFIERS_SCHEMA)


def _named(dataset: str, result: pa.Table) -> pa.Table:
    """One table's query result with the dataset it belongs to, in the columns of the schema."""
    return pa.table(
        {
            "dataset": pa.repeat(pa.scalar(dataset, pa.string()), result.num_rows),
            "delivery_id": result.column(3).cast(pa.string()),
            "source_row": result.column(4).cast(pa.int64()),
            "uscc": result.column(0).cast(pa.string()),
            "subject_name": result.column(1).cast(pa.string()),
            "orgcode": result.column(2).cast(pa.string()),
        }
    )
