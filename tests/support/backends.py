"""The two warehouse backends the tests run on: a DuckDB file, or a PostgreSQL schema of its own on
this machine's server (dropped afterwards), so tests never see each other's tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

if TYPE_CHECKING:
    from etl.catalog import Catalog
    from etl.warehouse.base import Warehouse

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

# Parametrise a test or fixture over these; PostgreSQL runs carry the `postgres` marker.
BACKENDS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def drop_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def backend_url(backend: str, directory: Path, name: str = "warehouse") -> Iterator[str]:
    """A warehouse URL on ``backend``: ``directory/<name>.duckdb``, or a fresh PostgreSQL schema."""
    if backend == "duckdb":
        yield f"duckdb:///{directory}/{name}.duckdb"
        return
    schema = f"t_{name}_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        drop_schema(schema)


@contextmanager
def initialised_warehouse(
    backend: str, directory: Path, catalog: Catalog, name: str = "warehouse"
) -> Iterator[tuple[str, Warehouse]]:
    """``backend_url`` with the warehouse opened and initialised for ``catalog``: (url, warehouse)."""
    from etl.warehouse import open_warehouse

    with backend_url(backend, directory, name) as url:
        warehouse = open_warehouse(url)
        warehouse.init(catalog)
        yield url, warehouse
