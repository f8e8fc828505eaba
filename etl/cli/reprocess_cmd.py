"""``credit-etl reprocess``: run a period's archived deliveries of one dataset again through the current
catalog, after the catalog was fixed (a widened list of allowed values, a new header alias …).

Every delivery of the dataset received in ``[--from, --to]`` (dates in Asia/Shanghai, both days
included) that was processed (loaded, loaded with rejections, rejected whole) or failed is read again
from its archived raw file, oldest first, so that later corrections still win. Each gets a new ledger
row whose ``reprocess_of`` names the attempt it redoes and whose notes say why; rows that now pass are
loaded, rows that still fail stay in quarantine with their new reasons, and the department's feedback
files are rewritten. Running the same reprocess again leaves the warehouse as it was: the records
are identical, so nothing changes but the ledger, which records the attempt.

The fixed catalog's expectation suites must have been rebuilt first (``credit-etl expectations build``):
a suite that no longer matches the catalog stops the command before anything is touched.

Exit codes: 0 when every delivery was processed; 1 when an archived file is missing or a delivery
failed; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from etl.errors import UsageError

if TYPE_CHECKING:
    from etl.drop import Drop
    from etl.warehouse import LedgerRow

DEFAULT_NOTE = "reprocess: catalog fix"
# Attempts worth running again; duplicates point at a delivery already in this list.
REPROCESSED_STATUSES = ("loaded", "loaded_with_rejections", "rejected", "failed")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("reprocess", help="run a period's archived deliveries again through "
                                   "the current catalog")  # fmt: skip
    add = parser.add_argument
    add("--dataset", required=True, help="catalog dataset id, e.g. admin_penalty")
    add("--from", dest="start", required=True, metavar="DATE",
        help="first day of receipt (2026-11-01, Asia/Shanghai), or a date and time")
    add("--to", dest="end", required=True, metavar="DATE",
        help="last day of receipt, included (2026-11-30), or a date and time (excluded)")
    add("--department", help="only this department's deliveries")
    add("--note", default=DEFAULT_NOTE, help=f"why, recorded in the ledger (default {DEFAULT_NOTE!r})")
    add("--dry-run", action="store_true", help="list the deliveries that would be reprocessed")
    add("--warehouse", metavar="URL", help="default: $CREDIT_ETL_WAREHOUSE")
    add("--storage", metavar="ROOT", help="default: $CREDIT_ETL_STORAGE or var/storage")
    add("--catalog", type=Path, help="catalog directory (default: the project's)")
    add("--json", action="store_true", help="print each new ledger row as one JSON object")
    parser.set_defaults(handler=run_reprocess)


def period(start: str, end: str) -> tuple[dt.datetime, dt.datetime]:
    """``[from, before)`` of receipt times: a bare ``--to`` date includes that whole day.

    >>> [t.isoformat() for t in period("2026-11-01", "2026-11-30")]
    ['2026-11-01T00:00:00+08:00', '2026-12-01T00:00:00+08:00']
    >>> [t.isoformat() for t in period("2026-11-01T08:00", "2026-11-01T12:00")]
    ['2026-11-01T08:00:00+08:00', '2026-11-01T12:00:00+08:00']
    >>> period("2026-11-30", "2026-11-01")
    Traceback (most recent call last):
        ...
    etl.errors.UsageError: --from 2026-11-30 is after --to 2026-11-01
    """
    from etl.cli.fetch_cmd import parse_moment

    since = parse_moment(start, "--from")
    before = parse_moment(end, "--to")
    if _is_date(end):
        before += dt.timedelta(days=1)
    if since >= before:
        raise UsageError(f"--from {start} is after --to {end}")
    return since, before


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def deliveries(rows: Sequence[LedgerRow]) -> list[LedgerRow]:
    """One ledger row per delivery (bytes, dataset, department), in order of first receipt: its latest
    attempt, which the reprocess supersedes.

    >>> from etl.warehouse import LedgerRow
    >>> from etl.drop import SHANGHAI
    >>> def row(ledger_id, sha, status, day):
    ...     return LedgerRow(delivery_id=f"d:x:{sha}", dataset="d", department="x", source="s",
    ...                      file_name="f.csv", sha256=sha * 64, size_bytes=1, status=status,
    ...                      received_at=dt.datetime(2026, 11, day, tzinfo=SHANGHAI), ledger_id=ledger_id)
    >>> [r.ledger_id for r in deliveries([row(1, "a", "rejected", 1), row(2, "b", "loaded", 2),
    ...                                   row(3, "a", "loaded", 1)])]
    [3, 2]
    """
    latest: dict[tuple[str, str, str], LedgerRow] = {}
    for row in rows:
        key = (row.sha256, row.dataset, row.department)
        if key not in latest or (row.ledger_id or 0) > (latest[key].ledger_id or 0):
            latest[key] = row  # dict order stays that of first receipt
    return list(latest.values())


def drop_of(row: LedgerRow) -> Drop:
    """The archived delivery a ledger row describes; one rejected for its file name stays rejected
    unread (a catalog fix does not fix the name: the department sends it again, renamed)."""
    from etl.drop import Drop
    from etl.storage import Storage
    from etl.warehouse.ledger import UNREAD_REJECTIONS

    refused = row.error_reason if row.status == "rejected" and row.error_reason in UNREAD_REJECTIONS else None
    return Drop(dataset=row.dataset, department=row.department, source=row.source, file_name=row.file_name,
                sha256=row.sha256, size_bytes=row.size_bytes, received_at=row.received_at,
                raw_key=Storage.raw_key(row.sha256), change_date=row.change_date,
                refused=refused)  # fmt: skip


def run_reprocess(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.pipeline import process_drop
    from etl.storage import Storage
    from etl.validate import current_suite
    from etl.warehouse import open_warehouse

    since, before = period(args.start, args.end)
    catalog = load_catalog(args.catalog or settings.catalog_dir())
    dataset = catalog.dataset(args.dataset)
    # A catalog fix reaches the checks through the rebuilt expectation suite: say so before any
    # delivery is touched, rather than record every one of them as failed.
    current_suite(dataset)
    if args.department is not None and args.department not in dataset.departments:
        raise UsageError(f"department {args.department!r} does not deliver {dataset.id} "
                         f"(it is delivered by {', '.join(dataset.departments)})")  # fmt: skip
    storage = Storage(args.storage or settings.storage_root())
    warehouse = open_warehouse(args.warehouse)
    warehouse.init(catalog)
    rows = warehouse.ledger(dataset=dataset.id, department=args.department, status=REPROCESSED_STATUSES,
                            received_from=since, received_before=before)  # fmt: skip
    todo = deliveries(rows)
    window = f"received {since:%Y-%m-%d %H:%M} to before {before:%Y-%m-%d %H:%M}"
    if not todo:
        print(f"{dataset.id}: no processed deliveries {window}", file=sys.stderr)
        return 0
    print(f"{dataset.id}: {len(todo)} deliveries {window}{' (dry run)' if args.dry_run else ''}",
          file=sys.stderr)  # fmt: skip
    failures = 0
    for previous in todo:
        drop = drop_of(previous)
        if args.dry_run:
            print(f"would reprocess ledger {previous.ledger_id}  {previous.status}  {drop.file_name}")
            continue
        if not storage.exists(drop.raw_key):
            print(f"missing: {drop.file_name}: archived file {storage.location(drop.raw_key)} is gone "
                  f"(ledger {previous.ledger_id})", file=sys.stderr)  # fmt: skip
            failures += 1
            continue
        try:
            result = process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage,
                                  reprocess_of=previous.ledger_id, notes=args.note)  # fmt: skip
        except Exception as exc:  # recorded as failed in the ledger by process_drop; go on with the rest
            print(f"failed: {drop.file_name} (ledger {previous.ledger_id}): {exc}", file=sys.stderr)
            failures += 1
            continue
        _print(result.ledger, previous, storage, as_json=args.json)
        failures += not result.ok
    return 1 if failures else 0


def _print(row: LedgerRow, previous: LedgerRow, storage: object, *, as_json: bool) -> None:
    if as_json:
        payload = row.as_dict()
        payload["feedback_paths"] = [storage.location(k) for k in payload["feedback_paths"]]  # type: ignore[attr-defined]
        print(json.dumps(payload, ensure_ascii=False, default=str))
        return
    print(f"ledger {row.ledger_id} (reprocess of {previous.ledger_id})  {row.status}  "
          f"loaded {previous.rows_loaded} -> {row.rows_loaded}, rejected {previous.rows_rejected} -> "
          f"{row.rows_rejected}  {row.file_name}")  # fmt: skip
