"""What ``dags/credit_marts.py`` runs: refresh the marts from the warehouse named by the settings.

Called by the DAG's task when any dataset's Asset was updated (a load wrote rows); the refresh is
incremental, so a run that finds nothing new changes nothing but the key supervision targets' date.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def refresh_after_loads(as_of: str | None = None) -> dict[str, Any]:
    """Refreshes the marts (``etl.marts.build.refresh_marts``); returns the report as plain values
    for XCom. ``as_of`` (YYYY-MM-DD) defaults to today in Shanghai."""
    import datetime as dt

    from etl import settings
    from etl.catalog import load_catalog
    from etl.marts.build import refresh_marts
    from etl.warehouse import open_warehouse

    catalog = load_catalog(settings.catalog_dir())
    day = dt.date.fromisoformat(as_of) if as_of else None
    report = refresh_marts(open_warehouse(), catalog, as_of=day)
    values = dataclasses.asdict(report)
    values["as_of"] = report.as_of.isoformat()
    return values
