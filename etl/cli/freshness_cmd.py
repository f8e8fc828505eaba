"""``credit-etl freshness`` and ``credit-etl alerts``: who is late, and telling them.

``freshness`` lists every catalog source with its last delivery, next deadline and state (ok,
due_soon, breached, recovered, undecidable; see ``etl.freshness``), then the 双公示 on-time rates
per department and the records published late. It reads only.

``alerts run`` does what the monitor DAG does for one day: evaluate, record today's notices in the
``alerts`` tables (at most one per obligation and day) and send them by mail, DingTalk and webhook
through the Airflow connections in the environment (``AIRFLOW_CONN_SMTP_DEFAULT``,
``AIRFLOW_CONN_DINGTALK_SCJG``, …). ``--dry-run`` prints the messages it would send and writes
nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from etl.errors import UsageError

if TYPE_CHECKING:
    from etl.catalog import Catalog
    from etl.freshness import PublicationReport, SourceFreshness

FRESHNESS_EPILOG = """\
States: ok; due_soon (not delivered, at most due_soon_working_days working days left); breached
(deadline passed without a delivery; LATE counts working days); recovered (a breach fixed since the
previous working day); undecidable (a year the working-day calendar does not know).
Exit status: 0 when no source is breached or undecidable, 1 otherwise, 2 on a usage or warehouse
error.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--as-of", metavar="DATE", default=None,
        help="the day to judge, YYYY-MM-DD (default: today in Shanghai)",
    )  # fmt: skip
    common.add_argument(
        "--warehouse", metavar="URL", default=None,
        help="duckdb:///path.duckdb or postgresql://user@host:port/db[?schema=name]",
    )  # fmt: skip
    common.add_argument(
        "--catalog", type=Path, default=None, help="catalog directory (default: the project's)"
    )
    common.add_argument(
        "--watch-from", metavar="DATE", default=None,
        help="when obligations start (default: the day of the earliest ledger row)",
    )  # fmt: skip

    freshness = subparsers.add_parser(
        "freshness", parents=[common], epilog=FRESHNESS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="every source's last delivery, next deadline and SLA state; 双公示 late records",
    )  # fmt: skip
    freshness.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    freshness.add_argument(
        "--late-limit", type=int, default=20, metavar="N",
        help="late 双公示 records to list in the table output (default 20; --json lists all)",
    )  # fmt: skip
    freshness.set_defaults(handler=run_freshness)

    alerts = subparsers.add_parser("alerts", help="record and send today's freshness alerts")
    actions = alerts.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run", parents=[common], help="evaluate, record today's notices and send them (as the monitor DAG)"
    )
    run.add_argument("--dry-run", action="store_true", help="print the messages; write and send nothing")
    run.add_argument(
        "--escalate-after", type=int, metavar="N", default=None,
        help="working days late before escalation (default: $CREDIT_ETL_ALERT_ESCALATE_AFTER or 3)",
    )  # fmt: skip
    run.add_argument(
        "--remind-every", type=int, metavar="N", default=None,
        help="working days between reminders (default: $CREDIT_ETL_ALERT_REMIND_EVERY or 1)",
    )  # fmt: skip
    run.set_defaults(handler=run_alerts)


def _day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    from etl.cli.calendar_cmd import parse_date

    try:
        return parse_date(text)
    except UsageError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _context(args: argparse.Namespace) -> tuple[Catalog, Any, dt.date, dt.date | None]:
    from etl import settings
    from etl.alerts.run import today_in_shanghai
    from etl.catalog import load_catalog
    from etl.warehouse import open_warehouse

    as_of = _day(args.as_of, "--as-of") or today_in_shanghai()
    watch_from = _day(args.watch_from, "--watch-from")
    catalog = load_catalog(args.catalog or settings.catalog_dir())
    return catalog, open_warehouse(args.warehouse), as_of, watch_from


def run_freshness(args: argparse.Namespace) -> int:
    from etl.alerts.run import evaluate_sources
    from etl.calendar import WorkCalendar
    from etl.freshness import BREACHED, UNDECIDABLE, assess_publication
    from etl.freshness_queries import publication_tables, read_publication_records

    if args.late_limit < 0:
        raise UsageError("--late-limit must be 0 or more")
    catalog, warehouse, as_of, watch_from = _context(args)
    calendar = WorkCalendar.from_catalog(catalog)
    sources = evaluate_sources(catalog, warehouse, as_of, calendar=calendar, watch_from=watch_from)
    tables = publication_tables(catalog)
    records = read_publication_records(warehouse, tables, loaded_until=as_of)
    windows = {t.dataset_id: _publication_days(catalog, t.dataset_id) for t in tables}
    report = assess_publication(records, windows, calendar)
    if args.json:
        _print_json(as_of, sources, report, sys.stdout)
    else:
        _print_sources(as_of, sources, sys.stdout)
        _print_publication(report, windows, args.late_limit, sys.stdout)
    return 1 if any(s.state in (BREACHED, UNDECIDABLE) for s in sources) else 0


def _publication_days(catalog: Catalog, dataset_id: str) -> int:
    publication = catalog.datasets[dataset_id].sla.publication
    assert publication is not None
    return publication.working_days


def _print_json(
    as_of: dt.date, sources: list[SourceFreshness], report: PublicationReport, out: TextIO
) -> None:
    document = {
        "as_of": as_of.isoformat(),
        "sources": [s.as_dict() for s in sources],
        "publication": {
            "department_rates": [r.as_dict() for r in report.department_rates],
            "rates": [r.as_dict() for r in report.rates],
            "late": [x.as_dict() for x in report.late],
            "undecided": dict(report.undecided),
        },
    }
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")


def _when(moment: dt.datetime | None) -> str:
    from etl.freshness import SHANGHAI

    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _table(rows: list[list[str]], out: TextIO) -> None:
    """Columns padded to their widest cell; the last column is left as it is."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


def _print_sources(as_of: dt.date, sources: list[SourceFreshness], out: TextIO) -> None:
    out.write(f"freshness as of {as_of.isoformat()} ({as_of:%a})\n\n")
    rows = [["SOURCE", "DEPT", "LAST DELIVERY", "NEXT DEADLINE", "STATE", "LATE", "REASON"]]
    for s in sources:
        rows.append([
            s.source_id, s.department, _when(s.last_delivery),
            s.next_deadline.isoformat() if s.next_deadline else "-", s.state,
            str(s.days_late) if s.days_late is not None else "-", s.reason,
        ])  # fmt: skip
    _table(rows, out)
    counts = Counter(s.state for s in sources)
    from etl.freshness import STATES

    summary = ", ".join(f"{counts[state]} {state}" for state in STATES)
    out.write(f"\n{len(sources)} source(s): {summary}\n")


def _print_publication(
    report: PublicationReport, windows: dict[str, int], limit: int, out: TextIO
) -> None:
    days = ", ".join(f"{d} {n}" for d, n in sorted(windows.items()))
    out.write(f"\n双公示 publication (working days from the decision date: {days})\n\n")
    if not report.rates:
        out.write("no 双公示 records loaded\n")
        return
    rows = [["DEPT", "DATASET", "RECORDS", "ON TIME", "LATE", "UNDECIDED", "RATE"]]
    for rate in (*report.rates, *report.department_rates):
        rows.append([
            rate.department, rate.dataset or "(all)", str(rate.records), str(rate.on_time), str(rate.late),
            str(rate.undecided), f"{rate.rate:.1%}" if rate.rate is not None else "-",
        ])  # fmt: skip
    _table(rows, out)
    for reason, count in report.undecided.items():
        out.write(f"undecided: {count} record(s): {reason}\n")
    shown = report.late[:limit]
    out.write(f"\nlate records, most late first ({len(shown)} of {len(report.late)}):\n")
    if shown:
        rows = [["DATASET", "DEPT", "DECIDED", "DEADLINE", "PUBLISHED", "LATE", "DELIVERY:ROW", "RECORD"]]
        for late in shown:
            record = late.record
            rows.append([
                record.dataset, record.department,
                record.decision_date.isoformat() if record.decision_date else "-", late.deadline.isoformat(),
                record.first_loaded_on.isoformat(), str(late.working_days_late),
                f"{record.delivery_id}:{record.source_row}", " ".join(v for _, v in record.key),
            ])  # fmt: skip
        _table(rows, out)


def run_alerts(args: argparse.Namespace) -> int:
    from etl.alerts.run import (
        evaluate_sources,
        is_monitor_day,
        plan_day,
        policy_from_env,
        record_alerts,
        send_alerts,
    )
    from etl.alerts.store import read_alerts
    from etl.calendar import WorkCalendar

    policy = policy_from_env(args.escalate_after, args.remind_every)
    catalog, warehouse, as_of, watch_from = _context(args)
    calendar = WorkCalendar.from_catalog(catalog)
    if not is_monitor_day(calendar, as_of):
        print(f"note: {as_of.isoformat()} is not a working day; the monitor DAG skips such days",
              file=sys.stderr)  # fmt: skip
    sources = evaluate_sources(catalog, warehouse, as_of, calendar=calendar, watch_from=watch_from)
    if args.dry_run:
        planned = plan_day(catalog, read_alerts(warehouse), sources, as_of, calendar=calendar, policy=policy)
        _print_notices(planned.plan.notices, sys.stdout)
        for message in planned.messages:
            recipients = ", ".join(message.to) + (f" cc {', '.join(message.cc)}" if message.cc else "")
            print(f"\n--- {message.channel} to {message.department}: {recipients or message.conn_id}")
            print(f"subject: {message.subject}")
            print(message.body)
        print(f"\ndry run: {len(planned.messages)} message(s) not recorded, not sent")
        return 0
    recorded = record_alerts(catalog, warehouse, sources, as_of, calendar=calendar, policy=policy)
    _print_notices(recorded.plan.notices, sys.stdout)
    report = send_alerts(warehouse, as_of)
    print(f"{len(report.sent)} message(s) sent")
    return 0


def _print_notices(notices: Any, out: TextIO) -> None:
    out.write(f"{len(notices)} notice(s)\n")
    for notice in notices:
        out.write(f"  {notice.kind:<10} {notice.department:<6} {notice.breach_id}\n")
