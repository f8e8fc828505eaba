"""Runs DAGs once each through Airflow, as ``airflow dags test`` does, in one interpreter.

``python -m etl.orchestration.run_dags RESULTS PLAN`` reads PLAN (JSON: a list of
``{"dag_id": …, "conf": {…}}``), runs each DAG with ``DAG.test`` (the function behind
``airflow dags test``: a real DAG run in the metadata database, its tasks run in this process,
mapped tasks expanded, XComs and Asset events recorded) and appends one JSON line per DAG to RESULTS:
``{"dag_id", "state", "seconds", "tasks": {task_id: state}}``. One interpreter for all DAGs means
Great Expectations and the readers are imported once, not once per DAG.

The Airflow environment (``AIRFLOW_HOME``, metadata database, DAG folder) comes from the caller.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def run_one(dag_id: str, conf: dict[str, Any] | None) -> dict[str, Any]:
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.timezone import utcnow

    started = time.monotonic()
    try:
        dag = get_bagged_dag(None, dag_id)
        run = dag.test(logical_date=utcnow(), run_conf=conf or None)
    except Exception as exc:  # one DAG that cannot run must not stop the others
        return {"dag_id": dag_id, "state": "error", "error": f"{type(exc).__name__}: {exc}",
                "seconds": round(time.monotonic() - started, 1), "tasks": {}}  # fmt: skip
    tasks: dict[str, str] = {}
    for ti in run.get_task_instances() if run is not None else []:
        label = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        tasks[label] = str(ti.state)
    state = str(run.state) if run is not None else "error"
    return {"dag_id": dag_id, "state": state, "seconds": round(time.monotonic() - started, 1), "tasks": tasks}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m etl.orchestration.run_dags RESULTS PLAN", file=sys.stderr)
        return 2
    results, plan = Path(args[0]), json.loads(Path(args[1]).read_text(encoding="utf-8"))
    for entry in plan:
        outcome = run_one(entry["dag_id"], entry.get("conf"))
        with results.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(outcome, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
