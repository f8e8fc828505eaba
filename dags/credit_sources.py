"""One DAG per catalog source (dataset × department × delivery method), generated from the catalog.

Thin wiring only: the specs come from ``etl.dag_specs`` (schedule, tags, doc_md, retries, pool, Asset),
and every task imports ``etl.tasks`` when it runs, so parsing this file reads the catalog and nothing
else: no pandas, no Great Expectations, no database driver, no connection.

    discover ──▶ process (mapped: one task instance per delivery found) ──▶ record ──▶ publish
                                                                    └──▶ audit

``audit`` runs Great Expectations itself on a sample of each delivery (``etl.gx_audit``) once the
deliveries are processed, so GX's cost never delays a load.

``publish`` carries the dataset's Asset as its outlet and is skipped when no row was loaded, so an
Asset event means new or corrected rows reached the warehouse table.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import (
    Asset,
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    TriggerRule,
    XComArg,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowSkipException

from etl.dag_specs import DagSpec, dag_specs


def _timetable(spec: DagSpec) -> CronDataIntervalTimetable | CronTriggerTimetable:
    # Pulls need a real interval (start < end) to pull; file polls only need the moment.
    if spec.data_interval:
        return CronDataIntervalTimetable(spec.cron, timezone=spec.timezone)
    return CronTriggerTimetable(spec.cron, timezone=spec.timezone)


def build(spec: DagSpec) -> Any:
    """The DAG of one source."""
    writes = {"pool": spec.pool} if spec.pool else {}
    # SFTP discovery reads the ledger (is a file left on the server already loaded?).
    discovers = writes if spec.method == "sftp" else {}

    @dag(
        dag_id=spec.dag_id,
        schedule=_timetable(spec),
        start_date=spec.start_date,
        catchup=False,
        max_active_runs=1,
        tags=list(spec.tags),
        doc_md=spec.doc_md,
        default_args=spec.default_args,
    )
    def source_dag() -> None:
        @task(**discovers)
        def discover(data_interval_start: Any = None, data_interval_end: Any = None,
                     dag_run: Any = None) -> list[dict[str, Any]]:  # fmt: skip
            from etl import tasks

            conf = dag_run.conf if dag_run is not None else None
            found = tasks.discover(spec.source_id, data_interval_start, data_interval_end, conf)
            # Beside the items mapped over: what the source saw but did not take, for record.
            get_current_context()["ti"].xcom_push(key="report", value=found["report"])
            return found["items"]

        @task(map_index_template="{{ delivery }}", **writes)
        def process(item: dict[str, Any]) -> dict[str, Any]:
            from etl import tasks

            get_current_context()["delivery"] = item["drop"]["file_name"]  # type: ignore[typeddict-unknown-key]
            return tasks.process(item)

        # Runs when nothing was found too (the mapped process is then skipped).
        @task(trigger_rule=TriggerRule.NONE_FAILED)
        def record(results: Any, report: dict[str, Any]) -> dict[str, Any]:
            from etl import tasks

            # One slice request rather than an XCom lookup per item.
            return tasks.record(spec.source_id, list(results[:]) if results else [], report)

        # After every process attempt, whatever its outcome; GX's cost stays off the loads' path.
        @task(trigger_rule=TriggerRule.ALL_DONE)
        def audit(items: Any) -> list[dict[str, Any]]:
            from etl import tasks

            return tasks.audit(list(items) if items else [])

        @task(outlets=[Asset(spec.asset_uri)])
        def publish(summary: dict[str, Any]) -> int:
            if not summary["rows_loaded"]:
                raise AirflowSkipException("no rows loaded: the Asset is not updated")
            return int(summary["rows_loaded"])

        items = discover()
        results = process.expand(item=items)
        publish(record(results, XComArg(items.operator, key="report")))
        results >> audit(items)

    return source_dag()


for _spec in dag_specs():
    globals()[_spec.dag_id] = build(_spec)
