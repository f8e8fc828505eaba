"""The demo's department databases: each database source's synthetic table, served by the local
PostgreSQL, so that the demo's database DAGs pull over a real connection.

One database per demo work directory and connection id (``credit_demo_1a2b3c4d_db_tax`` …: the
tag is a digest of the work directory, so demos in different homes, such as a test's and ``make
demo``, never drop each other's), dropped and created again on each demo run. A ``table`` source
gets its table (schema included) with the catalog's column names; a ``query`` source gets the table
its query reads, with the column names the query selects (``ah AS case_no`` makes a column ``ah``
holding ``case_no``). Cells are stored as text, the watermark as ``timestamptz``. The connection ids
are then handed to Airflow as ``AIRFLOW_CONN_<ID>`` variables.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

from etl.catalog import SQL_IDENTIFIER, SourceRef
from etl.errors import SourceError

SERVER = "postgresql://postgres@127.0.0.1:5432"
SELECTED = re.compile(r"\b([a-z][a-z0-9_]*)\s+AS\s+([a-z][a-z0-9_]*)\b", re.IGNORECASE)
FROM_TABLE = re.compile(r"\bFROM\s+([a-z][a-z0-9_.]*)", re.IGNORECASE)


def database_name(conn_id: str, work: Path) -> str:
    """>>> database_name("db_tax", Path("/srv/demo"))
    'credit_demo_926574b4_db_tax'
    """
    name = f"{database_prefix(work)}{conn_id.lower().replace('-', '_').replace('.', '_')}"
    if not SQL_IDENTIFIER.match(name):
        raise SourceError(f"connection id {conn_id!r} makes no usable database name")
    return name


def database_prefix(work: Path) -> str:
    """What the names of one work directory's databases start with."""
    tag = hashlib.sha256(str(work.resolve()).encode()).hexdigest()[:8]
    return f"credit_demo_{tag}_"


def source_columns(ref: SourceRef) -> tuple[str, dict[str, str]]:
    """The department table a source reads and its column -> catalog field mapping.

    >>> from etl.catalog import load_catalog
    >>> table, columns = source_columns(load_catalog().source("dishonest_judgment_debtor__court__database"))
    >>> table, columns["ah"], columns["gxsj"]
    ('zxgk.sxbzxr', 'case_no', 'updated_at')
    """
    source = ref.source
    if source.table is not None:
        return source.table, {name: name for name in ref.dataset.field_names}
    assert source.query is not None  # the catalog requires a table or a query
    found = FROM_TABLE.search(source.query)
    if found is None:
        raise SourceError(f"{ref.id}: cannot tell which table the query reads")
    return found.group(1), {column: field for column, field in SELECTED.findall(source.query)}


def load(refs: Iterable[SourceRef], work: Path, server: str = SERVER) -> dict[str, str]:
    """Creates the databases and tables from ``work/database/<source id>.jsonl``; returns the
    ``AIRFLOW_CONN_*`` variables that point the sources at them. Raises ``SourceError`` when the
    PostgreSQL server cannot be reached."""
    import psycopg

    refs = [ref for ref in refs if ref.source.method == "database"]
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as admin:
            for conn_id in _conn_ids(refs):
                name = database_name(conn_id, work)
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                admin.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as exc:
        raise SourceError(f"PostgreSQL at {server} cannot be reached: {str(exc).strip()}") from None
    for ref in refs:
        assert ref.source.conn_id is not None and ref.source.watermark is not None
        database = database_name(ref.source.conn_id, work)
        with psycopg.connect(f"{server}/{database}", autocommit=True) as connection:
            _create_table(connection, ref, work / "database" / f"{ref.id}.jsonl")
    return connections(refs, work, server)


def connections(refs: Iterable[SourceRef], work: Path, server: str = SERVER) -> dict[str, str]:
    """The ``AIRFLOW_CONN_*`` variables of the database sources' demo databases (made by ``load``).

    >>> from etl.catalog import load_catalog
    >>> connections(load_catalog().sources(), Path("/srv/demo"))["AIRFLOW_CONN_DB_TAX"]
    'postgres://postgres@127.0.0.1:5432/credit_demo_926574b4_db_tax'
    """
    from etl.sources.connections import env_name

    # Airflow's URI scheme for its postgres connection type.
    base = server.replace("postgresql://", "postgres://", 1)
    return {env_name(conn_id): f"{base}/{database_name(conn_id, work)}" for conn_id in _conn_ids(refs)}


def drop(work: Path, server: str = SERVER) -> list[str]:
    """Drops the databases of ``work``'s demo; their names."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as admin:
        found = admin.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                              (database_prefix(work),))  # fmt: skip
        names = [row[0] for row in found]
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return names


def _conn_ids(refs: Iterable[SourceRef]) -> list[str]:
    return sorted({r.source.conn_id for r in refs if r.source.method == "database" and r.source.conn_id})


def _create_table(connection: object, ref: SourceRef, rows_file: Path) -> None:
    table, columns = source_columns(ref)
    watermark_column = next(c for c, f in columns.items() if f == ref.source.watermark)
    schema = table.split(".")[0] if "." in table else None
    names = list(columns)
    types = ["timestamptz" if c == watermark_column else "text" for c in names]
    rows = [json.loads(line) for line in rows_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    values = [tuple(_text(row.get(columns[c])) for c in names) for row in rows]
    execute = connection.execute  # type: ignore[attr-defined]
    if schema:
        execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    execute(f"CREATE TABLE {table} ({', '.join(f'{n} {t}' for n, t in zip(names, types, strict=True))})")
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        marks = ", ".join(["%s"] * len(names))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", values)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
