"""Compares two warehouses table by table, leaving out what differs between any two runs.

``dump(warehouse)`` reads every base table of the warehouse's schema (the ledger, quarantine,
subjects, the dataset tables and their history, the alert tables, the migrations) and returns, per
table, its rows as sorted JSON lines without the volatile columns: timestamps that record *when*
something happened and surrogate ids drawn from sequences. Two warehouses that hold the same
deliveries, loaded once each, dump equal whatever happened in between (crashes, retries, cuts).
"""

from __future__ import annotations

import json
from typing import Any

from etl.warehouse.base import Warehouse
from etl.warehouse.schema import ident

# When something happened, or which sequence number it drew: differs between a clean run and a
# recovered one without meaning anything.
VOLATILE_COLUMNS = frozenset({
    "ledger_id", "reprocess_of", "message_id",
    "received_at", "started_at", "finished_at", "applied_at",
    "_loaded_at", "_superseded_at", "created_at", "updated_at", "sent_at", "first_seen", "last_seen",
})  # fmt: skip

TABLES_SQL = (
    "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
    "AND table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
)


def row_counts(warehouse: Warehouse) -> dict[str, int]:
    """Every base table of the warehouse's schema and its number of rows, in one connection."""
    with warehouse._session("counting rows") as session:
        names = [str(name) for (name,) in session.rows(TABLES_SQL)]
        return {name: int(session.rows(f"SELECT count(*) FROM {ident(name)}")[0][0]) for name in names}


def rows_of(warehouse: Warehouse, table: str) -> list[str]:
    """The rows of ``table`` without volatile columns, as sorted JSON lines."""
    snapshot = warehouse.table_snapshot(table)
    kept = snapshot.drop_columns([c for c in snapshot.column_names if c in VOLATILE_COLUMNS])
    rows = kept.to_pylist()
    return sorted(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) for row in rows)


def dump(warehouse: Warehouse) -> dict[str, list[str]]:
    # Only tables with rows are read row by row: a connection per table costs 0.1 s on DuckDB.
    counts = row_counts(warehouse)
    return {table: rows_of(warehouse, table) if count else [] for table, count in counts.items()}


def differences(left: dict[str, list[str]], right: dict[str, list[str]]) -> dict[str, Any]:
    """Per table that differs: the rows only on each side (a readable assertion message)."""
    found: dict[str, Any] = {}
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table), right.get(table)
        if a == b:
            continue
        if a is None or b is None:
            found[table] = "missing on the left" if a is None else "missing on the right"
            continue
        only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        found[table] = {"only_left": only_a[:3], "only_right": only_b[:3], "rows": (len(a), len(b))}
    return found


def assert_same_dump(recovered: Warehouse, expected: dict[str, list[str]]) -> dict[str, list[str]]:
    """Asserts that ``recovered`` dumps as ``expected``; returns its dump for further checks."""
    got = dump(recovered)
    assert got == expected, differences(got, expected)
    return got


def assert_same_warehouse(recovered: Warehouse, clean: Warehouse) -> dict[str, list[str]]:
    """Asserts equal dumps; returns the recovered warehouse's dump for further checks."""
    return assert_same_dump(recovered, dump(clean))
