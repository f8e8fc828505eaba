"""Fixtures: a fresh warehouse per test on each backend.

DuckDB lives in ``tmp_path``; PostgreSQL (127.0.0.1:5432, database ``test``, user ``postgres``)
gets a schema of its own per test, dropped afterwards.
"""

from __future__ import annotations

import dataclasses

import pytest
from warehouse_deliveries import Deliveries

from etl.catalog import Catalog
from etl.warehouse import open_warehouse
from etl.warehouse.base import Warehouse


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
