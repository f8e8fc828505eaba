"""``credit-etl expectations``: generate the GX suites from the catalog, check them, render Data Docs."""

from __future__ import annotations

import argparse
from pathlib import Path

from etl.catalog import DEFAULT_CATALOG_DIR, load_catalog


def register(subparsers: argparse._SubParsersAction) -> None:
    from etl.validate.suites import DEFAULT_SUITES_DIR

    parser = subparsers.add_parser(
        "expectations", help="generate the GX expectation suites from the catalog; Data Docs"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG_DIR, metavar="DIR")
    common.add_argument(
        "--suites", type=Path, default=DEFAULT_SUITES_DIR, metavar="DIR", help="default: %(default)s"
    )

    build = actions.add_parser(
        "build", parents=[common], help="write expectations/<dataset>.json for every dataset"
    )
    build.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 listing suites that drifted from the catalog",
    )
    build.set_defaults(handler=run_build)

    docs = actions.add_parser(
        "docs", parents=[common], help="render the suites as static HTML (GX Data Docs)"
    )
    docs.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory to write the site to")
    docs.set_defaults(handler=run_docs)


def run_build(args: argparse.Namespace) -> int:
    from etl.validate import suites

    catalog = load_catalog(args.catalog)
    drifted = suites.drift(catalog, args.suites)
    if args.check:
        for name, state in drifted:
            print(f"{state}: {args.suites / name}")
        if drifted:
            print(f"{len(drifted)} suite(s) out of date; run `credit-etl expectations build` and commit")
            return 1
        print(f"suites up to date: {len(catalog.datasets)} datasets")
        return 0
    expected = suites.expected_files(catalog)
    suites.check_loadable(expected.values())
    args.suites.mkdir(parents=True, exist_ok=True)
    for name, state in drifted:
        path = args.suites / name
        if state == "stale":
            path.unlink()
        else:
            path.write_text(expected[name], encoding="utf-8")
        print(f"{'removed' if state == 'stale' else 'wrote'}: {path}")
    print(f"suites up to date: {len(catalog.datasets)} datasets, {len(drifted)} file(s) changed")
    return 0


def run_docs(args: argparse.Namespace) -> int:
    from etl.validate.docs import build_data_docs

    index = build_data_docs(args.out, catalog=load_catalog(args.catalog), suites_dir=args.suites)
    print(f"Data Docs: {index}")
    return 0
