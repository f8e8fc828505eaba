"""What to tell whom today: de-duplication of freshness alerts, as a pure function.

An *alert row* follows one obligation of one source (``Check.breach_id``, e.g.
``admin_penalty__scjg__landing:twice_monthly:2026-10-H1``) from its first warning to its end; the
rows live in table ``alerts`` (``sql/migrations/0002_alerts.sql``). Each day the monitor compares
today's checks with the rows and decides at most one notice per row:

============================  ==========================================  =====================
today's check / the row       notice                                      row afterwards
============================  ==========================================  =====================
due soon, no row              ``due_soon`` (once: it is a warning)        due_soon
breached, no row or due soon  ``breach``                                  breached
breached, breached            ``escalation`` the day ``days_late``        level 1
                              reaches ``escalate_after_working_days``;
                              otherwise ``reminder`` every
                              ``remind_every_working_days``
gone, row breached            ``recovery``                                closed (recovered_on)
gone, row due soon            none: delivered in time                     closed
undecidable                   none: an unknown calendar proves nothing    unchanged
============================  ==========================================  =====================

A row notified today gets nothing more today, whatever changed since (a second run the same day,
a breach fixed an hour after its notice: the recovery goes out on the next run). A closed row
whose obligation is breached again (a reprocessed delivery changed history) opens again.

While any source is undecidable (the calendar lacks a year), one more row, ``calendar``, tells the
coordinator (发改委) every day until an operator adds the year: a monitor that cannot decide must
not fall silent.

>>> import datetime as dt
>>> from etl.calendar import WorkCalendar
>>> from etl.freshness import Check, SourceFreshness
>>> def source(state, days_late=None):
...     check = Check("twice_monthly", state, "…", deadline=dt.date(2026, 10, 15),
...                   breach_id="s:twice_monthly:2026-10-H1", days_late=days_late)
...     return SourceFreshness("s", "admin_penalty", "scjg", "landing", dt.date(2026, 10, 16), state,
...                            "…", dt.date(2026, 10, 15), days_late, (check,))
>>> cal, rows, kinds = WorkCalendar(), [], []
>>> for day, state, late in [(14, "due_soon", None), (15, "due_soon", None), (16, "breached", 1),
...                          (19, "breached", 2), (20, "breached", 3), (21, "ok", None)]:
...     plan = plan_alerts(rows, [source(state, late)], dt.date(2026, 10, day), cal)
...     rows = plan.merged(rows)
...     kinds.append([n.kind for n in plan.notices])
>>> kinds
[['due_soon'], [], ['breach'], ['reminder'], ['escalation'], ['recovery']]
>>> rows[0].recovered_on
datetime.date(2026, 10, 21)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from etl.calendar import WorkCalendar
from etl.errors import CalendarError
from etl.freshness import BREACHED, DUE_SOON, RECOVERED, UNDECIDABLE, Check, SourceFreshness

DUE_SOON_NOTICE: Final = "due_soon"
BREACH_NOTICE: Final = "breach"
REMINDER_NOTICE: Final = "reminder"
ESCALATION_NOTICE: Final = "escalation"
RECOVERY_NOTICE: Final = "recovery"
NOTICE_KINDS: Final = (DUE_SOON_NOTICE, BREACH_NOTICE, REMINDER_NOTICE, ESCALATION_NOTICE, RECOVERY_NOTICE)

CALENDAR_RULE: Final = "calendar"
CALENDAR_BREACH_ID: Final = "calendar:undecidable"


@dataclass(frozen=True)
class AlertPolicy:
    """How often to repeat and when to escalate (working days)."""

    escalate_after_working_days: int = 3
    remind_every_working_days: int = 1

    def __post_init__(self) -> None:
        if self.escalate_after_working_days < 1 or self.remind_every_working_days < 1:
            raise ValueError("escalation and reminder intervals are whole numbers of working days, 1 or more")


@dataclass(frozen=True)
class AlertRow:
    """One obligation that has been due soon or breached; ``recovered_on`` set means closed."""

    breach_id: str
    source: str
    dataset: str
    department: str
    rule: str
    state: str
    due_date: dt.date
    first_seen: dt.date
    last_notified: dt.date | None = None
    escalation_level: int = 0
    recovered_on: dt.date | None = None

    @property
    def is_open(self) -> bool:
        return self.recovered_on is None


@dataclass(frozen=True)
class Notice:
    """One thing to tell a department about one obligation today.

    ``check`` is today's check (for a recovery: the ``recovered`` check when the evaluation still
    shows it, else None); ``freshness`` the source's evaluation (None for the calendar notice).
    """

    kind: str
    row: AlertRow
    check: Check | None
    freshness: SourceFreshness | None
    undecidable_sources: tuple[str, ...] = ()

    @property
    def breach_id(self) -> str:
        return self.row.breach_id

    @property
    def department(self) -> str:
        return self.row.department


@dataclass(frozen=True)
class AlertPlan:
    """The rows to write (new or changed) and today's notices, at most one per row."""

    day: dt.date
    rows: tuple[AlertRow, ...]
    notices: tuple[Notice, ...]

    def merged(self, previous: Iterable[AlertRow]) -> list[AlertRow]:
        """``previous`` with this plan's rows written over them (what the table holds afterwards)."""
        by_id = {row.breach_id: row for row in previous}
        by_id.update({row.breach_id: row for row in self.rows})
        return list(by_id.values())


def plan_alerts(
    previous: Iterable[AlertRow],
    sources: Iterable[SourceFreshness],
    today: dt.date,
    calendar: WorkCalendar,
    policy: AlertPolicy | None = None,
    *,
    coordinator: str = "fgw",
) -> AlertPlan:
    """Today's notices and row changes, given every alert row so far and today's evaluation."""
    policy = policy or AlertPolicy()
    rows = {row.breach_id: row for row in previous}
    sources = list(sources)
    today_checks = _TodaysChecks.of(sources)
    changes: list[AlertRow] = []
    notices: list[Notice] = []
    for breach_id, (freshness, check) in today_checks.active.items():
        row = rows.get(breach_id)
        if row is not None and row.last_notified == today:
            continue
        decided = _decide(row, freshness, check, today, calendar, policy)
        if decided is not None:
            kind, new_row = decided
            changes.append(new_row)
            notices.append(Notice(kind, new_row, check, freshness))
    for row in rows.values():
        if row.is_open and row.last_notified != today and today_checks.has_ended(row):
            closed, notice = _close(row, today_checks, today)
            changes.append(closed)
            if notice is not None:
                notices.append(notice)
    calendar_row, calendar_notice = _calendar_alert(rows.get(CALENDAR_BREACH_ID), sources, today, coordinator)
    if calendar_row is not None:
        changes.append(calendar_row)
    if calendar_notice is not None:
        notices.append(calendar_notice)
    return AlertPlan(today, tuple(changes), tuple(notices))


@dataclass(frozen=True)
class _TodaysChecks:
    """Today's checks by what the alerts need of them."""

    active: Mapping[str, tuple[SourceFreshness, Check]]  # due soon or breached, by breach id
    recovered: Mapping[str, Check]
    undecided: frozenset[tuple[str, str]]  # (source, rule)
    sources: Mapping[str, SourceFreshness]

    @classmethod
    def of(cls, sources: Sequence[SourceFreshness]) -> _TodaysChecks:
        active: dict[str, tuple[SourceFreshness, Check]] = {}
        recovered: dict[str, Check] = {}
        undecided: set[tuple[str, str]] = set()
        for freshness in sources:
            for check in freshness.checks:
                if check.state in (DUE_SOON, BREACHED) and check.breach_id:
                    active[check.breach_id] = (freshness, check)
                elif check.state == RECOVERED and check.breach_id:
                    recovered[check.breach_id] = check
                elif check.state == UNDECIDABLE:
                    undecided.add((freshness.source_id, check.rule))
        return cls(active, recovered, frozenset(undecided), {f.source_id: f for f in sources})

    def has_ended(self, row: AlertRow) -> bool:
        """Whether an open row's obligation is no longer due soon or breached, as far as is known."""
        if row.rule == CALENDAR_RULE or row.breach_id in self.active:
            return False
        return (row.source, row.rule) not in self.undecided  # an unknown calendar proves nothing


def _close(row: AlertRow, checks: _TodaysChecks, today: dt.date) -> tuple[AlertRow, Notice | None]:
    """The closed row, and a recovery notice when it had been breached."""
    check = checks.recovered.get(row.breach_id)
    closed_on = check.recovered_on if check is not None and check.recovered_on else today
    freshness = checks.sources.get(row.source)
    if row.state == BREACHED and freshness is not None:
        closed = dataclasses.replace(row, recovered_on=closed_on, last_notified=today)
        return closed, Notice(RECOVERY_NOTICE, closed, check, freshness)
    # Delivered in time, or a source the catalog no longer has: nothing to say.
    return dataclasses.replace(row, recovered_on=closed_on), None


def _decide(
    row: AlertRow | None,
    freshness: SourceFreshness,
    check: Check,
    today: dt.date,
    calendar: WorkCalendar,
    policy: AlertPolicy,
) -> tuple[str, AlertRow] | None:
    """The notice and the row for an obligation that is due soon or breached today, or None."""
    assert check.breach_id is not None and check.deadline is not None
    breached = check.state == BREACHED
    level = 1 if breached and (check.days_late or 0) >= policy.escalate_after_working_days else 0
    if row is None or not row.is_open:
        fresh = AlertRow(
            breach_id=check.breach_id, source=freshness.source_id, dataset=freshness.dataset,
            department=freshness.department, rule=check.rule, state=check.state, due_date=check.deadline,
            first_seen=today, last_notified=today, escalation_level=level,
        )  # fmt: skip
        kind = (ESCALATION_NOTICE if level else BREACH_NOTICE) if breached else DUE_SOON_NOTICE
        return kind, fresh
    if not breached:
        return None  # warned once already
    updated = dataclasses.replace(row, state=BREACHED, due_date=check.deadline, last_notified=today)
    if row.state != BREACHED:
        return (ESCALATION_NOTICE if level else BREACH_NOTICE), dataclasses.replace(
            updated, escalation_level=level
        )
    if level > row.escalation_level:
        return ESCALATION_NOTICE, dataclasses.replace(updated, escalation_level=level)
    if _reminder_due(row.last_notified, today, calendar, policy):
        return REMINDER_NOTICE, updated
    return None


def _reminder_due(last: dt.date | None, today: dt.date, calendar: WorkCalendar, policy: AlertPolicy) -> bool:
    if last is None:
        return True
    try:
        return calendar.working_days_between(last, today) >= policy.remind_every_working_days
    except CalendarError:
        return True  # at worst one reminder a day


def _calendar_alert(
    row: AlertRow | None, sources: Sequence[SourceFreshness], today: dt.date, coordinator: str
) -> tuple[AlertRow | None, Notice | None]:
    """The coordinator's daily notice while sources are undecidable, and its recovery."""
    undecided = tuple(f.source_id for f in sources if any(c.state == UNDECIDABLE for c in f.checks))
    if row is not None and row.last_notified == today:
        return None, None
    if undecided:
        reopened = row is None or not row.is_open
        new_row = AlertRow(
            breach_id=CALENDAR_BREACH_ID, source="*", dataset="*", department=coordinator,
            rule=CALENDAR_RULE, state=BREACHED, due_date=today,
            first_seen=today if reopened or row is None else row.first_seen, last_notified=today,
        )  # fmt: skip
        first = next(c for f in sources for c in f.checks if c.state == UNDECIDABLE)
        kind = BREACH_NOTICE if reopened else REMINDER_NOTICE
        return new_row, Notice(kind, new_row, first, None, undecided)
    if row is not None and row.is_open:
        closed = dataclasses.replace(row, recovered_on=today, last_notified=today)
        return closed, Notice(RECOVERY_NOTICE, closed, None, None)
    return None, None


def row_as_dict(row: AlertRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in AlertRow.__dataclass_fields__}


def row_from_mapping(values: Mapping[str, Any]) -> AlertRow:
    return AlertRow(**{name: values[name] for name in AlertRow.__dataclass_fields__})
