"""Warehouse tables derived from the catalog: one place for the DDL of both backends.

Each catalog dataset gets two tables:

``<table>``
    the current version of every record: the dataset's fields in catalog order, typed, then the
    lineage columns ``_delivery_id``, ``_sha256``, ``_source_row``, ``_loaded_at`` and
    ``_record_hash``; the dedup key's fields are NOT NULL and unique. On PostgreSQL the key is the
    primary key. On DuckDB it is kept unique by the load alone (staged keys are checked unique, and
    the merge inserts only keys the table lacks): an ART index on it makes a bulk insert about three
    times slower and holds every key in memory, and DuckDB has one writer, the load, which holds
    its lock. (Tables created with the key before keep it; loads into them are slower, not wrong.)
``<table>_history``
    every version a later delivery replaced: the same columns plus ``_superseded_at`` and
    ``_superseded_by`` (the delivery id that replaced it).

Backends differ only in type names (``DIALECTS``). Every identifier that reaches SQL goes through
``ident``, which accepts catalog names only if they match ``etl.catalog.SQL_IDENTIFIER`` and then
quotes them.

>>> from etl.catalog import load_catalog
>>> penalty = load_catalog().datasets["admin_penalty"]
>>> ddl = create_table_sql(dataset_table(penalty), DIALECTS["postgresql"])
>>> print(ddl.splitlines()[0])
CREATE TABLE "admin_penalty" (
>>> [line.strip() for line in ddl.splitlines() if "fine_amount" in line or "PRIMARY" in line]
['"fine_amount" NUMERIC(20,6),', 'PRIMARY KEY ("decision_no", "subject_name")']
>>> "PRIMARY" in create_table_sql(dataset_table(penalty), DIALECTS["duckdb"])
False
>>> ident("admin_penalty; DROP TABLE x")
Traceback (most recent call last):
    ...
etl.errors.WarehouseError: 'admin_penalty; DROP TABLE x' is not a safe SQL identifier ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from etl.catalog import CODE_TYPES, SQL_IDENTIFIER, Catalog, Dataset
from etl.errors import WarehouseError

# Our own column and scratch-table names start with "_" so they never collide with catalog names
# (which cannot); they are constants of this package, checked once below.
INTERNAL_IDENTIFIER = re.compile(r"^_[a-z][a-z0-9_]{0,61}$")

# Tables the warehouse owns; no dataset may take these names.
CORE_TABLES = (
    "deliveries", "quarantine", "subjects", "schema_migrations", "dataset_tables",
    "alerts", "alert_notices", "alert_messages",
    "mart_subject_facts", "mart_subject_profiles", "mart_subject_domains", "mart_list_entries",
    "mart_key_targets", "mart_refreshed_deliveries", "mart_refreshes", "mart_refresh_ledger",
    "mart_refresh_subjects", "mart_sources", "lookup_audit",
)  # fmt: skip
HISTORY_SUFFIX = "_history"


@dataclass(frozen=True)
class Dialect:
    """What differs between backends in DDL: the names of the logical types, and whether the dedup
    key of a dataset table is declared as its primary key (see the module docstring)."""

    name: str
    types: Mapping[str, str]
    key_constraint: bool = True


_COMMON_TYPES = {"date": "DATE", "integer": "BIGINT", "timestamp": "TIMESTAMPTZ", "json": "JSON"}
DIALECTS: Mapping[str, Dialect] = {
    "duckdb": Dialect(
        "duckdb",
        {**_COMMON_TYPES, "string": "VARCHAR", "code": "VARCHAR", "decimal": "DECIMAL(20,6)"},
        key_constraint=False,
    ),
    "postgresql": Dialect(
        "postgresql", {**_COMMON_TYPES, "string": "TEXT", "code": "VARCHAR", "decimal": "NUMERIC(20,6)"}
    ),
}


def ident(name: str) -> str:
    """Quotes a catalog name for SQL after checking it against ``SQL_IDENTIFIER``.

    >>> ident("decision_no")
    '"decision_no"'
    """
    if not isinstance(name, str) or not SQL_IDENTIFIER.match(name):
        raise WarehouseError(f"{name!r} is not a safe SQL identifier (want {SQL_IDENTIFIER.pattern})")
    return f'"{name}"'


def internal_ident(name: str) -> str:
    """Quotes one of the warehouse's own ``_``-prefixed names (lineage columns, scratch tables)."""
    if not INTERNAL_IDENTIFIER.match(name):
        raise WarehouseError(f"{name!r} is not a warehouse-internal identifier")
    return f'"{name}"'


def column_ident(name: str) -> str:
    """Quotes a column name of a dataset table: a catalog field or a lineage column."""
    return internal_ident(name) if name.startswith("_") else ident(name)


@dataclass(frozen=True)
class Column:
    """A column of a warehouse table: its name, logical type and nullability."""

    name: str
    logical_type: str
    not_null: bool = False
    default: str | None = None

    @property
    def quoted(self) -> str:
        return column_ident(self.name)

    def ddl(self, dialect: Dialect) -> str:
        parts = [self.quoted, dialect.types[self.logical_type]]
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.not_null:
            parts.append("NOT NULL")
        return " ".join(parts)


def logical_type(field_type: str) -> str:
    """The warehouse type of a catalog field type: code types are text, the rest map one to one."""
    return "code" if field_type in CODE_TYPES else field_type


# Lineage: which delivery and row a record came from, when it was loaded, and a hash of its
# business columns so that an unchanged record re-delivered changes nothing.
LINEAGE_COLUMNS = (
    Column("_delivery_id", "code", not_null=True),
    Column("_sha256", "code", not_null=True),
    Column("_source_row", "integer", not_null=True),
    Column("_loaded_at", "timestamp", not_null=True, default="now()"),
    Column("_record_hash", "code", not_null=True),
)
HISTORY_COLUMNS = (
    Column("_superseded_at", "timestamp", not_null=True),
    Column("_superseded_by", "code", not_null=True),
)
# What the pipeline's accepted Parquet carries besides the fields (the warehouse sets _loaded_at).
STAGED_LINEAGE = tuple(c for c in LINEAGE_COLUMNS if c.name != "_loaded_at")

for _column in (*LINEAGE_COLUMNS, *HISTORY_COLUMNS):
    internal_ident(_column.name)


@dataclass(frozen=True)
class DatasetTable:
    """The warehouse tables of one dataset, with every name already checked."""

    dataset_id: str
    name: str
    fields: tuple[Column, ...]
    dedup_key: tuple[str, ...]

    @property
    def history_name(self) -> str:
        return self.name + HISTORY_SUFFIX

    @property
    def columns(self) -> tuple[Column, ...]:
        return (*self.fields, *LINEAGE_COLUMNS)

    @property
    def history_columns(self) -> tuple[Column, ...]:
        return (*self.columns, *HISTORY_COLUMNS)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.fields)

    def has_fields(self, *names: str) -> bool:
        return all(name in self.field_names for name in names)


def dataset_table(dataset: Dataset) -> DatasetTable:
    """The table layout of ``dataset``; raises ``WarehouseError`` for any unsafe or clashing name."""
    names = [dataset.table, dataset.table + HISTORY_SUFFIX, *(f.name for f in dataset.fields)]
    for name in names:
        ident(name)
    if dataset.table in CORE_TABLES or dataset.table + HISTORY_SUFFIX in CORE_TABLES:
        raise WarehouseError(f"dataset {dataset.id}: table name {dataset.table!r} is reserved")
    unknown = [k for k in dataset.dedup_key if k not in dataset.field_names]
    if unknown or not dataset.dedup_key:
        raise WarehouseError(f"dataset {dataset.id}: dedup key names unknown fields {unknown}")
    fields = tuple(
        Column(f.name, logical_type(f.type), not_null=f.name in dataset.dedup_key) for f in dataset.fields
    )
    return DatasetTable(dataset.id, dataset.table, fields, tuple(dataset.dedup_key))


def catalog_tables(catalog: Catalog) -> list[DatasetTable]:
    """Every dataset's tables, checking that no two datasets claim the same table name."""
    tables = [dataset_table(d) for d in catalog.datasets.values()]
    owners: dict[str, str] = {}
    for table in tables:
        for name in (table.name, table.history_name):
            if name in owners:
                raise WarehouseError(
                    f"datasets {owners[name]} and {table.dataset_id} both need a table named {name!r}"
                )
            owners[name] = table.dataset_id
    return tables


def create_table_sql(table: DatasetTable, dialect: Dialect) -> str:
    """``CREATE TABLE`` of the current-version table, keyed on the dedup key where the dialect declares it."""
    lines = [c.ddl(dialect) for c in table.columns]
    if dialect.key_constraint:
        lines.append(f"PRIMARY KEY ({', '.join(ident(k) for k in table.dedup_key)})")
    body = ",\n    ".join(lines)
    return f"CREATE TABLE {ident(table.name)} (\n    {body}\n)"


def create_history_sql(table: DatasetTable, dialect: Dialect) -> str:
    """``CREATE TABLE`` of the history table: same columns, no key (a record has many versions)."""
    lines = [Column(c.name, c.logical_type, c.not_null).ddl(dialect) for c in table.history_columns]
    body = ",\n    ".join(lines)
    return f"CREATE TABLE {ident(table.history_name)} (\n    {body}\n)"


def add_column_sql(table_name: str, column: Column, dialect: Dialect) -> str:
    """``ALTER TABLE ... ADD COLUMN`` for a field the catalog gained; always nullable (old rows)."""
    return f"ALTER TABLE {ident(table_name)} ADD COLUMN {column.quoted} {dialect.types[column.logical_type]}"
