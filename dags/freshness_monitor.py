"""Freshness monitor (数据报送时效监测): every day at 09:00 Asia/Shanghai, on working days only.

    monitor_day ──▶ evaluate ──▶ record ──▶ notify

- ``monitor_day`` skips the run when the day is not a Chinese working day (``etl.calendar``);
- ``evaluate`` judges every catalog source's SLAs from the ledger (``etl.freshness``): twice a
  month, within N working days of a change; ok, due soon, breached, recovered or undecidable;
- ``record`` writes today's notices to the ``alerts`` tables: at most one per obligation and day,
  an escalation after ``CREDIT_ETL_ALERT_ESCALATE_AFTER`` working days, a recovery notice when fixed;
- ``notify`` sends them in Chinese: mail to the department's contacts with a copy to the 发改委
  (SMTP connection), the department's DingTalk robot or webhook, escalations to the 发改委's robot.
  A retry sends only what did not go out.

Airflow 3 has no SLA misses, and a deadline alert fires only for runs that exist: a source that
never delivers has no run to miss, so this scheduled monitor is what catches it. Thin wiring only:
the task callables are ``etl.alerts.monitor``, imported when a task runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, task

from etl import settings
from etl.dag_specs import START_DATE, TIMEZONE, dag_default_args, warehouse_task_args

_WAREHOUSE = warehouse_task_args(settings.warehouse_url())


@dag(
    dag_id="freshness_monitor",
    schedule=CronTriggerTimetable("0 9 * * *", timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["freshness", "alerts"],
    doc_md=__doc__,
    default_args=dag_default_args(retry_delay=dt.timedelta(minutes=5)),
)
def freshness_monitor() -> None:
    @task
    def monitor_day(logical_date: Any = None) -> str:
        from etl.alerts import monitor

        return monitor.monitor_day(logical_date)

    @task(**_WAREHOUSE)
    def evaluate(as_of: str) -> list[dict[str, Any]]:
        from etl.alerts import monitor

        return monitor.evaluate(as_of)

    @task(**_WAREHOUSE)
    def record(as_of: str, sources: list[dict[str, Any]]) -> dict[str, Any]:
        from etl.alerts import monitor

        return monitor.record(as_of, sources)

    # A DingTalk robot that never answers must not hold the pool: the hook sets no timeout.
    @task(execution_timeout=dt.timedelta(minutes=10), **_WAREHOUSE)
    def notify(as_of: str, recorded: dict[str, Any]) -> dict[str, int]:
        from etl.alerts import monitor

        return monitor.notify(as_of)

    day = monitor_day()
    notify(day, record(day, evaluate(day)))


freshness_monitor()
