"""Two worker processes take up the same delivery at the same moment: exactly one loads it.

Both children run through ``fault_runner``, which holds each at the same point until both are
there, then lets them go together:

- two ``credit-etl fetch`` polls of one landing zone, held just before claiming the file: one
  claims and loads it, the other finds it gone;
- two ``credit-etl ingest`` of the same file (an Airflow retry starting while the first attempt's
  worker still runs, or the same file handed in twice), held after both looked the delivery up in
  the ledger and found nothing, about to open the load: one loads it, the other, once it has the
  table's lock, finds it loaded and records a duplicate;
- the same with a file rejected whole (no header), held before the ledger row is written: one
  records the rejection, the other a duplicate.

On DuckDB and PostgreSQL; the warehouse then equals, table by table, that of one clean run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_processes import RUNNER, ingest_args, ingest_here, kill_group
from warehouse_compare import assert_same_dump, dump

from etl.catalog import Catalog
from etl.sources.landing import Zone
from etl.storage import Storage

SOURCE = "admin_penalty__scjg__landing"
TIMEOUT = 120.0


def start_both(point: str, args: list[str], folder: Path) -> tuple[list[subprocess.Popen], Path]:
    """Starts two runners held at ``point``; returns them once both are there, and the go file."""
    go = folder / "go"
    children, reached = [], []
    for index in range(2):
        reached.append(folder / f"reached-{index}")
        log = (folder / f"worker-{index}.log").open("wb")
        children.append(subprocess.Popen(
            [sys.executable, str(RUNNER), "--pause-at", point, "--reached", str(reached[index]),
             "--resume", str(go), "--", *args],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
    deadline = time.monotonic() + TIMEOUT
    while not all(r.exists() for r in reached):
        if any(c.poll() is not None for c in children) or time.monotonic() > deadline:
            for child in children:
                kill_group(child)
            pytest.fail("a worker never reached the pause point:\n" + logs(folder))
        time.sleep(0.02)
    return children, go


def finish(children: list[subprocess.Popen], go: Path, folder: Path) -> list[int]:
    go.write_text("go", encoding="utf-8")
    try:
        return [child.wait(timeout=TIMEOUT) for child in children]
    except subprocess.TimeoutExpired:
        pytest.fail("a worker did not finish:\n" + logs(folder))
    finally:
        for child in children:
            kill_group(child)


def logs(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(folder.glob("worker-*.log")))


def landing_with(penalty_file: Path, root: Path, catalog: Catalog) -> Path:
    zone = Zone.for_source(root, catalog.source(SOURCE))
    zone.ensure()
    shutil.copy(penalty_file, zone.incoming / penalty_file.name)
    return root


def fetch_args(landing: Path, url: str, storage: Path) -> list[str]:
    return ["fetch", "--source", SOURCE, "--landing", str(landing), "--stable-seconds", "0.2",
            "--warehouse", url, "--storage", str(storage), "--json"]  # fmt: skip


def test_two_polls_of_one_landing_zone_at_once_load_the_file_once(
    penalty_file, catalog, make_warehouse, tmp_path
):
    clean_url, clean = make_warehouse("clean")
    clean_landing = landing_with(penalty_file, tmp_path / "clean-landing", catalog)
    assert ingest_here(fetch_args(clean_landing, clean_url, tmp_path / "clean-storage")) == 0

    url, warehouse = make_warehouse("raced")
    landing = landing_with(penalty_file, tmp_path / "landing", catalog)
    children, go = start_both("claim", fetch_args(landing, url, tmp_path / "storage"), tmp_path)
    assert finish(children, go, tmp_path) == [0, 0], logs(tmp_path)

    printed = [json.loads(line) for line in logs(tmp_path).splitlines() if line.startswith("{")]
    assert [row["status"] for row in printed] == ["loaded_with_rejections"]  # one worker loaded it
    assert_same_dump(warehouse, dump(clean))
    zone = Zone.for_source(landing, catalog.source(SOURCE))
    assert list(zone.incoming.iterdir()) == [] and list(zone.processing.iterdir()) == []


def test_two_ingests_of_the_same_delivery_at_once_load_it_once(penalty_file, make_warehouse, tmp_path):
    clean_url, clean = make_warehouse("clean")
    assert ingest_here(ingest_args(penalty_file, clean_url, tmp_path / "clean-storage")) == 0

    url, warehouse = make_warehouse("raced")
    children, go = start_both("loading", ingest_args(penalty_file, url, tmp_path / "storage"), tmp_path)
    assert finish(children, go, tmp_path) == [0, 0], logs(tmp_path)

    statuses = sorted(row.status for row in warehouse.ledger())
    assert statuses == ["duplicate", "loaded_with_rejections"], logs(tmp_path)
    raced, expected = dump(warehouse), dump(clean)
    duplicate = [row for row in raced["deliveries"] if '"status": "duplicate"' in row]
    raced["deliveries"] = [row for row in raced["deliveries"] if row not in duplicate]
    assert raced == expected
    assert Storage(tmp_path / "storage").list("staging") == []


def test_two_ingests_of_a_file_rejected_whole_record_it_once(penalty_file, make_warehouse, tmp_path):
    headerless = tmp_path / "无表头.csv"
    headerless.write_bytes(b"\n".join(penalty_file.read_bytes().splitlines()[1:]) + b"\n")
    url, warehouse = make_warehouse("raced")
    children, go = start_both("record", ingest_args(headerless, url, tmp_path / "storage"), tmp_path)
    # ingest exits 1 for a file rejected whole, 0 for a duplicate.
    assert sorted(finish(children, go, tmp_path)) == [0, 1], logs(tmp_path)

    rows = warehouse.ledger()
    assert sorted(row.status for row in rows) == ["duplicate", "rejected"], logs(tmp_path)
    (rejected,) = [row for row in rows if row.status == "rejected"]
    (duplicate,) = [row for row in rows if row.status == "duplicate"]
    assert rejected.error_reason and duplicate.notes == f"与台账 {rejected.ledger_id} 相同"
