"""Fixtures for the injected-fault tests: the catalog, one synthetic delivery, warehouses on both
backends (DuckDB in tmp_path, PostgreSQL in a schema of its own), and the helpers of tests/sources
(the cutting TCP proxy, the sshd server) on the import path."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from etl.catalog import Catalog, load_catalog
from etl.demo_data import generate
from etl.warehouse import open_warehouse
from etl.warehouse.base import Warehouse

# Appended, not prepended: tests/sources has a conftest.py of its own, which pytest must keep finding
# as the ``conftest`` of that folder.
_SOURCES = str(Path(__file__).resolve().parents[1] / "sources")
if _SOURCES not in sys.path:
    sys.path.append(_SOURCES)

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SOURCE = "admin_penalty__scjg__landing"
# What the tests load: init of a warehouse with only these is quick.
DATASETS = ("admin_penalty", "basic_deposit_account", "tax_credit_grade_a")

BACKENDS = ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def small_catalog(catalog: Catalog) -> Catalog:
    return dataclasses.replace(catalog, datasets={d: catalog.datasets[d] for d in DATASETS})


@pytest.fixture(scope="session")
def penalty_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 行政处罚 delivery of the market regulator (134 rows, a few of them defective)."""
    out = tmp_path_factory.mktemp("penalty")
    manifest = generate(out, seed=11, scale=0.5, sources=[SOURCE], file_format="csv")
    (record,) = manifest["deliveries"]
    return out / record["path"]


WarehouseFactory = Callable[[str], tuple[str, Warehouse]]


@pytest.fixture(params=BACKENDS)
def make_warehouse(request: pytest.FixtureRequest, tmp_path: Path, small_catalog: Catalog) -> Iterator:
    """``make(name) -> (url, warehouse)``: a fresh, initialised warehouse on the test's backend."""
    schemas: list[str] = []

    def make(name: str) -> tuple[str, Warehouse]:
        if request.param == "duckdb":
            url = f"duckdb:///{tmp_path}/{name}.duckdb"
        else:
            schemas.append(f"fault_{uuid.uuid4().hex[:12]}")
            url = f"{POSTGRES_URL}?schema={schemas[-1]}"
        warehouse = open_warehouse(url)
        warehouse.init(small_catalog)
        return url, warehouse

    yield make
    if schemas:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            for schema in schemas:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
