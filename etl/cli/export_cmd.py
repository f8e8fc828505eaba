"""``credit-etl export --dataset ID --period YYYY-MM --out DIR``: a month of 双公示 or list records in
the national exchange columns, with the dataset's openness applied (see ``etl.marts.export``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from etl.cli.warehouse_cmd import _add_warehouse_option

CATALOG_HELP = "catalog directory (default: the project's)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="a month of 双公示 / list records in the national exchange columns (CSV + manifest)",
        description="Write one dataset's records of one month with national column codes for upload to "
        "the provincial and national platforms: 公开 datasets for publication, 有条件共享 ones only with "
        "--shared, 不予公开 never; personal fields masked.",
    )
    parser.add_argument("--dataset", required=True, metavar="ID", help="a catalog dataset id")
    parser.add_argument("--period", required=True, metavar="YYYY-MM", help="the month, e.g. 2026-10")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory to write into")
    parser.add_argument(
        "--shared", action="store_true",
        help="export a 有条件共享 dataset for the government sharing channel",
    )  # fmt: skip
    parser.add_argument("--catalog", type=Path, default=None, help=CATALOG_HELP)
    _add_warehouse_option(parser)
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.marts.export import export_period
    from etl.warehouse import open_warehouse

    catalog = load_catalog(args.catalog or settings.catalog_dir())
    dataset = catalog.dataset(args.dataset)
    report = export_period(open_warehouse(args.warehouse), dataset, args.period, args.out, shared=args.shared)
    print(f"{report.dataset} {report.period}: {report.rows} rows -> {report.csv_path} "
          f"({report.manifest_path.name})")  # fmt: skip
    return 0
