"""Tables ``alerts``, ``alert_notices`` and ``alert_messages`` (``sql/migrations/0002_alerts.sql``).

``record_day`` reads every alert row, lets the caller plan the day and writes the plan, its notices
and messages, all in one transaction under a lock: two monitor runs at once cannot both notify the
same obligation, and the key of ``alert_notices`` (one row per obligation and day) would refuse it
anyway. Values travel as bound parameters.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from etl.alerts.messages import Message
from etl.alerts.plan import AlertPlan, AlertRow
from etl.errors import WarehouseError

if TYPE_CHECKING:
    from etl.warehouse.base import Session, Warehouse

T = TypeVar("T")

ALERT_COLUMNS = tuple(AlertRow.__dataclass_fields__)
_ALERT_TYPES = {
    "due_date": "DATE", "first_seen": "DATE", "last_notified": "DATE", "recovered_on": "DATE",
    "escalation_level": "INTEGER",
}  # fmt: skip

_ALERT_VALUES = ", ".join(f"CAST(${c} AS {_ALERT_TYPES.get(c, 'VARCHAR')})" for c in ALERT_COLUMNS)
UPSERT_ALERT_SQL = (
    f"INSERT INTO alerts ({', '.join(ALERT_COLUMNS)}, updated_at)\n"
    f"VALUES ({_ALERT_VALUES}, now())\n"
    "ON CONFLICT (breach_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ALERT_COLUMNS if c != "breach_id")
    + ", updated_at = excluded.updated_at"
)
INSERT_NOTICE_SQL = (
    "INSERT INTO alert_notices (breach_id, notice_date, kind, escalation_level, days_late, created_at)\n"
    "VALUES ($breach_id, CAST($notice_date AS DATE), $kind, CAST($escalation_level AS INTEGER),"
    " CAST($days_late AS INTEGER), now())"
)
INSERT_MESSAGE_SQL = (
    "INSERT INTO alert_messages (notice_date, department, channel, conn_id, recipients, subject, body,"
    " breach_ids, created_at)\n"
    "VALUES (CAST($notice_date AS DATE), $department, $channel, $conn_id, CAST($recipients AS JSON),"
    " $subject, $body, CAST($breach_ids AS JSON), now())\nRETURNING message_id"
)
MESSAGE_COLUMNS = (
    "message_id", "department", "channel", "conn_id", "CAST(recipients AS VARCHAR)", "subject", "body",
    "CAST(breach_ids AS VARCHAR)",
)  # fmt: skip


def _require_tables(session: Session, warehouse: Warehouse) -> None:
    from etl.warehouse.base import _columns

    if not _columns(session, "alerts"):
        raise WarehouseError(
            f"no alerts table in {warehouse.url.display}; run `credit-etl warehouse init` (migration 0002)"
        )


def read_alerts(warehouse: Warehouse) -> list[AlertRow]:
    """Every alert row, open and closed, by breach id."""
    with warehouse._session("reading alerts") as session:
        _require_tables(session, warehouse)
        return _read_alerts(session)


def _read_alerts(session: Session) -> list[AlertRow]:
    rows = session.rows(f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts ORDER BY breach_id")
    return [AlertRow(**dict(zip(ALERT_COLUMNS, row, strict=True))) for row in rows]


def record_day(
    warehouse: Warehouse,
    day: dt.date,
    plan_day: Callable[[list[AlertRow]], tuple[AlertPlan, list[Message]]],
) -> tuple[AlertPlan, list[Message]]:
    """Plans ``day`` from the stored rows and stores the plan, its notices and its messages (with
    their ids) in one transaction."""
    with warehouse._session("recording alerts") as session, session.transaction():
        session.lock("alerts")
        _require_tables(session, warehouse)
        plan, messages = plan_day(_read_alerts(session))
        for row in plan.rows:
            session.execute(UPSERT_ALERT_SQL, {c: getattr(row, c) for c in ALERT_COLUMNS})
        for notice in plan.notices:
            days_late = notice.check.days_late if notice.check is not None else None
            session.execute(INSERT_NOTICE_SQL, {
                "breach_id": notice.breach_id, "notice_date": day, "kind": notice.kind,
                "escalation_level": notice.row.escalation_level, "days_late": days_late,
            })  # fmt: skip
        stored = [_insert_message(session, message, day) for message in messages]
    return plan, stored


def _insert_message(session: Session, message: Message, day: dt.date) -> Message:
    params = {
        "notice_date": day, "department": message.department, "channel": message.channel,
        "conn_id": message.conn_id,
        "recipients": json.dumps({"to": list(message.to), "cc": list(message.cc)}, ensure_ascii=False),
        "subject": message.subject, "body": message.body,
        "breach_ids": json.dumps(list(message.breach_ids), ensure_ascii=False),
    }  # fmt: skip
    (message_id,) = session.rows(INSERT_MESSAGE_SQL, params)[0]
    return _with_id(message, int(message_id))


def _with_id(message: Message, message_id: int) -> Message:
    from dataclasses import replace

    return replace(message, message_id=message_id)


def unsent_messages(warehouse: Warehouse, day: dt.date) -> list[Message]:
    """The messages of ``day`` not sent yet, in the order they were written."""
    sql = (
        f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM alert_messages\n"
        "WHERE notice_date = CAST($day AS DATE) AND sent_at IS NULL ORDER BY message_id"
    )
    with warehouse._session("reading alert messages") as session:
        _require_tables(session, warehouse)
        return [_message(row) for row in session.rows(sql, {"day": day})]


def _message(row: tuple[Any, ...]) -> Message:
    message_id, department, channel, conn_id, recipients, subject, body, breach_ids = row
    people = json.loads(recipients)
    return Message(
        channel=channel, department=department, subject=subject, body=body,
        breach_ids=tuple(json.loads(breach_ids)), to=tuple(people.get("to", ())),
        cc=tuple(people.get("cc", ())), conn_id=conn_id, message_id=int(message_id),
    )  # fmt: skip


def mark_message(warehouse: Warehouse, message_id: int, *, error: str | None) -> None:
    """Marks a message sent (``error`` None) or records why sending failed (it stays unsent)."""
    if error is None:
        sql = "UPDATE alert_messages SET sent_at = now(), error = NULL WHERE message_id = CAST($id AS BIGINT)"
        params: dict[str, Any] = {"id": message_id}
    else:
        sql = "UPDATE alert_messages SET error = $error WHERE message_id = CAST($id AS BIGINT)"
        params = {"id": message_id, "error": error}
    with warehouse._session("marking an alert message") as session, session.transaction():
        session.execute(sql, params)


def read_messages(warehouse: Warehouse, day: dt.date | None = None) -> list[dict[str, Any]]:
    """Stored messages (of ``day``, or all) with their sending state, for the CLI and tests."""
    where = "WHERE notice_date = CAST($day AS DATE) " if day is not None else ""
    sql = (
        f"SELECT {', '.join(MESSAGE_COLUMNS)}, notice_date, sent_at, error FROM alert_messages\n"
        f"{where}ORDER BY message_id"
    )
    with warehouse._session("reading alert messages") as session:
        _require_tables(session, warehouse)
        rows = session.rows(sql, {"day": day} if day is not None else None)
    return [
        {"message": _message(row[:8]), "notice_date": row[8], "sent_at": row[9], "error": row[10]}
        for row in rows
    ]


def read_notices(warehouse: Warehouse) -> list[tuple[str, dt.date, str, int]]:
    """(breach id, day, kind, escalation level) of every notice decided, oldest first."""
    sql = (
        "SELECT breach_id, notice_date, kind, escalation_level FROM alert_notices "
        "ORDER BY notice_date, breach_id"
    )
    with warehouse._session("reading alert notices") as session:
        _require_tables(session, warehouse)
        return [(str(a), d, str(k), int(e)) for a, d, k, e in session.rows(sql)]
