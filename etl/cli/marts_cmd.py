"""``credit-etl marts refresh``: bring the credit marts up to the ledger (what ``dags/credit_marts.py``
runs after loads); ``credit-etl marts targets``: the key supervision targets on a day;
``credit-etl marts lists``: the joint red and black lists in force on a day. Identity numbers are
masked in what they print."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from etl.cli.export_cmd import CATALOG_HELP
from etl.cli.lookup_cmd import SERIOUS_HELP
from etl.cli.warehouse_cmd import _add_warehouse_option


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--as-of", metavar="DATE", default=None,
        help="the day key targets are judged on, YYYY-MM-DD (default: today in Shanghai)",
    )  # fmt: skip
    common.add_argument("--serious-penalties", metavar="N", type=int, default=None, help=SERIOUS_HELP)
    _add_warehouse_option(common)
    marts = subparsers.add_parser("marts", help="subject profiles, joint lists, key supervision targets")
    commands = marts.add_subparsers(dest="marts_command", metavar="COMMAND", required=True)
    refresh = commands.add_parser(
        "refresh", parents=[common], help="rebuild the subjects touched by loads since the last refresh"
    )
    refresh.add_argument("--full", action="store_true", help="rebuild every subject")
    refresh.add_argument("--catalog", type=Path, default=None, help=CATALOG_HELP)
    refresh.set_defaults(handler=run_refresh)
    targets = commands.add_parser("targets", parents=[common], help="key supervision targets (JSON lines)")
    targets.set_defaults(handler=run_targets)
    lists = commands.add_parser("lists", parents=[common], help="list entries in force on a day (JSON lines)")
    lists.add_argument("--kind", choices=("red_list", "black_list"), default=None, help="only this kind")
    lists.set_defaults(handler=run_lists)


def run_refresh(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.cli.calendar_cmd import parse_date
    from etl.marts.build import refresh_marts
    from etl.warehouse import open_warehouse

    catalog = load_catalog(args.catalog or settings.catalog_dir())
    report = refresh_marts(
        open_warehouse(args.warehouse), catalog, full=args.full,
        as_of=parse_date(args.as_of) if args.as_of else None, serious_penalties=args.serious_penalties,
    )  # fmt: skip
    print(f"marts refreshed ({report.mode}, as of {report.as_of}): {report.deliveries} deliveries taken "
          f"in, {report.subjects} subjects rebuilt, {report.profiles} profiles, {report.key_targets} key "
          "supervision targets")  # fmt: skip
    return 0


def run_targets(args: argparse.Namespace) -> int:
    from etl.cli.calendar_cmd import parse_date
    from etl.marts import read, rules
    from etl.marts.build import today
    from etl.marts.lookup import plain
    from etl.warehouse import open_warehouse

    as_of = parse_date(args.as_of) if args.as_of else today()
    warehouse = open_warehouse(args.warehouse)
    with warehouse._session("reading key supervision targets") as session:
        found = read.key_targets(session, as_of, rules.key_target_penalties(args.serious_penalties))
        for target in found:
            profile = read.profile(session, target["subject_key"]) or {}
            kind = profile.get("subject_kind", "uscc")
            target["subject_key"] = read.shown_key(target["subject_key"], kind)
            target["name"] = profile.get("name")
            print(json.dumps(plain(target), ensure_ascii=False))
    return 0


def run_lists(args: argparse.Namespace) -> int:
    from etl.cli.calendar_cmd import parse_date
    from etl.marts import read
    from etl.marts.build import today
    from etl.marts.lookup import plain
    from etl.warehouse import open_warehouse

    as_of = parse_date(args.as_of) if args.as_of else today()
    warehouse = open_warehouse(args.warehouse)
    with warehouse._session("reading the joint lists") as session:
        entries = read.lists_on(session, as_of)
    for entry in entries:
        if args.kind is None or entry["list_kind"] == args.kind:
            key, kind = entry["subject_key"], entry["subject_kind"]
            shown = read.shown_key(key, kind)
            entry = {k: v.replace(key, shown) if isinstance(v, str) else v for k, v in entry.items()}
            print(json.dumps(plain(entry), ensure_ascii=False))
    return 0
