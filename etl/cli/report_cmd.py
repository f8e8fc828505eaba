"""``credit-etl report``: the NDRC data-quality report of a month or half-month.

Writes ``report.html`` (self-contained, charts as inline SVG), ``report.xlsx`` (one sheet per
section) and ``metrics.json`` (every figure) into ``--out``; see ``etl.report`` for what the
figures mean.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from etl.errors import UsageError

EPILOG = """\
Examples:
  credit-etl report --period 2026-10 --out var/reports/2026-10            # the whole of October
  credit-etl report --period 2026-10 --half 2 --out var/reports/2026-10-H2  # 16-31 October
The Data Docs each dataset links to are built into OUT/data_docs unless --docs-url names a site.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write the NDRC data-quality report (HTML, XLSX, JSON) of a month or half-month",
    )  # fmt: skip
    parser.add_argument("--period", required=True, metavar="YYYY-MM", help="the month, e.g. 2026-10")
    parser.add_argument("--half", default=None, metavar="1|2",
                        help="only the 1st-15th (1) or the 16th-end (2) of the month")  # fmt: skip
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory to write into")
    parser.add_argument(
        "--warehouse", metavar="URL", default=None,
        help="duckdb:///path.duckdb or postgresql://user@host:port/db[?schema=name]",
    )  # fmt: skip
    parser.add_argument("--catalog", type=Path, default=None,
                        help="catalog directory (default: the project's)")  # fmt: skip
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument("--docs-url", metavar="URL", default=None,
                      help="link datasets to this Data Docs site instead of building one")  # fmt: skip
    docs.add_argument("--no-data-docs", action="store_true",
                      help="link to OUT/data_docs but do not build it (it was built before)")  # fmt: skip
    parser.set_defaults(handler=run_report)


def _half(text: str | None) -> int | None:
    if text is None:
        return None
    if text.strip() not in ("1", "2"):
        raise UsageError(f"--half must be 1 (1st-15th) or 2 (16th-end of month), not {text!r}")
    return int(text)


def run_report(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.report.period import ReportPeriod
    from etl.report.write import write_report
    from etl.warehouse import open_warehouse

    period = ReportPeriod.parse(args.period, _half(args.half))
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a directory")
    catalog = load_catalog(args.catalog or settings.catalog_dir())
    files, metrics = write_report(
        open_warehouse(args.warehouse), catalog, period, args.out,
        docs_url=args.docs_url, build_docs=not args.no_data_docs,
    )  # fmt: skip
    overview = metrics["overview"]
    print(f"report for {period.key} ({period.start} to {period.end}): {overview['deliveries']} deliveries, "
          f"{overview['rows_loaded']} rows loaded, {overview['rows_rejected']} rejected, "
          f"{len(metrics['breaches'])} open breach(es)")  # fmt: skip
    for path in (files.html, files.workbook, files.metrics):
        print(f"  {path}")
    return 0
