"""Fixtures: a fresh warehouse per test on each backend.

DuckDB lives in ``tmp_path``; PostgreSQL (127.0.0.1:5432, database ``test``, user ``postgres``)
gets a schema of its own per test, dropped afterwards.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from warehouse_deliveries import Deliveries

from etl.catalog import Catalog, load_catalog
from etl.warehouse import open_warehouse
from etl.warehouse.base import Warehouse

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

BACKENDS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    schema = f"wh_test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def warehouse_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/warehouse.duckdb"
    schema = request.getfixturevalue("postgres_schema")
    return f"{POSTGRES_URL}?schema={schema}"


@pytest.fixture(scope="session")
def small_catalog(catalog: Catalog) -> Catalog:
    """The datasets the tests load, so that a fresh warehouse per test is quick to create."""
    wanted = ("admin_penalty", "basic_deposit_account", "legal_entity_basic", "tax_credit_grade_a")
    return dataclasses.replace(catalog, datasets={name: catalog.datasets[name] for name in wanted})


@pytest.fixture
def warehouse(warehouse_url: str, small_catalog: Catalog) -> Warehouse:
    """An initialised, empty warehouse."""
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(small_catalog)
    return warehouse


@pytest.fixture
def penalties(tmp_path, catalog: Catalog) -> Deliveries:
    return Deliveries(tmp_path / "staging", catalog.datasets["admin_penalty"])
