"""Runs DAGs once each through Airflow, as ``airflow dags test`` does, in one interpreter.

``python -m etl.orchestration.run_dags RESULTS PLAN [--all]`` reads PLAN (JSON: a list of
``{"dag_id": …, "conf": {…}}``, or ``{"dag_id": …, "skip": reason}`` for a DAG not to run); with
``--all`` every other DAG of the DAG folder follows it (the folder is parsed as the DAG processor
parses it, so a new DAG file is run with no change here): those scheduled on Assets first (they
consume what the planned DAGs published), then the rest, each group by id; a file that does not
import is reported as ``import_error``. Each DAG is run with ``DAG.test`` (the function behind
``airflow dags test``: a real DAG run in the metadata database, its tasks run in this process, mapped
tasks expanded, XComs and Asset events recorded) and appends one JSON line per DAG to RESULTS:
``{"dag_id", "state", "seconds", "tasks": {task_id: state}}``. One
interpreter for all DAGs means Great Expectations and the readers are imported once, not per DAG.

The Airflow environment (``AIRFLOW_HOME``, metadata database, DAG folder) comes from the caller.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def run_one(dag_id: str, conf: dict[str, Any] | None, dags: Mapping[str, Any]) -> dict[str, Any]:
    from airflow.utils.timezone import utcnow

    started = time.monotonic()
    try:
        if dag_id not in dags:
            raise LookupError(f"the DAG folder has no DAG {dag_id!r}")
        run = dags[dag_id].test(logical_date=utcnow(), run_conf=conf or None)
    except Exception as exc:  # one DAG that cannot run must not stop the others
        return {"dag_id": dag_id, "state": "error", "error": f"{type(exc).__name__}: {exc}",
                "seconds": round(time.monotonic() - started, 1), "tasks": {}}  # fmt: skip
    tasks: dict[str, str] = {}
    for ti in run.get_task_instances() if run is not None else []:
        label = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        tasks[label] = str(ti.state)
    state = str(run.state) if run is not None else "error"
    return {"dag_id": dag_id, "state": state, "seconds": round(time.monotonic() - started, 1), "tasks": tasks}


def ordered(plan: list[dict[str, Any]], found: Mapping[str, bool]) -> list[dict[str, Any]]:
    """The plan, then the other DAGs found (dag id -> scheduled on Assets): Asset-scheduled first.

    >>> plan = [{"dag_id": "b"}, {"dag_id": "s", "skip": "no server"}]
    >>> [e["dag_id"] for e in ordered(plan, {"a": False, "b": False, "m": True, "c": False, "s": False})]
    ['b', 's', 'm', 'a', 'c']
    """
    planned = {entry["dag_id"] for entry in plan}
    rest = sorted((not on_assets, dag_id) for dag_id, on_assets in found.items() if dag_id not in planned)
    return [*plan, *({"dag_id": dag_id, "conf": None} for _, dag_id in rest)]


def folder_dags() -> tuple[dict[str, Any], dict[str, str]]:
    """(dag id -> DAG, file -> import error) of the configured DAG bundles, parsed once: ``DAG.test``
    then syncs them to the metadata database itself."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    dags: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        dags.update(bag.dags)
        errors.update({Path(file).name: str(error) for file, error in bag.import_errors.items()})
    return dags, errors


def on_assets(dag: Any) -> bool:
    """Scheduled on Assets (alone or besides a time table): its timetable carries an asset condition."""
    return getattr(dag.timetable, "asset_condition", None) is not None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    every = "--all" in args
    args = [a for a in args if a != "--all"]
    if len(args) != 2:
        print("usage: python -m etl.orchestration.run_dags RESULTS PLAN [--all]", file=sys.stderr)
        return 2
    results, plan = Path(args[0]), json.loads(Path(args[1]).read_text(encoding="utf-8"))
    dags, errors = folder_dags()
    if every:
        plan = ordered(plan, {dag_id: on_assets(dag) for dag_id, dag in dags.items()})
        for file, error in sorted(errors.items()):
            _append(results, {"dag_id": file, "state": "import_error", "error": error, "seconds": 0,
                              "tasks": {}})  # fmt: skip
    for entry in plan:
        if not entry.get("skip"):
            _append(results, run_one(entry["dag_id"], entry.get("conf"), dags))
    return 0


def _append(results: Path, outcome: dict[str, Any]) -> None:
    # One line per DAG as soon as it ends: a run stopped half-way still tells what ran.
    with results.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(outcome, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
