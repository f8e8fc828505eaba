"""``credit-etl fetch``: fetch from one source and process what it finds, one ledger row per delivery.

Landing zones and SFTP servers yield the complete files waiting there; a database source pulls the
rows whose watermark lies in ``[--since, --until)`` (dates or times in Asia/Shanghai), by default
from where the previous pulls left off to now.

Exit codes: 0 when every delivery was processed (with or without rejected rows) or was a duplicate;
1 when a delivery was rejected whole or a file was refused; 2 for a usage error or a source that
cannot be reached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from etl.errors import UsageError

LEDGER_COLUMNS = (
    "ledger_id", "status", "rows_read", "rows_loaded", "rows_rejected", "delivery_id", "file_name",
)  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fetch", help="fetch from one source and process what it finds")
    add = parser.add_argument
    add("--source", required=True,
        help="source id, e.g. admin_penalty__sthj__sftp (`credit-etl catalog sources` lists them)")
    add("--since", metavar="DATE",
        help="database sources: first watermark to pull (2026-11-01 or 2026-11-01T08:00, "
             "Asia/Shanghai); default: where the last pull ended")
    add("--until", metavar="DATE", help="database sources: pull watermarks before this; default: now")
    add("--stable-seconds", type=float, default=None, metavar="N",
        help="files without a marker are taken once unchanged this long (default 30)")
    add("--no-wait", action="store_true",
        help="do not wait within the run for new files to prove stable; a later run takes them")
    add("--landing", type=Path, metavar="DIR", help="landing root (default: $CREDIT_ETL_LANDING)")
    add("--warehouse", metavar="URL", help="default: $CREDIT_ETL_WAREHOUSE")
    add("--storage", metavar="ROOT", help="default: $CREDIT_ETL_STORAGE or var/storage")
    add("--catalog", type=Path, help="catalog directory (default: the project's)")
    add("--json", action="store_true", help="print each ledger row as one JSON object")
    parser.set_defaults(handler=run_fetch)


def parse_moment(value: str, option: str) -> dt.datetime:
    """A date or date-time from the command line, in Asia/Shanghai unless it names its zone.

    >>> parse_moment("2026-11-01", "--since").isoformat()
    '2026-11-01T00:00:00+08:00'
    >>> parse_moment("2026-11-01T08:30:00+00:00", "--until").isoformat()
    '2026-11-01T08:30:00+00:00'
    >>> parse_moment("1 Nov", "--since")
    Traceback (most recent call last):
        ...
    etl.errors.UsageError: --since: '1 Nov' is not a date (2026-11-01) or a date and time (2026-11-01T08:00)
    """
    from etl.drop import SHANGHAI

    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option}: {value!r} is not a date (2026-11-01) or a date and time "
                         "(2026-11-01T08:00)") from None  # fmt: skip
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


def _window(args: argparse.Namespace, method: str):  # type: ignore[no-untyped-def]
    from etl.drop import now
    from etl.sources import Window

    if args.since is None and args.until is None:
        return None
    if method != "database":
        raise UsageError("--since and --until apply to database sources; files are taken as they arrive")
    since = parse_moment(args.since, "--since") if args.since else None
    until = parse_moment(args.until, "--until") if args.until else now().replace(microsecond=0)
    try:
        return Window(since, until)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run_fetch(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.sources import FetchOptions, run_source
    from etl.storage import Storage
    from etl.warehouse import open_warehouse

    catalog = load_catalog(args.catalog or settings.catalog_dir())
    ref = catalog.source(args.source)
    options = FetchOptions(window=_window(args, ref.source.method))
    if args.stable_seconds is not None:
        if args.stable_seconds < 0:
            raise UsageError("--stable-seconds cannot be negative")
        options = FetchOptions(window=options.window, stable_seconds=args.stable_seconds,
                               wait_seconds=args.stable_seconds)  # fmt: skip
    if args.no_wait:
        options = FetchOptions(window=options.window, stable_seconds=options.stable_seconds, wait_seconds=0)
    storage = Storage(args.storage or settings.storage_root())
    warehouse = open_warehouse(args.warehouse)
    warehouse.init(catalog)
    run = run_source(ref, catalog=catalog, storage=storage, warehouse=warehouse, options=options,
                     landing_root=args.landing)  # fmt: skip
    for result in run.results:
        row = result.as_dict()
        row["feedback_paths"] = [storage.location(key) for key in row["feedback_paths"]]
        if args.json:
            print(json.dumps(row, ensure_ascii=False, default=str))
        else:
            print("  ".join(str(row[c]) for c in LEDGER_COLUMNS))
    report = run.report
    for refusal in report.refused:
        moved = f" -> {refusal.moved_to}" if refusal.moved_to else ""
        print(f"refused: {refusal.name} ({refusal.reason}){moved}", file=sys.stderr)
    for name in report.waiting:
        print(f"waiting: {name} (not complete yet)", file=sys.stderr)
    for name in report.skipped:
        print(f"skipped: {name} (already processed)", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if not run.results:
        print(f"{ref.id}: no new deliveries", file=sys.stderr)
    return 0 if run.ok else 1
