"""NDRC data-quality report (发改委数据质量报告): on the 1st and 16th of each month, 08:00 Asia/Shanghai.

    period ──▶ write

- ``period``: a run on the 1st reports the whole previous month, a run on the 16th the first half
  of the current month;
- ``write``: reads the ledger, quarantine and warehouse and writes ``report.html`` (charts as inline
  SVG, no external URL), ``report.xlsx`` (one sheet per section) and ``metrics.json`` (every figure)
  to ``$CREDIT_ETL_REPORTS/<period>/``, with the Great Expectations Data Docs each dataset links to.

Thin wiring only: the task callables are ``etl.report.run``, imported when a task runs. The same
report comes from ``credit-etl report --period YYYY-MM [--half 1|2] --out DIR``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, task

from etl import settings
from etl.dag_specs import START_DATE, TIMEZONE, dag_default_args, warehouse_task_args

_WAREHOUSE = warehouse_task_args(settings.warehouse_url())


@dag(
    dag_id="ndrc_report",
    schedule=CronTriggerTimetable("0 8 1,16 * *", timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["report", "ndrc"],
    doc_md=__doc__,
    default_args=dag_default_args(retry_delay=dt.timedelta(minutes=5)),
)
def ndrc_report() -> None:
    @task
    def period(logical_date: Any = None) -> dict[str, Any]:
        from etl.report import run

        return run.period_of_run(logical_date)

    @task(execution_timeout=dt.timedelta(minutes=30), **_WAREHOUSE)
    def write(chosen: dict[str, Any]) -> dict[str, Any]:
        from etl.report import run

        return run.write(chosen)

    write(period())


ndrc_report()
