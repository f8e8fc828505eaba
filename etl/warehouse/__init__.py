"""The credit warehouse: one interface, DuckDB (embedded default) and PostgreSQL behind it.

>>> import tempfile
>>> from etl.catalog import load_catalog
>>> warehouse = open_warehouse(f"duckdb:///{tempfile.mkdtemp()}/w.duckdb")
>>> report = warehouse.init(load_catalog())
>>> report.migrations
['0001_core', '0002_alerts', '0003_marts']
>>> warehouse.table_snapshot("admin_penalty").num_rows
0

Tables (``sql/migrations/0001_core.sql`` and ``etl/warehouse/schema.py``):

- ``<dataset table>``: the current version of each record (key: the dataset's dedup key), with
  lineage ``_delivery_id``, ``_sha256``, ``_source_row``, ``_loaded_at``, ``_record_hash``;
- ``<dataset table>_history``: replaced versions, with ``_superseded_at``, ``_superseded_by``;
- ``subjects``: every 主体 seen, by unified social credit code;
- ``quarantine``: rejected rows as delivered, with their reasons;
- ``deliveries``: the ledger (``etl.warehouse.ledger``);
- ``schema_migrations`` and ``dataset_tables``: what init has done.

The URL comes from ``--warehouse``, else ``CREDIT_ETL_WAREHOUSE``, else the DuckDB file
``$CREDIT_ETL_HOME/warehouse.duckdb`` (``var/`` in the project); see ``etl.warehouse.urls``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.warehouse.ledger import LOAD_STATUSES, STATUSES, LedgerRow
from etl.warehouse.urls import WarehouseUrl, parse_url

if TYPE_CHECKING:
    from etl.warehouse.base import InitReport, LoadBatch, LoadReport, Warehouse

__all__ = [
    "LOAD_STATUSES",
    "STATUSES",
    "InitReport",
    "LedgerRow",
    "LoadBatch",
    "LoadReport",
    "Warehouse",
    "WarehouseUrl",
    "open_warehouse",
    "parse_url",
]

_LAZY = {"InitReport", "LoadBatch", "LoadReport", "Warehouse"}


def open_warehouse(url: str | None = None) -> Warehouse:
    """The warehouse at ``url`` (default: ``etl.settings.warehouse_url()``). Connects lazily: each
    operation opens and closes its own connection."""
    from etl import settings

    parsed = parse_url(url if url is not None else settings.warehouse_url())
    if parsed.dialect == "postgresql":
        from etl.warehouse.postgres import PostgresWarehouse

        return PostgresWarehouse(parsed)
    from etl.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(parsed)


def __getattr__(name: str) -> object:
    # pyarrow and the drivers load only when a warehouse is really used (DAG files import this).
    if name in _LAZY:
        from etl.warehouse import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
