"""The report fixture's warehouse on each backend (``tests/support/backends.py``), built once per
module; the report of October 2026 is written from it as the 20th of November would write it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from backends import BACKENDS, backend_url
from report_fixture import GENERATED_AT, build_warehouse

from etl.catalog import Catalog
from etl.report.period import ReportPeriod
from etl.report.write import ReportFiles, write_report
from etl.warehouse.base import Warehouse


@dataclass(frozen=True)
class Built:
    catalog: Catalog
    warehouse: Warehouse
    statuses: dict[str, str]
    files: ReportFiles
    metrics: dict[str, Any]
    out: Path


@pytest.fixture(scope="module", params=BACKENDS)
def report_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with backend_url(request.param, tmp_path_factory.mktemp(request.param), "report") as url:
        yield url


@pytest.fixture(scope="module")
def built(report_url: str, tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("report")
    catalog, warehouse, statuses = build_warehouse(tmp, report_url)
    out = tmp / "out"
    files, metrics = write_report(warehouse, catalog, ReportPeriod.parse("2026-10"), out, build_docs=False,
                                  generated_at=GENERATED_AT)  # fmt: skip
    return Built(catalog, warehouse, statuses, files, metrics, out)
