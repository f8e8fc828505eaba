"""The freshness monitor DAG's task callables: each opens the catalog and warehouse from the settings
(``CREDIT_ETL_CATALOG``, ``CREDIT_ETL_WAREHOUSE``) and passes plain JSON values between tasks.

    monitor_day ──▶ evaluate ──▶ record ──▶ notify

``monitor_day`` raises Airflow's skip exception on a day that is not a working day, so the run is
skipped rather than failed; in a year the calendar does not know it runs Monday to Friday (the
evaluation then says it cannot decide, and the coordinator is told).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from etl.freshness import SHANGHAI, STATES

log = logging.getLogger(__name__)


def shanghai_day(moment: dt.datetime) -> dt.date:
    """The Shanghai date of a run's logical date (Airflow gives it in UTC).

    >>> shanghai_day(dt.datetime(2026, 10, 15, 1, 0, tzinfo=dt.timezone.utc))
    datetime.date(2026, 10, 15)
    >>> shanghai_day(dt.datetime(2026, 10, 15, 17, 0, tzinfo=dt.timezone.utc))
    datetime.date(2026, 10, 16)
    """
    return moment.astimezone(SHANGHAI).date()


def monitor_day(logical_date: dt.datetime) -> str:
    """The day to judge (ISO), or a skip when it is not a working day."""
    from etl import settings
    from etl.alerts.run import is_monitor_day
    from etl.calendar import WorkCalendar
    from etl.catalog import load_catalog

    day = shanghai_day(logical_date)
    calendar = WorkCalendar.from_catalog(load_catalog(settings.catalog_dir()))
    if not is_monitor_day(calendar, day):
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(f"{day.isoformat()} is not a working day: no freshness monitor today")
    return day.isoformat()


def evaluate(as_of: str) -> list[dict[str, Any]]:
    """Every source's freshness at ``as_of``, as JSON values."""
    from etl import settings
    from etl.alerts.run import evaluate_sources
    from etl.catalog import load_catalog
    from etl.warehouse import open_warehouse

    day = dt.date.fromisoformat(as_of)
    sources = evaluate_sources(load_catalog(settings.catalog_dir()), open_warehouse(), day)
    counts = {state: sum(s.state == state for s in sources) for state in STATES}
    log.info("freshness on %s: %s", as_of, ", ".join(f"{n} {state}" for state, n in counts.items()))
    return [s.as_dict() for s in sources]


def record(as_of: str, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """Records the day's notices and messages; returns how many, by kind."""
    from etl import settings
    from etl.alerts.run import policy_from_env, record_alerts
    from etl.catalog import load_catalog
    from etl.freshness import SourceFreshness
    from etl.warehouse import open_warehouse

    day = dt.date.fromisoformat(as_of)
    evaluated = [SourceFreshness.from_dict(s) for s in sources]
    recorded = record_alerts(load_catalog(settings.catalog_dir()), open_warehouse(), evaluated, day,
                             policy=policy_from_env())  # fmt: skip
    kinds: dict[str, int] = {}
    for notice in recorded.plan.notices:
        kinds[notice.kind] = kinds.get(notice.kind, 0) + 1
    return {"notices": kinds, "messages": len(recorded.messages)}


def notify(as_of: str) -> dict[str, int]:
    """Sends the day's unsent messages; fails (for Airflow to retry) if any could not be sent."""
    from etl.alerts.run import send_alerts
    from etl.warehouse import open_warehouse

    report = send_alerts(open_warehouse(), dt.date.fromisoformat(as_of))
    return {"sent": len(report.sent)}
