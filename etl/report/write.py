"""Writes the NDRC report for a period: ``report.html``, ``report.xlsx`` and ``metrics.json`` in one
directory, and (unless given a site to link to) the Great Expectations Data Docs the page links
each dataset to, under ``data_docs/`` beside them.

The three files are written to temporary names and renamed at the end, so a reader never sees a
half-written report.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.report.period import ReportPeriod

if TYPE_CHECKING:
    from etl.catalog import Catalog
    from etl.report.queries import ReportInputs
    from etl.warehouse.base import Warehouse

log = logging.getLogger(__name__)

DATA_DOCS_DIR = "data_docs"
FILES = ("report.html", "report.xlsx", "metrics.json")


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    workbook: Path
    metrics: Path
    data_docs: str | None


def render(
    inputs: ReportInputs, out_dir: Path, *, docs_base: str | None
) -> tuple[ReportFiles, dict[str, Any]]:
    """Computes the figures of ``inputs`` and writes the three files; returns them and the metrics."""
    from etl.report.html import render_html
    from etl.report.metrics import compute
    from etl.report.tables import sections
    from etl.report.workbook import workbook_bytes

    metrics = compute(inputs, docs_base=docs_base)
    tables = sections(metrics)
    title = f"公共信用信息报送质量报告（{metrics['period']['label']}）"
    contents = {
        "report.html": render_html(metrics, tables).encode("utf-8"),
        "report.xlsx": workbook_bytes(tables, title=title, created=inputs.generated_at),
        "metrics.json": (json.dumps(metrics, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        partial = out_dir / f".{name}.partial"
        partial.write_bytes(data)
        partial.replace(out_dir / name)
    files = ReportFiles(out_dir / FILES[0], out_dir / FILES[1], out_dir / FILES[2], docs_base)
    return files, metrics


def write_report(
    warehouse: Warehouse,
    catalog: Catalog,
    period: ReportPeriod,
    out_dir: Path,
    *,
    docs_url: str | None = None,
    build_docs: bool = True,
    generated_at: dt.datetime | None = None,
) -> tuple[ReportFiles, dict[str, Any]]:
    """Reads the warehouse and writes the report of ``period`` into ``out_dir``.

    Dataset links go to ``docs_url`` when given (an existing Data Docs site); otherwise the Data
    Docs are built into ``out_dir/data_docs`` (``build_docs=False`` links there without building).
    """
    from dataclasses import replace

    from etl.report.queries import read_inputs

    out_dir = Path(out_dir)
    inputs = read_inputs(warehouse, catalog, period)
    if generated_at is not None:
        inputs = replace(inputs, generated_at=generated_at)
    docs_base = docs_url or DATA_DOCS_DIR
    if docs_url is None and build_docs:
        from etl.validate.docs import build_data_docs

        log.info("building the Data Docs in %s", out_dir / DATA_DOCS_DIR)
        build_data_docs(out_dir / DATA_DOCS_DIR, catalog=catalog)
    files, metrics = render(inputs, out_dir, docs_base=docs_base)
    log.info("report for %s written to %s", period.key, out_dir)
    return files, metrics
