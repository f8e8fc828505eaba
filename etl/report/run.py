"""The NDRC report DAG's task callables: plain JSON values in and out, catalog and warehouse from
the settings (``CREDIT_ETL_CATALOG``, ``CREDIT_ETL_WAREHOUSE``).

    period ──▶ write

A run on the 1st reports the whole previous month, a run on the 16th the first half of the current
one (``ReportPeriod.previous_for``). The files go to ``$CREDIT_ETL_REPORTS/<period>/`` (default
``$CREDIT_ETL_HOME/reports``), the Data Docs into ``data_docs/`` beside them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

from etl.freshness import SHANGHAI
from etl.report.period import ReportPeriod

log = logging.getLogger(__name__)


def reports_root() -> Path:
    """Where the DAG writes reports: ``CREDIT_ETL_REPORTS``, else ``$CREDIT_ETL_HOME/reports``."""
    from etl import settings

    return Path(os.environ.get("CREDIT_ETL_REPORTS") or settings.home() / "reports")


def period_of_run(logical_date: dt.datetime) -> dict[str, Any]:
    """The period a run reports, from its logical date (Airflow gives it in UTC).

    >>> period_of_run(dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC))   # 11-01 00:00 in Shanghai
    {'year': 2026, 'month': 10, 'half': None, 'key': '2026-10'}
    >>> period_of_run(dt.datetime(2026, 11, 16, 0, 0, tzinfo=dt.UTC))
    {'year': 2026, 'month': 11, 'half': 1, 'key': '2026-11-H1'}
    """
    period = ReportPeriod.previous_for(logical_date.astimezone(SHANGHAI).date())
    return {"year": period.year, "month": period.month, "half": period.half, "key": period.key}


def write(period: dict[str, Any], out_root: Path | None = None) -> dict[str, Any]:
    """Writes the report of ``period`` under ``out_root`` (default ``reports_root()``)."""
    from etl import settings
    from etl.catalog import load_catalog
    from etl.report.write import write_report
    from etl.warehouse import open_warehouse

    chosen = ReportPeriod(period["year"], period["month"], period["half"])
    out = (out_root or reports_root()) / chosen.key
    files, metrics = write_report(open_warehouse(), load_catalog(settings.catalog_dir()), chosen, out)
    overview = metrics["overview"]
    log.info("report %s: %d deliveries, %d rows loaded, %d rejected, %d open breaches", chosen.key,
             overview["deliveries"], overview["rows_loaded"], overview["rows_rejected"],
             len(metrics["breaches"]))  # fmt: skip
    return {
        "period": chosen.key,
        "html": str(files.html),
        "workbook": str(files.workbook),
        "metrics": str(files.metrics),
        "deliveries": overview["deliveries"],
        "breaches": len(metrics["breaches"]),
    }
