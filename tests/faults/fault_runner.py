"""Runs a ``credit-etl`` command in a child process that stops at a chosen point and waits there, so
that a test can kill it (SIGKILL), restart a server under it, or let it go on.

    python fault_runner.py --pause-at append --reached R [--resume G] -- ingest FILE --dataset …

``--pause-at`` names a point of the load transaction (``Warehouse.LOAD_STAGES``), ``claim`` (a
landing-zone file about to be claimed), ``record`` (a ledger row about to be written on its own, as
for a file rejected whole), ``loading`` (the ledger looked up, the load transaction about to open),
``conform`` (the first batch being conformed: the load transaction open, nothing written) or
``committed`` (the
load transaction committed, the connection not yet closed: for DuckDB the rows may be only in its
WAL). On reaching it the runner creates the file ``--reached`` and waits, without a time limit of
its own (the test has one), until ``--resume`` exists. Without ``--resume`` it waits until killed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def pause(reached: Path, resume: Path | None) -> None:
    reached.write_text("reached", encoding="utf-8")
    while resume is None or not resume.exists():
        time.sleep(0.02)


def install(point: str, reached: Path, resume: Path | None) -> None:
    if point == "claim":
        import etl.sources.landing

        claim = etl.sources.landing._claim

        def paused_claim(*args, **kwargs):
            pause(reached, resume)
            return claim(*args, **kwargs)

        etl.sources.landing._claim = paused_claim
        return
    if point == "record":
        from etl.warehouse.base import Warehouse

        record = Warehouse.record_ledger

        def paused_record(self, row):
            pause(reached, resume)
            return record(self, row)

        Warehouse.record_ledger = paused_record
        return
    if point == "conform":
        import etl.conform

        original = etl.conform.conform_batch

        def conform_batch(*args, **kwargs):
            pause(reached, resume)
            return original(*args, **kwargs)

        etl.conform.conform_batch = conform_batch
        return
    from etl.warehouse.base import Warehouse

    if point == "loading":
        loading = Warehouse.loading

        def paused_loading(self, *args, **kwargs):
            pause(reached, resume)
            return loading(self, *args, **kwargs)

        Warehouse.loading = paused_loading
        return
    if point == "committed":
        from contextlib import contextmanager

        connect = Warehouse._session

        @contextmanager
        def session(self, action: str, **kwargs):
            with connect(self, action, **kwargs) as opened:
                yield opened
                if action.startswith("load of delivery"):
                    pause(reached, resume)  # after the transaction's commit, before the close

        Warehouse._session = session
        return
    if point not in Warehouse.LOAD_STAGES:
        raise SystemExit(f"unknown pause point {point!r}")

    def checkpoint(self, stage: str) -> None:
        if stage == point:
            pause(reached, resume)

    Warehouse._checkpoint = checkpoint


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause-at", required=True)
    parser.add_argument("--reached", type=Path, required=True)
    parser.add_argument("--resume", type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    install(args.pause_at, args.reached, args.resume)
    from etl.cli import main as cli_main

    return cli_main(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
