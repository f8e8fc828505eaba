"""Freshness SLAs (数据更新时效), evaluated from the ledger on the Chinese working-day calendar.

The city plan requires every department to update its data at least twice a month, or within N
working days of a change, and 双公示 records to be public within 7 working days of the decision.
This module is the pure evaluation: ledger rows (``Delivery``), the catalog's SLAs, the calendar and
the day to judge (``as_of``, Asia/Shanghai) in; a ``SourceFreshness`` per catalog source and a
``PublicationReport`` for 双公示 records out. Reading the warehouse is ``etl.freshness_queries``;
telling people is ``etl.alerts``.

What counts as a delivery: a ledger row ``loaded`` or ``loaded_with_rejections`` whose load finished
(``finished_at``, Shanghai date) on or before ``as_of``. ``rejected`` and ``failed`` rows are not
updates; neither is ``duplicate``: the same bytes again bring nothing new.

Rules (``etl.catalog.Sla``), each a ``Check`` on the source
------------------------------------------------------------

``twice_monthly``
    at least one delivery *received* in each half-month, 1st-15th and 16th-end of month. The
    deadline of a half is its **last calendar day**, not its last working day: a delivery counts on
    whatever day it arrives within the half (landing zones are polled on Saturdays, pulls run
    daily), so the half is missed only once it is over. Due-soon warnings count working days, so a
    half that ends in a holiday still warns on the last working days before it. A half with no
    delivery is breached from the day after its deadline; consecutive missed halves are one breach,
    named after the first (``<source>:twice_monthly:2026-10-H1``), until the next delivery.
    Obligations start with the first half-month starting on or after ``watch_from`` (default: the
    day of the earliest ledger row, when the platform started receiving), so a source that has
    never delivered is caught as soon as a whole half passes.

``within_working_days_of_change: N``
    a ledger row that declares a ``change_date`` C (database pulls: the Shanghai date of the newest
    watermark they carried; files: the date the department declares) obliges the source to have C
    loaded by ``add_working_days(C, N)``. C is loaded by the first delivery received no earlier
    than the row that declared it whose own change date is C or later, or which declares none (a
    full re-delivery). A row rejected or failed leaves its change pending; a later good delivery
    clears it. The oldest overdue change is the breach (``<source>:change:2026-09-30``).

States, per check and per source
--------------------------------

``ok``
    nothing due within the warning window.
``due_soon``
    not yet delivered and ``working_days_between(as_of, deadline) <= due_soon_working_days``
    (default 1: the last working day before the deadline, and the deadline day itself).
``breached``
    the deadline has passed (``as_of > deadline``) without the delivery; ``days_late`` counts the
    working days after the deadline up to ``as_of``.
``recovered``
    a breach was cleared by a delivery loaded on the previous working day or later, up to
    ``as_of``: the monitor runs on working days in the morning, so the first run after the fix
    (made after the previous morning's run, or over a weekend) shows it.
``undecidable``
    a date the working-day calendar does not know (``CalendarError``): the check carries the
    calendar's message instead of a guess.

A source takes the first of breached, undecidable, recovered, due_soon, ok found among its checks:
a certain breach is never hidden, and an unknown calendar never passes for ``ok``.

>>> import datetime as dt
>>> from etl.calendar import WorkCalendar
>>> cal = WorkCalendar()
>>> pull = Delivery("s", at(2026, 9, 30), "failed", change_date=dt.date(2026, 9, 30))
>>> check_change("s", [pull], dt.date(2026, 10, 9), cal, working_days=5).state
'ok'
>>> check_change("s", [pull], dt.date(2026, 10, 12), cal, working_days=5).state   # due 10-13
'due_soon'
>>> late = check_change("s", [pull], dt.date(2026, 10, 15), cal, working_days=5)
>>> late.state, late.deadline, late.days_late, late.breach_id
('breached', datetime.date(2026, 10, 13), 2, 's:change:2026-09-30')
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from etl.calendar import WorkCalendar
from etl.errors import CalendarError

if TYPE_CHECKING:
    from etl.catalog import Catalog, SourceRef
    from etl.warehouse.ledger import LedgerRow

SHANGHAI = ZoneInfo("Asia/Shanghai")

OK: Final = "ok"
DUE_SOON: Final = "due_soon"
BREACHED: Final = "breached"
RECOVERED: Final = "recovered"
UNDECIDABLE: Final = "undecidable"
# In the order a source shows them when its checks disagree.
STATES: Final = (BREACHED, UNDECIDABLE, RECOVERED, DUE_SOON, OK)

TWICE_MONTHLY: Final = "twice_monthly"
CHANGE: Final = "change"
RULES: Final = (TWICE_MONTHLY, CHANGE)

# A duplicate repeats data already loaded: it is not an update.
SUCCESSFUL_STATUSES: Final = ("loaded", "loaded_with_rejections")

_ONE_DAY = dt.timedelta(days=1)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A Shanghai timestamp, for examples and tests.

    >>> at(2026, 10, 8).isoformat()
    '2026-10-08T10:00:00+08:00'
    """
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def shanghai_date(moment: dt.datetime) -> dt.date:
    """The calendar day of ``moment`` in Asia/Shanghai; naive timestamps are refused."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment} carries no time zone")
    return moment.astimezone(SHANGHAI).date()


def chinese_date(day: dt.date) -> str:
    """``2026年10月13日``."""
    return f"{day.year}年{day.month}月{day.day}日"


# ---------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Delivery:
    """What freshness needs of one ledger row.

    ``loaded_at`` is when a successful load finished; ``error_message`` is the Chinese reason of a
    rejected or failed attempt (shown to the clerk in alerts).
    """

    source: str
    received_at: dt.datetime
    status: str
    loaded_at: dt.datetime | None = None
    change_date: dt.date | None = None
    error_message: str | None = None

    @classmethod
    def from_ledger(cls, row: LedgerRow) -> Delivery:
        return cls(
            source=row.source,
            received_at=row.received_at,
            status=row.status,
            loaded_at=row.finished_at,
            change_date=row.change_date,
            error_message=row.error_message,
        )

    @property
    def received_on(self) -> dt.date:
        return shanghai_date(self.received_at)

    @property
    def loaded_on(self) -> dt.date | None:
        """The Shanghai day the data was loaded; None unless the status is a successful one."""
        if self.status not in SUCCESSFUL_STATUSES:
            return None
        return shanghai_date(self.loaded_at or self.received_at)

    def loaded_by(self, day: dt.date) -> bool:
        """Successfully loaded on or before ``day``."""
        loaded = self.loaded_on
        return loaded is not None and loaded <= day


# ---------------------------------------------------------------------------------------------------
# Half-months


@dataclass(frozen=True, order=True)
class HalfMonth:
    """1st-15th (``half=1``) or 16th-end of month (``half=2``).

    >>> h = HalfMonth.of(dt.date(2026, 2, 20))
    >>> h.key, h.start, h.end, h.label
    ('2026-02-H2', datetime.date(2026, 2, 16), datetime.date(2026, 2, 28), '2026年2月下半月（2月16日至28日）')
    >>> h.next().key, HalfMonth.of(dt.date(2026, 12, 16)).next().key
    ('2026-03-H1', '2027-01-H1')
    >>> HalfMonth.starting_from(dt.date(2026, 10, 14)).key, HalfMonth.starting_from(dt.date(2026, 10, 16)).key
    ('2026-10-H2', '2026-10-H2')
    """

    year: int
    month: int
    half: int

    @classmethod
    def of(cls, day: dt.date) -> HalfMonth:
        return cls(day.year, day.month, 1 if day.day <= 15 else 2)

    @classmethod
    def starting_from(cls, day: dt.date) -> HalfMonth:
        """The first half-month that starts on or after ``day``."""
        half = cls.of(day)
        return half if half.start == day else half.next()

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1 if self.half == 1 else 16)

    @property
    def end(self) -> dt.date:
        if self.half == 1:
            return dt.date(self.year, self.month, 15)
        return self.next().start - _ONE_DAY

    def next(self) -> HalfMonth:
        if self.half == 1:
            return HalfMonth(self.year, self.month, 2)
        if self.month == 12:
            return HalfMonth(self.year + 1, 1, 1)
        return HalfMonth(self.year, self.month + 1, 1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}-H{self.half}"

    @property
    def label(self) -> str:
        name = "上半月" if self.half == 1 else "下半月"
        return f"{self.year}年{self.month}月{name}（{self.month}月{self.start.day}日至{self.end.day}日）"


# ---------------------------------------------------------------------------------------------------
# Checks


@dataclass(frozen=True)
class Check:
    """One rule on one source at ``as_of``.

    ``deadline`` is the one that matters now: the missed one when breached, the next one otherwise.
    ``breach_id`` names the obligation when it is due soon, breached or just recovered
    (``<source>:<rule>:<period>``): the same id from the first warning to the recovery, which is
    what alert de-duplication keys on. ``detail`` says it in Chinese for the clerk.
    """

    rule: str
    state: str
    detail: str
    deadline: dt.date | None = None
    breach_id: str | None = None
    late_since: dt.date | None = None
    days_late: int | None = None
    recovered_on: dt.date | None = None
    due_label: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: _jsonable(getattr(self, name)) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Check:
        dates = ("deadline", "late_since", "recovered_on")
        return cls(**{k: (_date(v) if k in dates else v) for k, v in values.items()})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _undecidable(rule: str, exc: CalendarError) -> Check:
    return Check(rule, UNDECIDABLE, str(exc))


def _in_recovery_window(day: dt.date, as_of: dt.date, calendar: WorkCalendar) -> bool:
    """Whether a recovery on ``day`` is news at ``as_of``: on the previous working day or later."""
    return calendar.previous_working_day(as_of) <= day <= as_of


def check_twice_monthly(
    source_id: str,
    deliveries: Iterable[Delivery],
    as_of: dt.date,
    calendar: WorkCalendar,
    *,
    watch_from: dt.date | None = None,
    due_soon_working_days: int = 1,
) -> Check:
    """At least one delivery in each half-month (see the module docstring for the rules).

    Across the 国庆 break: nothing since September; the half 10-01..10-15 ends on Thursday 10-15,
    so Wednesday 10-14 is due soon and Friday 10-16 is the first day of the breach.

    >>> cal = WorkCalendar()
    >>> sept = [Delivery("s", at(2026, 9, 20), "loaded")]
    >>> [check_twice_monthly("s", sept, dt.date(2026, 10, d), cal).state for d in (13, 14, 15, 16)]
    ['ok', 'due_soon', 'due_soon', 'breached']
    >>> late = check_twice_monthly("s", sept, dt.date(2026, 10, 19), cal)
    >>> late.breach_id, late.late_since, late.days_late
    ('s:twice_monthly:2026-10-H1', datetime.date(2026, 10, 16), 2)

    The delivery that ends it shows as recovered on the day of its load and the next working day,
    then the source is ok:

    >>> fixed = [*sept, Delivery("s", at(2026, 10, 20), "loaded")]
    >>> [check_twice_monthly("s", fixed, dt.date(2026, 10, d), cal).state for d in (20, 21, 22)]
    ['recovered', 'recovered', 'ok']
    """
    try:
        return _twice_monthly(source_id, list(deliveries), as_of, calendar, watch_from, due_soon_working_days)
    except CalendarError as exc:
        return _undecidable(TWICE_MONTHLY, exc)


@dataclass(frozen=True)
class _MissedRun:
    """Consecutive half-months without a delivery."""

    first: HalfMonth
    last: HalfMonth


def _missed_runs(first: HalfMonth, current: HalfMonth, delivered: set[HalfMonth]) -> list[_MissedRun]:
    """The runs of half-months without a delivery from ``first`` up to (not including) ``current``."""
    runs: list[_MissedRun] = []
    for half in _halves(first, current):
        if half in delivered:
            continue
        if runs and runs[-1].last.next() == half:
            runs[-1] = _MissedRun(runs[-1].first, half)
        else:
            runs.append(_MissedRun(half, half))
    return runs


def _twice_monthly(
    source_id: str,
    deliveries: list[Delivery],
    as_of: dt.date,
    calendar: WorkCalendar,
    watch_from: dt.date | None,
    due_soon: int,
) -> Check:
    loaded = sorted((d.received_on, d.loaded_on) for d in deliveries if d.loaded_by(as_of))
    current = HalfMonth.of(as_of)
    first = HalfMonth.starting_from(watch_from or default_watch_from(deliveries, as_of))
    delivered = {HalfMonth.of(received) for received, _ in loaded}
    runs = _missed_runs(first, current, delivered)

    def breach_id(half: HalfMonth) -> str:
        return f"{source_id}:{TWICE_MONTHLY}:{half.key}"

    def recovery(run: _MissedRun) -> dt.date | None:
        after = [day for received, day in loaded if received > run.last.end and day is not None]
        return min(after, default=None)

    if runs and runs[-1].last.next() == current and current not in delivered:
        run = runs[-1]
        halves = len(_halves(run.first, current))
        missed = run.first.label if halves == 1 else f"自{run.first.label}起连续{halves}个半月"
        days_late = calendar.working_days_between(run.first.end, as_of)
        return Check(
            TWICE_MONTHLY, BREACHED,
            f"{missed}无成功入库的报送（应于{chinese_date(run.first.end)}前报送），已超期{days_late}个工作日",
            deadline=run.first.end, breach_id=breach_id(run.first), late_since=run.first.end + _ONE_DAY,
            days_late=days_late, due_label=run.first.label,
        )  # fmt: skip
    if runs:
        run = runs[-1]
        recovered = recovery(run)
        if recovered is not None and _in_recovery_window(recovered, as_of, calendar):
            days_late = calendar.working_days_between(run.first.end, recovered)
            return Check(
                TWICE_MONTHLY, RECOVERED,
                f"{run.first.label}起的断报已于{chinese_date(recovered)}恢复（超期{days_late}个工作日）",
                deadline=run.first.end, breach_id=breach_id(run.first), late_since=run.first.end + _ONE_DAY,
                days_late=days_late, recovered_on=recovered, due_label=run.first.label,
            )  # fmt: skip
    pending = max(first, current if current not in delivered else current.next())
    left = calendar.working_days_between(as_of, pending.end)
    if pending == current and left <= due_soon:
        return Check(
            TWICE_MONTHLY, DUE_SOON,
            f"{pending.label}尚无成功入库的报送，{chinese_date(pending.end)}截止，还剩{left}个工作日",
            deadline=pending.end, breach_id=breach_id(pending), due_label=pending.label,
        )  # fmt: skip
    if current in delivered:
        last = max(received for received, _ in loaded)
        detail = f"本半月已报送（最近一次收到于{chinese_date(last)}），下一期{pending.label}"
    else:
        detail = f"{pending.label}待报送，{chinese_date(pending.end)}截止"
    return Check(TWICE_MONTHLY, OK, detail, deadline=pending.end, due_label=pending.label)


def _halves(first: HalfMonth, until: HalfMonth) -> list[HalfMonth]:
    """``first`` up to but not including ``until``."""
    halves, half = [], first
    while half < until:
        halves.append(half)
        half = half.next()
    return halves


@dataclass(frozen=True)
class _Change:
    changed_on: dt.date
    due: dt.date
    loaded_on: dt.date | None


def _changes(deliveries: list[Delivery], as_of: dt.date, calendar: WorkCalendar, n: int) -> list[_Change]:
    """Every declared change with its due date and the day it was loaded (None: not yet)."""
    declared: dict[dt.date, dt.datetime] = {}
    loaded_by_itself: dict[dt.date, dt.date] = {}
    for d in deliveries:
        if d.change_date is None or d.received_on > as_of:
            continue
        first = declared.get(d.change_date)
        declared[d.change_date] = d.received_at if first is None else min(first, d.received_at)
        if d.loaded_by(as_of):
            assert d.loaded_on is not None
            day = loaded_by_itself.get(d.change_date)
            loaded_by_itself[d.change_date] = d.loaded_on if day is None else min(day, d.loaded_on)
    successes = sorted((d for d in deliveries if d.loaded_by(as_of)), key=lambda d: d.received_at)
    received = [d.received_at for d in successes]
    changes = []
    for changed_on, declared_at in sorted(declared.items()):
        loaded = loaded_by_itself.get(changed_on)
        if loaded is None:
            # Usually the declaring row loads its own change; otherwise a later delivery must.
            later = successes[bisect.bisect_left(received, declared_at):]
            days = [
                d.loaded_on for d in later
                if d.loaded_on is not None and (d.change_date is None or d.change_date >= changed_on)
            ]  # fmt: skip
            loaded = min(days, default=None)
        changes.append(_Change(changed_on, calendar.add_working_days(changed_on, n), loaded))
    return changes


def check_change(
    source_id: str,
    deliveries: Iterable[Delivery],
    as_of: dt.date,
    calendar: WorkCalendar,
    *,
    working_days: int,
    watch_from: dt.date | None = None,
    due_soon_working_days: int = 1,
) -> Check:
    """Every declared change loaded within ``working_days`` working days of its date.

    A pull on 2026-09-30 that failed leaves its change pending until a later pull loads it:

    >>> cal = WorkCalendar()
    >>> failed = Delivery("s", at(2026, 9, 30), "failed", change_date=dt.date(2026, 9, 30))
    >>> redo = Delivery("s", at(2026, 10, 14), "loaded", change_date=dt.date(2026, 10, 13))
    >>> check_change("s", [failed, redo], dt.date(2026, 10, 14), cal, working_days=5).state
    'recovered'
    >>> check_change("s", [failed, redo], dt.date(2026, 10, 16), cal, working_days=5).detail
    '无待入库的数据变更'
    """
    try:
        return _change(source_id, list(deliveries), as_of, calendar, working_days, watch_from,
                       due_soon_working_days)  # fmt: skip
    except CalendarError as exc:
        return _undecidable(CHANGE, exc)


def _change(
    source_id: str,
    deliveries: list[Delivery],
    as_of: dt.date,
    calendar: WorkCalendar,
    n: int,
    watch_from: dt.date | None,
    due_soon: int,
) -> Check:
    changes = [
        c for c in _changes(deliveries, as_of, calendar, n) if watch_from is None or c.due >= watch_from
    ]

    def breach_id(change: _Change) -> str:
        return f"{source_id}:{CHANGE}:{change.changed_on.isoformat()}"

    def due_label(change: _Change) -> str:
        return f"{chinese_date(change.changed_on)}的数据变更（{n}个工作日内入库）"

    overdue = [c for c in changes if c.loaded_on is None and c.due < as_of]
    if overdue:
        change = overdue[0]
        days_late = calendar.working_days_between(change.due, as_of)
        more = f"（另有{len(overdue) - 1}次变更也已超期）" if len(overdue) > 1 else ""
        return Check(
            CHANGE, BREACHED,
            f"{chinese_date(change.changed_on)}的数据变更应在{n}个工作日内（{chinese_date(change.due)}前）"
            f"入库，至今未入库，已超期{days_late}个工作日{more}",
            deadline=change.due, breach_id=breach_id(change), late_since=change.due + _ONE_DAY,
            days_late=days_late, due_label=due_label(change),
        )  # fmt: skip
    recovered = [
        c for c in changes
        if c.loaded_on is not None and c.loaded_on > c.due
        and _in_recovery_window(c.loaded_on, as_of, calendar)
    ]  # fmt: skip
    if recovered:
        change = recovered[0]
        assert change.loaded_on is not None
        days_late = calendar.working_days_between(change.due, change.loaded_on)
        return Check(
            CHANGE, RECOVERED,
            f"{chinese_date(change.changed_on)}的数据变更已于{chinese_date(change.loaded_on)}入库"
            f"（超期{days_late}个工作日）",
            deadline=change.due, breach_id=breach_id(change), late_since=change.due + _ONE_DAY,
            days_late=days_late, recovered_on=change.loaded_on, due_label=due_label(change),
        )  # fmt: skip
    pending = [c for c in changes if c.loaded_on is None]
    if not pending:
        return Check(CHANGE, OK, "无待入库的数据变更")
    change = min(pending, key=lambda c: c.due)
    left = calendar.working_days_between(as_of, change.due)
    text = (
        f"{chinese_date(change.changed_on)}的数据变更应于{chinese_date(change.due)}前入库，还剩{left}个工作日"
    )
    if left <= due_soon:
        return Check(CHANGE, DUE_SOON, text, deadline=change.due, breach_id=breach_id(change),
                     due_label=due_label(change))  # fmt: skip
    return Check(CHANGE, OK, text, deadline=change.due, due_label=due_label(change))


# ---------------------------------------------------------------------------------------------------
# Sources


@dataclass(frozen=True)
class SourceFreshness:
    """One catalog source at ``as_of``: its checks and the state they add up to.

    ``next_deadline`` is the earliest deadline among the checks (for a breach, the one missed);
    ``reason`` is the detail of the check that decided ``state``; ``days_late`` the most working
    days any breached check is late. ``last_delivery`` is the receipt time of the latest successful
    delivery; ``last_attempt`` the latest ledger row of any status, with its status and (for a
    rejected or failed one) the Chinese reason.
    """

    source_id: str
    dataset: str
    department: str
    method: str
    as_of: dt.date
    state: str
    reason: str
    next_deadline: dt.date | None
    days_late: int | None
    checks: tuple[Check, ...]
    last_delivery: dt.datetime | None = None
    last_attempt: dt.datetime | None = None
    last_attempt_status: str | None = None
    last_attempt_error: str | None = None

    @classmethod
    def from_checks(
        cls, ref: SourceRef, as_of: dt.date, checks: Sequence[Check], deliveries: Sequence[Delivery]
    ) -> SourceFreshness:
        deciding = min(checks, key=lambda c: STATES.index(c.state))
        deadlines = [c.deadline for c in checks if c.deadline is not None]
        late = [c.days_late for c in checks if c.state == BREACHED and c.days_late is not None]
        successful = [d for d in deliveries if d.loaded_by(as_of)]
        attempts = [d for d in deliveries if d.received_on <= as_of]
        last_attempt = max(attempts, key=lambda d: d.received_at, default=None)
        return cls(
            source_id=ref.id, dataset=ref.dataset.id, department=ref.source.department,
            method=ref.source.method, as_of=as_of, state=deciding.state, reason=deciding.detail,
            next_deadline=min(deadlines, default=None), days_late=max(late, default=None),
            checks=tuple(checks),
            last_delivery=max((d.received_at for d in successful), default=None),
            last_attempt=last_attempt.received_at if last_attempt else None,
            last_attempt_status=last_attempt.status if last_attempt else None,
            last_attempt_error=last_attempt.error_message if last_attempt else None,
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        values = {name: _jsonable(getattr(self, name)) for name in self.__dataclass_fields__}
        values["checks"] = [c.as_dict() for c in self.checks]
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SourceFreshness:
        """The inverse of ``as_dict`` (what crosses an Airflow XCom)."""
        converted: dict[str, Any] = dict(values)
        converted["as_of"] = dt.date.fromisoformat(values["as_of"])
        converted["next_deadline"] = _date(values["next_deadline"])
        for name in ("last_delivery", "last_attempt"):
            converted[name] = dt.datetime.fromisoformat(values[name]) if values[name] else None
        converted["checks"] = tuple(Check.from_dict(c) for c in values["checks"])
        return cls(**converted)


def default_watch_from(deliveries: Iterable[Delivery], as_of: dt.date) -> dt.date:
    """The day of the earliest ledger row: obligations start when the platform started receiving."""
    return min((d.received_on for d in deliveries), default=as_of)


def evaluate_source(
    ref: SourceRef,
    deliveries: Sequence[Delivery],
    as_of: dt.date,
    calendar: WorkCalendar,
    *,
    watch_from: dt.date | None = None,
) -> SourceFreshness:
    """The freshness of one source from its own ledger rows."""
    sla = ref.dataset.sla
    checks = []
    if sla.twice_monthly:
        checks.append(
            check_twice_monthly(ref.id, deliveries, as_of, calendar, watch_from=watch_from,
                                due_soon_working_days=sla.due_soon_working_days)
        )  # fmt: skip
    if sla.within_working_days_of_change is not None:
        checks.append(
            check_change(ref.id, deliveries, as_of, calendar, working_days=sla.within_working_days_of_change,
                         watch_from=watch_from, due_soon_working_days=sla.due_soon_working_days)
        )  # fmt: skip
    return SourceFreshness.from_checks(ref, as_of, checks, deliveries)


def evaluate(
    catalog: Catalog,
    deliveries: Iterable[Delivery],
    as_of: dt.date,
    calendar: WorkCalendar,
    *,
    watch_from: dt.date | None = None,
) -> list[SourceFreshness]:
    """Every catalog source, in catalog order. Rows received after ``as_of`` are not looked at;
    rows of sources no longer in the catalog are ignored."""
    by_source: dict[str, list[Delivery]] = defaultdict(list)
    seen = []
    for delivery in deliveries:
        if delivery.received_on <= as_of:
            by_source[delivery.source].append(delivery)
            seen.append(delivery)
    start = watch_from or default_watch_from(seen, as_of)
    return [
        evaluate_source(ref, by_source.get(ref.id, []), as_of, calendar, watch_from=start)
        for ref in catalog.sources()
    ]


# ---------------------------------------------------------------------------------------------------
# 双公示: per-record publication


@dataclass(frozen=True)
class PublicationRecord:
    """One current 双公示 record: its decision date and the day it was first loaded (published).

    ``key`` holds the dataset's dedup-key values (identity numbers already masked) so a clerk can
    find the record; ``delivery_id`` and ``source_row`` say which file and row it came from.
    """

    dataset: str
    department: str
    source: str
    decision_date: dt.date | None
    first_loaded_on: dt.date
    delivery_id: str
    source_row: int
    key: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PublicationLate:
    """A record published after its deadline, by ``working_days_late`` working days."""

    record: PublicationRecord
    deadline: dt.date
    working_days_late: int

    def as_dict(self) -> dict[str, Any]:
        record = {name: _jsonable(getattr(self.record, name)) for name in self.record.__dataclass_fields__}
        record["key"] = dict(self.record.key)
        return {**record, "deadline": self.deadline.isoformat(), "working_days_late": self.working_days_late}


@dataclass(frozen=True)
class PublicationRate:
    """On-time publication of one department (for one dataset, or ``dataset=None``: all 双公示).

    ``undecided`` records have no decision date or one the calendar does not know; they are left
    out of the rate.
    """

    department: str
    dataset: str | None
    on_time: int = 0
    late: int = 0
    undecided: int = 0

    @property
    def records(self) -> int:
        return self.on_time + self.late + self.undecided

    @property
    def rate(self) -> float | None:
        """On-time share of the records that could be judged; None when there are none."""
        judged = self.on_time + self.late
        return self.on_time / judged if judged else None

    def as_dict(self) -> dict[str, Any]:
        names = ("department", "dataset", "records", "on_time", "late", "undecided", "rate")
        return {name: getattr(self, name) for name in names}


@dataclass(frozen=True)
class PublicationReport:
    """Late records (most late first), rates per department and dataset, rates per department,
    and the reasons records could not be judged (reason -> count)."""

    late: tuple[PublicationLate, ...]
    rates: tuple[PublicationRate, ...]
    department_rates: tuple[PublicationRate, ...]
    undecided: Mapping[str, int] = field(default_factory=dict)


def assess_publication(
    records: Iterable[PublicationRecord], working_days: Mapping[str, int], calendar: WorkCalendar
) -> PublicationReport:
    """Judges each record: published on time when ``first_loaded_on <= add_working_days(decision
    date, N)`` with N the dataset's ``sla.publication.working_days``.

    >>> cal = WorkCalendar()
    >>> def record(decided, loaded, row):
    ...     return PublicationRecord("admin_penalty", "scjg", "admin_penalty__scjg__landing",
    ...                              decided, loaded, "d1", row)
    >>> report = assess_publication(
    ...     [record(dt.date(2026, 9, 28), dt.date(2026, 10, 13), 1),    # due 10-13: on time
    ...      record(dt.date(2026, 9, 28), dt.date(2026, 10, 15), 2),    # 2 working days late
    ...      record(None, dt.date(2026, 10, 14), 3)],
    ...     {"admin_penalty": 7}, cal)
    >>> [(x.record.source_row, x.deadline, x.working_days_late) for x in report.late]
    [(2, datetime.date(2026, 10, 13), 2)]
    >>> rate = report.department_rates[0]
    >>> rate.on_time, rate.late, rate.undecided, rate.rate
    (1, 1, 1, 0.5)
    """
    deadline_of = _cached(lambda day_n: calendar.add_working_days(*day_n))
    late_by = _cached(lambda pair: calendar.working_days_between(*pair))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    late: list[PublicationLate] = []
    undecided: dict[str, int] = defaultdict(int)
    for record in records:
        tally = counts[(record.department, record.dataset)]
        if record.decision_date is None:
            tally[2] += 1
            undecided["无决定日期"] += 1
            continue
        try:
            deadline = deadline_of((record.decision_date, working_days[record.dataset]))
            if record.first_loaded_on <= deadline:
                tally[0] += 1
                continue
            days = late_by((deadline, record.first_loaded_on))
        except CalendarError as exc:
            tally[2] += 1
            undecided[str(exc)] += 1
            continue
        tally[1] += 1
        late.append(PublicationLate(record, deadline, days))
    late.sort(key=_most_late_first)
    rates = tuple(PublicationRate(dep, ds, *tally) for (dep, ds), tally in sorted(counts.items()))
    by_department: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for rate in rates:
        total = by_department[rate.department]
        for i, count in enumerate((rate.on_time, rate.late, rate.undecided)):
            total[i] += count
    department_rates = tuple(PublicationRate(d, None, *tally) for d, tally in sorted(by_department.items()))
    return PublicationReport(tuple(late), rates, department_rates, dict(undecided))


def _most_late_first(late: PublicationLate) -> tuple[int, str, str, int]:
    record = late.record
    return (-late.working_days_late, record.dataset, record.delivery_id, record.source_row)


def _cached(compute: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Memoises ``compute`` on its argument, errors included (records share few distinct dates)."""
    results: dict[Any, Any] = {}

    def lookup(argument: Any) -> Any:
        if argument not in results:
            try:
                results[argument] = compute(argument)
            except CalendarError as exc:
                results[argument] = exc
        result = results[argument]
        if isinstance(result, CalendarError):
            raise result
        return result

    return lookup
