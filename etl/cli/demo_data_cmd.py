"""``credit-etl demo-data``: write deterministic synthetic deliveries with answer keys."""

from __future__ import annotations

import argparse
from pathlib import Path

from etl.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo-data",
        help="write realistic synthetic deliveries for every dataset, with injected defects and answer keys",
        description=(
            "Writes one delivery per catalog source under --out (landing/, sftp/, database/), an answer key "
            "per delivery under answer_keys/ and manifest.json. The same seed gives byte-identical files."
        ),
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output directory (a previous output is replaced)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 20261128)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="subject pool and rows per delivery (default 1)"
    )
    parser.add_argument(
        "--rows", type=int, default=None, help="exactly N rows per delivery instead of the scale"
    )
    parser.add_argument(
        "--datasets", type=_names, default=None, help="only these datasets (comma-separated ids)"
    )
    parser.add_argument(
        "--sources", type=_names, default=None, help="only these sources (comma-separated ids)"
    )
    parser.add_argument(
        "--format", dest="file_format", choices=("csv", "xlsx", "json", "parquet"), default=None,
        help="write landing deliveries in this format",
    )  # fmt: skip
    parser.add_argument(
        "--defect-rate", type=float, default=None, help="share of defective rows (default 0.05)"
    )
    parser.add_argument(
        "--defect-rates", type=_rates, default=None, metavar="KIND=RATE,…",
        help="per-kind rates instead of --defect-rate, e.g. impossible_date=0.02,duplicate_key=0.01",
    )  # fmt: skip
    parser.add_argument(
        "--catalog", type=Path, default=None, help="catalog directory (default: the project's)"
    )
    parser.set_defaults(handler=run)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _rates(text: str) -> dict[str, float]:
    rates = {}
    for item in _names(text):
        kind, _, rate = item.partition("=")
        try:
            rates[kind.strip()] = float(rate)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected KIND=RATE, got {item!r}") from None
    return rates


def run(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.demo_data import DEFAULT_DEFECT_RATE, DEFAULT_SEED, generate
    from etl.demo_data.summary import summarise

    if args.defect_rate is not None and args.defect_rates is not None:
        raise UsageError("give either --defect-rate or --defect-rates, not both")
    catalog = load_catalog(args.catalog or settings.catalog_dir())
    manifest = generate(
        args.out,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        scale=args.scale,
        rows=args.rows,
        datasets=args.datasets,
        sources=args.sources,
        file_format=args.file_format,
        defect_rate=DEFAULT_DEFECT_RATE if args.defect_rate is None else args.defect_rate,
        defect_rates=args.defect_rates,
        catalog=catalog,
    )
    print("\n".join(summarise(manifest, args.out)))
    return 0
