"""``make demo``: the whole job on realistic synthetic deliveries, from a fresh checkout.

For now: check the catalog, then write the demo deliveries of every dataset and department (with
their answer keys) under the demo work directory, and say what was written. Running it again
regenerates the same files. Later steps of the job (pick-up, validation, loading, freshness and
the NDRC report) are added here as they land, each a line in ``run``.

The work directory is ``$CREDIT_ETL_HOME/demo`` (``var/demo`` under the project by default).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from etl import settings
from etl.errors import CreditEtlError

# Rows per delivery at scale 1 are 100-400: enough to see every defect kind in every dataset.
DEMO_SCALE = 1.0


def demo_directory() -> Path:
    return settings.home() / "demo"


def run(work: Path, *, seed: int, scale: float, say: Callable[[str], None] = print) -> None:
    """The demo job, step by step."""
    from etl.catalog import load_catalog
    from etl.demo_data import generate
    from etl.demo_data.summary import summarise

    catalog = load_catalog(settings.catalog_dir())
    sources = sum(1 for _ in catalog.sources())
    departments, datasets = len(catalog.departments), len(catalog.datasets)
    say(f"catalog ok: {departments} departments, {datasets} datasets, {sources} sources")
    manifest = generate(work, seed=seed, scale=scale, catalog=catalog)
    for line in summarise(manifest, work):
        say(line)


def main(argv: Sequence[str] | None = None) -> int:
    from etl.demo_data import DEFAULT_SEED

    parser = argparse.ArgumentParser(prog="python -m etl.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work", type=Path, default=None, help="work directory (default $CREDIT_ETL_HOME/demo)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", type=float, default=DEMO_SCALE)
    args = parser.parse_args(argv)
    try:
        run(args.work or demo_directory(), seed=args.seed, scale=args.scale)
    except CreditEtlError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
