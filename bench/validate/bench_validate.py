"""Validate throughput: both engines over the same typed rows, and DuckDB's ``read_csv`` of the file.

    .venv/bin/python -m bench.validate [--rows 1000000] [--batch-rows 50000] [--work DIR] [--skip-gx]

One run, one file: the synthetic generator writes a 行政处罚 delivery of ``--rows`` rows (CSV,
re-encoded as UTF-8 if it came out GBK, so that DuckDB reads it without an extension), with the
generator's usual share of defective rows. Then, in this order:

1. DuckDB: ``CREATE TABLE … AS SELECT * FROM read_csv(file)`` into a fresh in-memory database, the
   best of three (the yardstick of the pipeline's target);
2. the file is read and conformed into typed batches of ``--batch-rows`` (not timed);
3. ``validate_batch`` over every batch, as one delivery, with ``engine="arrow"`` (GX's sample of
   5,000 rows included: the pipeline pays it once per delivery) and with ``engine="gx"``.

GX's import and first run are done before timing and reported apart (a fresh process pays them
once). The engines' verdicts are compared: the exit status is 1 if they differ anywhere.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SOURCE = "admin_penalty__scjg__landing"


def generate_csv(work: Path, rows: int) -> Path:
    """The generator's 行政处罚 CSV delivery of ``rows`` rows, as UTF-8 (kept in ``work`` for reruns)."""
    target = work / f"admin_penalty_{rows}.csv"
    if target.exists():
        return target
    from etl.demo_data import generate

    manifest = generate(work / "gen", rows=rows, sources=[SOURCE], file_format="csv")
    (delivery,) = manifest["deliveries"]
    with (
        (work / "gen" / delivery["path"]).open(encoding=delivery["encoding"], newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(1 << 22):
            dst.write(chunk)
    return target


def duckdb_read_csv(path: Path) -> float:
    """Seconds for DuckDB to load the file into a table, the best of three."""
    import duckdb

    times = []
    for _ in range(3):
        with duckdb.connect() as con:
            started = time.perf_counter()
            con.execute("CREATE TABLE raw AS SELECT * FROM read_csv(?)", [str(path)])
            times.append(time.perf_counter() - started)
    return min(times)


def conformed_batches(path: Path, dataset, batch_rows: int) -> list:
    from etl.conform import conform_batch, map_headers
    from etl.read import open_delivery

    delivery = open_delivery(path, dataset, batch_rows=batch_rows)
    mapping = map_headers(delivery.headers, dataset)
    return [conform_batch(batch, mapping, dataset) for batch in delivery.batches()]


def validate_all(batches: list, dataset, engine: str) -> tuple[float, list]:
    """Seconds to validate every batch as one delivery, and the verdicts."""
    from etl.validate import DeliveryState, validate_batch

    state = DeliveryState()
    started = time.perf_counter()
    verdicts = [validate_batch(batch, dataset, state, engine=engine) for batch in batches]
    return time.perf_counter() - started, verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validate", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--work", type=Path, default=None, help="keeps the generated file for reruns")
    parser.add_argument("--skip-gx", action="store_true", help="time the Arrow engine only")
    args = parser.parse_args(argv)

    from etl.catalog import load_catalog

    dataset = load_catalog().datasets["admin_penalty"]
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-validate-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    path = generate_csv(work, args.rows)
    print(f"file {path} ({path.stat().st_size / 1e6:.0f} MB), ready in {time.perf_counter() - started:.1f} s")

    duck = duckdb_read_csv(path)
    batches = conformed_batches(path, dataset, args.batch_rows)
    rows = sum(len(b.rows) for b in batches)

    from etl.validate import DeliveryState, validate_batch

    started = time.perf_counter()
    validate_batch(batches[0], dataset, DeliveryState())  # imports GX, builds the suites, warms up
    warm_up = time.perf_counter() - started

    print(
        f"{rows:,} rows in {len(batches)} batches of {args.batch_rows:,}; "
        f"GX import and first run {warm_up:.1f} s (not in the figures below)"
    )
    print(f"DuckDB read_csv             {duck:7.2f} s  {rows / duck:>11,.0f} rows/s")
    results = {}
    for engine in ("arrow", "gx")[: 1 if args.skip_gx else 2]:
        seconds, verdicts = validate_all(batches, dataset, engine)
        results[engine] = verdicts
        rejected = sum(v.rejected_count for v in verdicts)
        print(
            f"validate engine={engine:<5}       {seconds:7.2f} s  {rows / seconds:>11,.0f} rows/s"
            f"  {seconds / duck:5.2f}× DuckDB  (rejected {rejected:,})"
        )
    if "gx" in results:
        same = all(
            a.reasons.equals(g.reasons) and a.rejected.equals(g.rejected)
            for a, g in zip(results["arrow"], results["gx"], strict=True)
        )
        print("verdicts of the two engines:", "identical" if same else "DIFFERENT")
        if not same:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
