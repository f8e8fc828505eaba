"""``credit-etl``: the command line for data engineers.

Each command group lives in its own module under ``etl/cli/`` and exposes ``register(subparsers)``;
heavy libraries are imported inside the command handlers so that ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from etl.errors import CreditEtlError

# Order is the order of `credit-etl --help`.
COMMAND_MODULES = [
    "etl.cli.catalog_cmd",
    "etl.cli.calendar_cmd",
    "etl.cli.codes_cmd",
    "etl.cli.demo_data_cmd",
    "etl.cli.expectations_cmd",
    "etl.cli.export_cmd",
    "etl.cli.fetch_cmd",
    "etl.cli.freshness_cmd",
    "etl.cli.ingest_cmd",
    "etl.cli.lookup_cmd",
    "etl.cli.marts_cmd",
    "etl.cli.report_cmd",
    "etl.cli.reprocess_cmd",
    "etl.cli.warehouse_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="credit-etl",
        description="Collect, check and load public credit information.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user errors print a message and return non-zero, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # Our own progress at INFO; libraries (GX is chatty) only when something is wrong.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("etl").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        return int(args.handler(args) or 0)
    except CreditEtlError as exc:
        print(f"credit-etl {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
