"""``credit-etl catalog``: check the catalog and list what it describes."""

from __future__ import annotations

import argparse
from pathlib import Path

from etl.catalog import DEFAULT_CATALOG_DIR, load_catalog
from etl.errors import CatalogError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("catalog", help="check the catalog and list its datasets and sources")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="load and validate a catalog directory")
    check.add_argument("directory", nargs="?", type=Path, default=DEFAULT_CATALOG_DIR)
    check.set_defaults(handler=run_check)

    sources = actions.add_parser("sources", help="list every source (dataset × department × method)")
    sources.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG_DIR)
    sources.set_defaults(handler=run_sources)


def run_check(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(args.directory)
    except CatalogError as exc:
        # Every problem on its own line, then a count: the author fixes them in one pass.
        for problem in exc.problems:
            print(problem)
        print(f"catalog invalid: {len(exc.problems)} problem(s)")
        return 1
    n_sources = sum(1 for _ in catalog.sources())
    domains = {catalog.domain_of(ref) for ref in catalog.sources()}
    print(
        f"catalog ok: {len(catalog.departments)} departments, {len(catalog.datasets)} datasets, "
        f"{n_sources} sources, {len(domains)} key domains covered"
    )
    return 0


def run_sources(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.catalog)
    for ref in catalog.sources():
        department = catalog.departments[ref.source.department]
        print(f"{ref.id}\t{ref.dataset.title}\t{department.short_name}\t{ref.source.method}\t{ref.source.cron}")
    return 0
