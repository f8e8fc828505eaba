"""Credit marts (信用档案, 红黑名单, 重点监管对象): refreshed whenever a load wrote rows.

    refresh

Scheduled on the Assets the source DAGs publish (``credit://warehouse/<table>``, one per catalog
dataset, from ``etl.dag_specs``): any one of them updated starts a run, which takes in every load
the marts do not reflect yet and rebuilds only the subjects those loads touched
(``etl.marts.build``). Thin wiring only: the task callable is ``etl.marts.task``, imported when the
task runs.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetAny, dag, task

from etl import settings
from etl.dag_specs import START_DATE, dag_default_args, dag_specs, warehouse_task_args

_WAREHOUSE = warehouse_task_args(settings.warehouse_url())
_ASSETS = sorted({spec.asset_uri for spec in dag_specs()})


@dag(
    dag_id="credit_marts",
    schedule=AssetAny(*(Asset(uri) for uri in _ASSETS)),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["marts", "profiles", "lists"],
    doc_md=__doc__,
    default_args=dag_default_args(),
)
def credit_marts() -> None:
    @task(**_WAREHOUSE)
    def refresh() -> dict[str, Any]:
        from etl.marts import task as marts_task

        return marts_task.refresh_after_loads()

    refresh()


credit_marts()
