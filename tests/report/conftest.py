"""The report fixture's warehouse on each backend, built once per module: DuckDB in a temporary
directory, PostgreSQL in a schema of its own (127.0.0.1:5432, database ``test``), dropped afterwards.
The report of October 2026 is written from it as the 20th of November would write it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from report_fixture import GENERATED_AT, build_warehouse

from etl.catalog import Catalog
from etl.report.period import ReportPeriod
from etl.report.write import ReportFiles, write_report
from etl.warehouse.base import Warehouse

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Built:
    catalog: Catalog
    warehouse: Warehouse
    statuses: dict[str, str]
    files: ReportFiles
    metrics: dict[str, Any]
    out: Path


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def report_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path_factory.mktemp('duckdb')}/warehouse.duckdb"
        return
    schema = f"report_{uuid.uuid4().hex[:12]}"
    yield f"{POSTGRES_URL}?schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def built(report_url: str, tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("report")
    catalog, warehouse, statuses = build_warehouse(tmp, report_url)
    out = tmp / "out"
    files, metrics = write_report(warehouse, catalog, ReportPeriod.parse("2026-10"), out, build_docs=False,
                                  generated_at=GENERATED_AT)  # fmt: skip
    return Built(catalog, warehouse, statuses, files, metrics, out)
