"""Helpers of the mart tests: a warehouse on each backend, and loading files through the pipeline."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from etl.catalog import Catalog
from etl.drop import receive_file
from etl.pipeline import LoadResult, process_drop
from etl.storage import Storage
from etl.warehouse import Warehouse, open_warehouse

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
MART_BACKENDS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@contextmanager
def mart_warehouse(backend: str, directory: Path, catalog: Catalog) -> Iterator[tuple[str, Warehouse]]:
    """An initialised warehouse and its URL: a DuckDB file, or a PostgreSQL schema of its own (dropped
    after)."""
    if backend == "duckdb":
        url = f"duckdb:///{directory}/marts.duckdb"
        warehouse = open_warehouse(url)
        warehouse.init(catalog)
        yield url, warehouse
        return
    schema = f"marts_{uuid.uuid4().hex[:12]}"
    try:
        url = f"{POSTGRES_URL}?schema={schema}"
        warehouse = open_warehouse(url)
        warehouse.init(catalog)
        yield url, warehouse
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Loader:
    """Delivers files through the real pipeline (receive, read, validate, load)."""

    def __init__(self, catalog: Catalog, warehouse: Warehouse, storage: Path) -> None:
        self.catalog, self.warehouse, self.storage = catalog, warehouse, Storage(storage)

    def deliver(self, path: Path, source_id: str) -> LoadResult:
        ref = self.catalog.source(source_id)
        drop = receive_file(self.storage, path, dataset=ref.dataset.id, department=ref.source.department,
                            source=source_id)  # fmt: skip
        return process_drop(drop, catalog=self.catalog, warehouse=self.warehouse, storage=self.storage,
                            batch_rows=256)  # fmt: skip

