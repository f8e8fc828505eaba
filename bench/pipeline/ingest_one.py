"""Child process of the pipeline benchmark: one delivery through ``process_drop``; prints JSON.

Run in its own process so that its peak resident memory is the pipeline's alone: ``VmHWM`` of
``/proc/self/status``, which starts afresh at ``exec``. (``ru_maxrss`` does not: a child started by
the benchmark after DuckDB had built the 5M-row file reported the parent's 2.2 GB.)

Before the timed delivery the child processes the file's first 200 rows into a scratch DuckDB
file: a worker pays its imports and first-use caches (about 0.3-0.5 s: openpyxl, the compiled
suite, DuckDB's scratch connection) once per process, not per delivery, and the raw tools are
timed already started too. The warm-up's own time is reported as ``warm_up_seconds``.
"""

from __future__ import annotations

import itertools
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (since its ``exec``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def warm_up(path: Path, catalog: Any, folder: Path) -> float:
    """Processes the first rows of ``path`` into a scratch warehouse; returns how long it took."""
    from etl.drop import receive_file
    from etl.pipeline import process_drop
    from etl.storage import Storage
    from etl.warehouse import open_warehouse

    started = time.perf_counter()
    sample = folder / "warm-up.csv"
    with path.open("rb") as source, sample.open("wb") as target:
        target.writelines(itertools.islice(source, 201))
    scratch = open_warehouse(f"duckdb:///{folder}/warm-up.duckdb")
    scratch.init(catalog)
    storage = Storage(folder / "warm-up-storage")
    drop = receive_file(storage, sample, dataset="admin_penalty", department="scjg",
                        source="admin_penalty__scjg__landing")  # fmt: skip
    process_drop(drop, catalog=catalog, warehouse=scratch, storage=storage)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    path, warehouse_url = Path(argv[0]), argv[1]
    from etl.catalog import load_catalog
    from etl.drop import receive_file
    from etl.pipeline import process_drop
    from etl.storage import Storage
    from etl.warehouse import open_warehouse

    catalog = load_catalog()
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as folder:
        storage = Storage(folder)
        warm_up_seconds = warm_up(path, catalog, Path(folder))
        started = time.perf_counter()
        drop = receive_file(storage, path, dataset="admin_penalty", department="scjg",
                            source="admin_penalty__scjg__landing")
        received = time.perf_counter() - started
        result = process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)
        elapsed = time.perf_counter() - started
    print(json.dumps({
        "seconds": elapsed,
        "warm_up_seconds": round(warm_up_seconds, 3),
        "peak_rss_mb": peak_rss_mb(),
        "status": result.ledger.status,
        "rows_read": result.ledger.rows_read,
        "rows_loaded": result.ledger.rows_loaded,
        "rows_rejected": result.ledger.rows_rejected,
        # receive: hash and archive the file; then process_drop's own stages.
        "stages": {"receive": round(received, 3), **result.seconds},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
