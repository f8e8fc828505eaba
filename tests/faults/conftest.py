"""Fixtures for the injected-fault tests: the catalog cut down to three datasets, one synthetic
delivery, and warehouses on both backends (``backends``: DuckDB in tmp_path, PostgreSQL in a schema of
its own)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backends import BACKENDS, initialised_warehouse
from source_deliveries import DATASETS  # what the tests load: a warehouse of only these inits quickly

from etl.catalog import Catalog
from etl.demo_data import generate
from etl.warehouse.base import Warehouse

SOURCE = "admin_penalty__scjg__landing"


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
    with contextlib.ExitStack() as urls:

        def make(name: str) -> tuple[str, Warehouse]:
            return urls.enter_context(initialised_warehouse(request.param, tmp_path, small_catalog, name))

        yield make
