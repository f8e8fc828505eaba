"""Parses the DAG folder in a fresh interpreter, as Airflow's DAG processor does, and writes JSON to OUT.

Run as a script by the tests and the benchmark (``python bench/dags/parse_probe.py DAGS_FOLDER OUT``),
with the catalog and warehouse chosen by the environment. Every outgoing connection is refused and
recorded first, so the report says whether parsing tried to reach anything.
"""

from __future__ import annotations

import json
import socket
import sys
import time

attempts: list[str] = []


def _refuse(self: socket.socket, address: object) -> None:
    attempts.append(repr(address))
    raise OSError("connections are refused while DAG files are parsed")


socket.socket.connect = _refuse  # type: ignore[method-assign]
socket.socket.connect_ex = _refuse  # type: ignore[method-assign,assignment]
socket.create_connection = lambda address, *args, **kwargs: _refuse(None, address)  # type: ignore[assignment,arg-type]

HEAVY = (
    "great_expectations", "pandas", "pyarrow", "duckdb", "psycopg", "pymysql", "paramiko", "etl.pipeline",
    "etl.tasks",
)  # fmt: skip


def main(folder: str, out: str) -> None:
    started = time.perf_counter()
    # What the DAG processor has loaded before it parses a file.
    import airflow.sdk  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag

    ready = time.perf_counter()
    bag = DagBag(dag_folder=folder)
    parsed = time.perf_counter()
    dags = {}
    for dag_id, dag in bag.dags.items():
        dags[dag_id] = {
            "file": dag.fileloc.rsplit("/", 1)[-1],
            "tags": sorted(dag.tags),
            "timetable": type(dag.timetable).__name__,
            "timezone": str(getattr(dag.timetable, "timezone", "")),
            "expression": str(getattr(dag.timetable, "expression", "")),
            "doc_md": dag.doc_md,
            "max_active_runs": dag.max_active_runs,
            "tasks": {
                task_id: {"pool": task.pool, "retries": task.retries,
                          "outlets": [getattr(o, "uri", str(o)) for o in task.outlets],
                          "exponential": bool(task.retry_exponential_backoff)}
                for task_id, task in dag.task_dict.items()
            },
        }  # fmt: skip
    report = {
        "dags": dags,
        "import_errors": bag.import_errors,
        "file_seconds": {str(s.file): s.duration.total_seconds() if hasattr(s.duration, "total_seconds")
                         else float(s.duration) for s in bag.dagbag_stats},
        "parse_seconds": parsed - ready,
        "process_seconds": parsed - started,
        "heavy_modules": sorted(m for m in HEAVY if m in sys.modules),
        "connection_attempts": attempts,
    }  # fmt: skip
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
