"""``credit-etl warehouse``: create or upgrade the warehouse, and read its ledger.

The warehouse URL comes from ``--warehouse``, else ``CREDIT_ETL_WAREHOUSE``, else the DuckDB file
``$CREDIT_ETL_HOME/warehouse.duckdb``. A PostgreSQL password belongs in that environment variable
or in ``~/.pgpass``, not on a command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("warehouse", help="create or upgrade the warehouse; read the ledger")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    init = actions.add_parser(
        "init", help="apply sql/migrations, then create or extend every dataset's tables (idempotent)"
    )
    _add_warehouse_option(init)
    init.add_argument("--catalog", type=Path, default=None, help="catalog directory (default: the project's)")
    init.set_defaults(handler=run_init)

    ledger = actions.add_parser("ledger", help="list deliveries recorded in the ledger")
    _add_warehouse_option(ledger)
    ledger.add_argument("--dataset")
    ledger.add_argument("--department")
    ledger.add_argument("--status", action="append", help="repeat for several statuses")
    ledger.add_argument("--limit", type=int, default=50, help="show the latest N rows (default 50)")
    ledger.set_defaults(handler=run_ledger)


def _add_warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse", metavar="URL", default=None,
        help="duckdb:///path.duckdb or postgresql://user@host:port/db[?schema=name]",
    )


def run_init(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.warehouse import open_warehouse

    catalog = load_catalog(args.catalog or settings.catalog_dir())
    warehouse = open_warehouse(args.warehouse)
    report = warehouse.init(catalog)
    print(f"warehouse {warehouse.url.display}")
    print(f"  migrations applied: {', '.join(report.migrations) or 'none (up to date)'}")
    print(f"  tables created: {len(report.created_tables)}")
    for name in report.created_tables:
        print(f"    {name}")
    print(f"  columns added: {len(report.added_columns)}")
    for name in report.added_columns:
        print(f"    {name}")
    return 0


def run_ledger(args: argparse.Namespace) -> int:
    from etl.errors import UsageError
    from etl.warehouse import STATUSES, open_warehouse

    unknown = [s for s in args.status or [] if s not in STATUSES]
    if unknown:
        raise UsageError(f"unknown status {', '.join(unknown)}; one of {', '.join(STATUSES)}")
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    rows = open_warehouse(args.warehouse).ledger(
        dataset=args.dataset, department=args.department, status=args.status
    )
    for row in rows[-args.limit:]:
        print(
            "\t".join(
                str(v) for v in (
                    row.ledger_id, row.received_at.isoformat(timespec="seconds"), row.delivery_id,
                    row.status, row.rows_read, row.rows_loaded, row.rows_rejected,
                    row.error_reason or "", row.file_name,
                )
            )
        )
    print(f"{len(rows[-args.limit:])} of {len(rows)} ledger row(s)")
    return 0
