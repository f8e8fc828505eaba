"""``credit-etl lookup QUERY``: a subject's credit profile, its list memberships and every fact.

See ``etl.marts.lookup``. Identity numbers of natural persons are masked unless ``--unmasked``;
every lookup is recorded in the warehouse table ``lookup_audit``, and an unmasked one is logged.
Exit status: 0 when a subject was found, 1 when none matches, 2 on a usage or warehouse error.
"""

from __future__ import annotations

import argparse
import sys

from etl.cli.warehouse_cmd import _add_warehouse_option

SERIOUS_HELP = ("key supervision target when more than N serious penalties in 12 months "
                "(default: CREDIT_ETL_KEY_TARGET_PENALTIES, else 2)")  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lookup",
        help="a subject's credit profile (信用档案) by code or name, with list memberships and facts",
        description="Find subjects by code (USCC, registration number, organisation code, tax number, "
        "identity number of 15 or 18 digits) or by name (exact, else partial) and print their profile, "
        "the lists they are on as of a date, key-supervision status and every fact with its department "
        "and delivery.",
    )
    parser.add_argument("query", metavar="QUERY", help="a code or a name (or part of one)")
    parser.add_argument(
        "--as-of", metavar="DATE", default=None,
        help="list memberships on this day, YYYY-MM-DD (default: today in Shanghai)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--unmasked", action="store_true",
        help="show identity numbers of natural persons in full (recorded in lookup_audit and logged)",
    )  # fmt: skip
    parser.add_argument("--serious-penalties", metavar="N", type=int, default=None, help=SERIOUS_HELP)
    parser.add_argument("--limit", type=int, default=20, help="show at most this many subjects (default 20)")
    parser.add_argument("--facts", type=int, default=50, help="text: at most N facts per subject (50)")
    _add_warehouse_option(parser)
    parser.set_defaults(handler=run_lookup)


def run_lookup(args: argparse.Namespace) -> int:
    from etl.cli.calendar_cmd import parse_date
    from etl.errors import UsageError
    from etl.marts.build import today
    from etl.marts.lookup import as_text, dumps, lookup
    from etl.warehouse import open_warehouse

    if args.limit < 1 or args.facts < 0:
        raise UsageError("--limit must be at least 1 and --facts at least 0")
    as_of = parse_date(args.as_of) if args.as_of else today()
    result = lookup(
        open_warehouse(args.warehouse), args.query, as_of=as_of, unmasked=args.unmasked,
        serious_penalties=args.serious_penalties, limit=args.limit,
    )  # fmt: skip
    sys.stdout.write(dumps(result) + "\n" if args.json else as_text(result, max_facts=args.facts))
    return 0 if result.subjects else 1
