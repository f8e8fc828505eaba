"""A process loading a delivery is killed (SIGKILL) — while conforming, at points inside the load
transaction, and just after its commit — on DuckDB and on PostgreSQL.

The child runs ``credit-etl ingest`` through ``fault_runner``, which stops at the chosen point and
signals the test, which kills the child's whole process group: no ``finally``, no rollback, no
failure row. Afterwards the warehouse opens (DuckDB replays or discards its WAL), holds nothing of
an uncommitted load, and a rerun leaves it equal, table by table, to a clean run's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_processes import RUNNER, ingest_args, ingest_here, kill_group
from warehouse_compare import assert_same_dump, dump

from etl.storage import Storage
from etl.warehouse import open_warehouse

REACH_TIMEOUT = 120.0


def start_paused(point: str, args: list[str], folder: Path) -> tuple[subprocess.Popen, Path]:
    reached = folder / f"reached-{point}"
    log = (folder / f"child-{point}.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, str(RUNNER), "--pause-at", point, "--reached", str(reached), "--", *args],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    return child, reached


def wait_for(child: subprocess.Popen, reached: Path, folder: Path) -> None:
    deadline = time.monotonic() + REACH_TIMEOUT
    while not reached.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            kill_group(child)
            output = "".join(p.read_text(errors="replace") for p in folder.glob("child-*.log"))
            pytest.fail(f"the child never reached its pause point (exit {child.returncode}):\n{output}")
        time.sleep(0.02)


def holding_rows(warehouse) -> dict[str, int]:
    """Tables with rows, besides the bookkeeping of ``warehouse init``."""
    tables = dump(warehouse)
    bookkeeping = ("dataset_tables", "schema_migrations")
    return {t: len(rows) for t, rows in tables.items() if rows and t not in bookkeeping}


POINTS = ["conform", "append", "ledger"]
_CLEAN: dict[str, dict[str, list[str]]] = {}


@pytest.fixture
def clean_dump(penalty_file, make_warehouse, tmp_path) -> dict[str, list[str]]:
    """The dump of a warehouse that loaded the delivery without a fault (once per backend)."""
    url, warehouse = make_warehouse("clean")
    if warehouse.url.dialect not in _CLEAN:
        assert ingest_here(ingest_args(penalty_file, url, tmp_path / "clean-storage")) == 0
        _CLEAN[warehouse.url.dialect] = dump(warehouse)
    return _CLEAN[warehouse.url.dialect]


@pytest.mark.parametrize("point", POINTS)
def test_a_load_killed_midway_leaves_nothing_and_a_rerun_equals_a_clean_run(
    point, penalty_file, make_warehouse, clean_dump, tmp_path
):
    url, _ = make_warehouse("killed")
    args = ingest_args(penalty_file, url, tmp_path / "storage")
    child, reached = start_paused(point, args, tmp_path)
    try:
        wait_for(child, reached, tmp_path)
    finally:
        kill_group(child)
    assert child.returncode == -signal.SIGKILL

    # Reopening works (DuckDB: the file is not locked, its WAL is replayed) and holds nothing of the
    # delivery: the killed process could not even record its failure.
    after = open_warehouse(url)
    assert holding_rows(after) == {}
    # A killed attempt's staged files stay behind (each attempt stages in a directory of its own);
    # the rerun leaves nothing of its own there.
    left_by_the_kill = Storage(tmp_path / "storage").list("staging")
    assert left_by_the_kill

    assert ingest_here(args) == 0
    recovered = assert_same_dump(after, clean_dump)
    assert [row for row in recovered["deliveries"] if '"loaded_with_rejections"' in row]
    store = Storage(tmp_path / "storage")
    assert store.list("staging") == left_by_the_kill
    # A day later, the next delivery processed (here the same file again, a duplicate) sweeps them.
    for directory in {key.split("/")[1] for key in left_by_the_kill}:
        os.utime(store.local_path(f"staging/{directory}"), (time.time() - 2 * 86400,) * 2)
    assert ingest_here(args) == 0
    assert store.list("staging") == []


@pytest.mark.parametrize("make_warehouse", ["duckdb"], indirect=True)
def test_a_duckdb_process_killed_after_its_commit_keeps_the_load(
    penalty_file, make_warehouse, clean_dump, tmp_path
):
    """The committed rows may still be only in DuckDB's WAL when the process dies: reopening replays it."""
    url, warehouse = make_warehouse("committed")

    args = ingest_args(penalty_file, url, tmp_path / "storage")
    child, reached = start_paused("committed", args, tmp_path)
    try:
        wait_for(child, reached, tmp_path)
        wal = Path(f"{warehouse.url.path}.wal")
        had_wal = wal.exists() and wal.stat().st_size > 0
    finally:
        kill_group(child)

    assert had_wal  # the load sat in the WAL when the process died
    assert_same_dump(open_warehouse(url), clean_dump)
    # A rerun sees the delivery as processed: nothing changes but a duplicate ledger row.
    assert ingest_here(args) == 0
    statuses = [row.status for row in open_warehouse(url).ledger()]
    assert statuses == ["loaded_with_rejections", "duplicate"]
