"""The monitor's steps — evaluate, record, send — as the DAG tasks and the CLI call them.

Settings from the environment (a command-line option wins):

| variable | default | what |
|---|---|---|
| ``CREDIT_ETL_ALERT_ESCALATE_AFTER`` | 3 | working days late before a breach is escalated |
| ``CREDIT_ETL_ALERT_REMIND_EVERY`` | 1 | working days between reminders of an open breach |
| ``CREDIT_ETL_SMTP_CONN_ID`` | Airflow's ``[email] email_conn_id`` | the SMTP connection |
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from etl.alerts import AlertDeliveryError
from etl.alerts.messages import Message, coordinator_of, render_messages
from etl.alerts.notifiers import redact, send_message
from etl.alerts.plan import AlertPlan, AlertPolicy, AlertRow, plan_alerts
from etl.calendar import WorkCalendar
from etl.catalog import Catalog
from etl.errors import CalendarError, UsageError
from etl.freshness import SHANGHAI, SourceFreshness, evaluate

if TYPE_CHECKING:
    from etl.warehouse.base import Warehouse

log = logging.getLogger(__name__)


def today_in_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def is_monitor_day(calendar: WorkCalendar, day: dt.date) -> bool:
    """Whether the monitor runs on ``day``: on working days.

    In a year the calendar does not know, it runs Monday to Friday: the SLA evaluation will say it
    cannot decide, and the coordinator must hear that rather than a silent monitor.

    >>> cal = WorkCalendar()
    >>> [is_monitor_day(cal, dt.date(2026, 10, d)) for d in (1, 9, 10, 11)]
    [False, True, True, False]
    >>> is_monitor_day(cal, dt.date(2027, 1, 4)), is_monitor_day(cal, dt.date(2027, 1, 2))
    (True, False)
    """
    try:
        return calendar.is_working_day(day)
    except CalendarError:
        return day.weekday() < 5


def policy_from_env(
    escalate_after: int | None = None, remind_every: int | None = None
) -> AlertPolicy:
    """The alert policy: arguments first, then ``CREDIT_ETL_ALERT_*``, then the defaults."""

    def pick(given: int | None, name: str, default: int) -> int:
        if given is not None:
            return given
        text = os.environ.get(name)
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"{name}={text!r} is not a whole number of working days") from None

    try:
        return AlertPolicy(
            escalate_after_working_days=pick(escalate_after, "CREDIT_ETL_ALERT_ESCALATE_AFTER", 3),
            remind_every_working_days=pick(remind_every, "CREDIT_ETL_ALERT_REMIND_EVERY", 1),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def evaluate_sources(
    catalog: Catalog,
    warehouse: Warehouse,
    as_of: dt.date,
    *,
    calendar: WorkCalendar | None = None,
    watch_from: dt.date | None = None,
) -> list[SourceFreshness]:
    """Every catalog source at ``as_of``, from the ledger (no writes)."""
    from etl.freshness_queries import read_deliveries

    calendar = calendar or WorkCalendar.from_catalog(catalog)
    deliveries = read_deliveries(warehouse, until=as_of)
    return evaluate(catalog, deliveries, as_of, calendar, watch_from=watch_from)


@dataclass(frozen=True)
class RecordedAlerts:
    plan: AlertPlan
    messages: list[Message]


def plan_day(
    catalog: Catalog,
    rows: Sequence[AlertRow],
    sources: Sequence[SourceFreshness],
    as_of: dt.date,
    *,
    calendar: WorkCalendar | None = None,
    policy: AlertPolicy | None = None,
) -> RecordedAlerts:
    """Today's plan and messages from the alert rows so far (pure: what ``--dry-run`` shows)."""
    calendar = calendar or WorkCalendar.from_catalog(catalog)
    policy = policy or AlertPolicy()
    coordinator = coordinator_of(catalog).id
    plan = plan_alerts(rows, sources, as_of, calendar, policy, coordinator=coordinator)
    return RecordedAlerts(plan, render_messages(plan.notices, catalog, as_of, policy))


def record_alerts(
    catalog: Catalog,
    warehouse: Warehouse,
    sources: Sequence[SourceFreshness],
    as_of: dt.date,
    *,
    calendar: WorkCalendar | None = None,
    policy: AlertPolicy | None = None,
) -> RecordedAlerts:
    """Plans the day against the stored alert rows and stores rows, notices and messages."""
    from etl.alerts.store import record_day

    def plan(rows: list[AlertRow]) -> tuple[AlertPlan, list[Message]]:
        planned = plan_day(catalog, rows, sources, as_of, calendar=calendar, policy=policy)
        return planned.plan, planned.messages

    stored_plan, messages = record_day(warehouse, as_of, plan)
    log.info("alerts for %s: %d notice(s) in %d message(s)", as_of, len(stored_plan.notices), len(messages))
    return RecordedAlerts(stored_plan, messages)


@dataclass
class SendReport:
    sent: list[Message] = field(default_factory=list)
    failed: list[tuple[Message, str]] = field(default_factory=list)


def send_alerts(
    warehouse: Warehouse,
    as_of: dt.date,
    *,
    sender: Callable[[Message], None] | None = None,
    smtp_conn_id: str | None = None,
) -> SendReport:
    """Sends the unsent messages of ``as_of``, marking each; raises ``AlertDeliveryError`` after
    trying them all if any failed (the failed ones stay unsent for a retry)."""
    from etl.alerts.store import mark_message, unsent_messages

    conn_id = smtp_conn_id or os.environ.get("CREDIT_ETL_SMTP_CONN_ID") or None

    def default_sender(message: Message) -> None:
        send_message(message, smtp_conn_id=conn_id)

    send = sender or default_sender
    report = SendReport()
    for message in unsent_messages(warehouse, as_of):
        assert message.message_id is not None
        try:
            send(message)
        except Exception as exc:  # any provider or network error: record it, try the others
            error = redact(f"{type(exc).__name__}: {exc}")[:2000]
            log.warning("alert message %s (%s to %s) failed: %s", message.message_id, message.channel,
                        message.department, error)  # fmt: skip
            mark_message(warehouse, message.message_id, error=error)
            report.failed.append((message, error))
            continue
        mark_message(warehouse, message.message_id, error=None)
        report.sent.append(message)
    if report.failed:
        lines = [f"{m.channel} to {m.department} (message {m.message_id}): {e}" for m, e in report.failed]
        raise AlertDeliveryError(
            f"{len(report.failed)} of {len(report.failed) + len(report.sent)} alert message(s) could not "
            "be sent; they stay unsent for the next try:\n  " + "\n  ".join(lines)
        )
    return report
