"""``credit-etl calendar``: due dates and working-day counts on the Chinese working-day calendar."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from etl.calendar import WorkCalendar
from etl.catalog import DEFAULT_CATALOG_DIR, load_catalog
from etl.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calendar", help="Chinese working days: due dates, counts, holidays and make-up days"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--catalog",
        type=Path,
        default=DEFAULT_CATALOG_DIR,
        metavar="DIR",
        help="catalog whose calendar.yaml overrides apply (default: %(default)s)",
    )

    add = actions.add_parser(
        "add", parents=[common], help="the date N working days after DATE (DATE itself is day 0)"
    )
    add.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
    add.add_argument("n", metavar="N", help="number of working days, 0 or more")
    add.set_defaults(handler=run_add)

    between = actions.add_parser(
        "between", parents=[common], help="working days after START up to and including END"
    )
    between.add_argument("start", metavar="START", help="YYYY-MM-DD")
    between.add_argument("end", metavar="END", help="YYYY-MM-DD")
    between.set_defaults(handler=run_between)

    is_working = actions.add_parser(
        "is-working", parents=[common], help="whether DATE is a working day, and why"
    )
    is_working.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
    is_working.set_defaults(handler=run_is_working)


def parse_date(text: str) -> dt.date:
    """A calendar date from the command line; anything else is a ``UsageError``.

    >>> parse_date("2026-09-30")
    datetime.date(2026, 9, 30)
    >>> parse_date("2026-02-30")
    Traceback (most recent call last):
        ...
    etl.errors.UsageError: '2026-02-30' is not a valid date: day is out of range for month ...
    """
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(
            f"{text!r} is not a valid date: {exc}; write it as YYYY-MM-DD, e.g. 2026-09-30"
        ) from None


def parse_count(text: str) -> int:
    """A number of working days: a whole number, 0 or more."""
    try:
        n = int(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a whole number of working days") from None
    if n < 0:
        raise UsageError(f"the number of working days must be 0 or more, got {n}")
    return n


def _calendar(args: argparse.Namespace) -> WorkCalendar:
    return WorkCalendar.from_catalog(load_catalog(args.catalog))


def run_add(args: argparse.Namespace) -> int:
    day, n = parse_date(args.date), parse_count(args.n)
    print(_calendar(args).add_working_days(day, n).isoformat())
    return 0


def run_between(args: argparse.Namespace) -> int:
    start, end = parse_date(args.start), parse_date(args.end)
    print(_calendar(args).working_days_between(start, end))
    return 0


def run_is_working(args: argparse.Namespace) -> int:
    day = parse_date(args.date)
    info = _calendar(args).describe(day)
    answer = "yes" if info.is_working_day else "no"
    print(f"{day.isoformat()} {day:%a}: {answer}, {info.reason} [{info.source}]")
    return 0
