"""Fixtures for the delivery sources: the catalog, synthetic deliveries, a fresh DuckDB warehouse and
storage root per test."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from source_deliveries import DATASETS

from etl.catalog import Catalog
from etl.demo_data import generate
from etl.storage import Storage
from etl.warehouse import open_warehouse
from etl.warehouse.base import Warehouse


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> tuple[Path, dict]:
    """One clean delivery per source of DATASETS (no injected defects: every row loads)."""
    out = tmp_path_factory.mktemp("demo")
    manifest = generate(out, seed=5, rows=60, datasets=DATASETS, defect_rate=0.0, catalog=catalog)
    return out, manifest


@pytest.fixture
def warehouse(tmp_path: Path, catalog: Catalog) -> Warehouse:
    small = dataclasses.replace(catalog, datasets={d: catalog.datasets[d] for d in DATASETS})
    warehouse = open_warehouse(f"duckdb:///{tmp_path}/warehouse.duckdb")
    warehouse.init(small)
    return warehouse


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "storage")
