"""Chinese working days (工作日): statutory holidays, make-up working days (调休) and operator overrides.

Chinese working days are not Monday to Friday: each year the State Council General Office publishes
the year's arrangement (国务院办公厅关于某年部分节假日安排的通知), which moves holidays next to
weekends and turns some Saturdays and Sundays into make-up working days (调休上班). Publication and
freshness deadlines (e.g. 双公示: seven working days) are counted on this calendar.

Where the arrangement of a year comes from, first match wins:

1. the operator's overrides (``catalog_yaml/calendar.yaml``, ``Catalog.calendar``): a year listed
   there is complete: a day is a working day iff it is Monday-Friday and not among the year's
   ``holidays``, or it is among the year's ``workdays``;
2. the ``chinesecalendar`` package (import ``chinese_calendar``), which carries 2004 up to the last
   notice it was released with;
3. otherwise ``CalendarError``: a year without an official arrangement is never guessed.

>>> cal = WorkCalendar()
>>> cal.is_working_day(dt.date(2026, 10, 1))      # 国庆节
False
>>> cal.is_working_day(dt.date(2026, 10, 10))     # a Saturday, 调休上班 for 国庆节
True

Due dates count whole working days after a date: the date itself is day 0, whatever it is, and the
N-th working day after it is the due date. The seven-day 国庆 break sits between 2026-09-30 and its
fifth working day:

>>> cal.add_working_days(dt.date(2026, 9, 30), 5)
datetime.date(2026, 10, 13)
>>> cal.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 13))
5

A year nobody knows raises instead of approximating:

>>> cal.add_working_days(dt.date(2026, 12, 28), 5)
Traceback (most recent call last):
    ...
etl.errors.CalendarError: no working-day calendar for 2027: ...

Dates are calendar days in Asia/Shanghai; pass ``datetime.date``, not ``datetime.datetime`` (convert
a timestamp to Shanghai time and take its date first).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etl.errors import CalendarError

if TYPE_CHECKING:
    from etl.catalog import CalendarOverrides, Catalog, YearOverride

DEFAULT_OVERRIDES_FILE = "catalog_yaml/calendar.yaml"

WORKING_DAY = "工作日"
WEEKEND = "周末"
PUBLIC_HOLIDAY = "法定节假日"
MAKE_UP_WORKING_DAY = "调休上班"

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class DayInfo:
    """Why a day is or is not a working day.

    ``kind`` is one of 工作日, 周末, 法定节假日, 调休上班; ``holiday`` names the festival a holiday or a
    make-up day belongs to when the source says so (the package does, overrides do not); ``source``
    says where the arrangement came from.
    """

    day: dt.date
    is_working_day: bool
    kind: str
    holiday: str | None
    source: str

    @property
    def reason(self) -> str:
        """The kind with its festival, e.g. ``调休上班（国庆节）``."""
        return f"{self.kind}（{self.holiday}）" if self.holiday else self.kind


def _check_date(day: dt.date) -> dt.date:
    # A datetime is a date subclass; taking its date silently would use whatever zone it carries.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"expected a datetime.date (a day in Asia/Shanghai), got {type(day).__name__}")
    return day


def _days_of_year(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    return [first + dt.timedelta(days=i) for i in range((dt.date(year, 12, 31) - first).days + 1)]


def _weekday_working_days(year: int) -> tuple[dt.date, ...]:
    return tuple(day for day in _days_of_year(year) if day.weekday() < 5)


def _with_explicit_days(
    base: tuple[dt.date, ...], year: int, explicit: dict[dt.date, tuple[bool, int]]
) -> tuple[dt.date, ...]:
    """``base`` with the operator's listed days of ``year`` (from any year's entry) applied on top."""
    listed = {day: working for day, (working, _) in explicit.items() if day.year == year}
    if not listed:
        return base
    working = (set(base) - {d for d, w in listed.items() if not w}) | {d for d, w in listed.items() if w}
    return tuple(sorted(working))


class _Package:
    """The slice of ``chinese_calendar`` the calendar uses, imported once on first need."""

    def __init__(self) -> None:
        import chinese_calendar

        self.module = chinese_calendar
        years = [day.year for day in chinese_calendar.holidays]
        self.first_year, self.last_year = min(years), max(years)
        self.version = getattr(chinese_calendar, "__version__", "?")

    def knows(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def working_days(self, year: int) -> tuple[dt.date, ...]:
        return tuple(day for day in _days_of_year(year) if self.module.is_workday(day))

    def holiday_name(self, day: dt.date) -> str | None:
        """The Chinese name of the festival a day off or a make-up day belongs to, if any."""
        _, name = self.module.get_holiday_detail(day)
        if name is None:
            return None
        try:
            return str(self.module.Holiday(name).chinese)
        except ValueError:
            return str(name)


_package: _Package | None = None


def _get_package() -> _Package:
    global _package
    if _package is None:
        _package = _Package()
    return _package


class WorkCalendar:
    """Chinese working days from operator overrides, then ``chinesecalendar``; unknown years raise.

    ``WorkCalendar()`` uses the package only; ``WorkCalendar(overrides)`` or
    ``WorkCalendar.from_catalog(catalog)`` puts the operator's years first. The calendar does no I/O;
    each year's working days are computed once, on first use, and kept sorted so that counting and
    stepping over long spans is a binary search per year.

    >>> from etl.catalog import CalendarOverrides
    >>> overrides = CalendarOverrides(years={2027: {"holidays": [dt.date(2027, 1, 1)]}})
    >>> cal = WorkCalendar(overrides)
    >>> cal.is_working_day(dt.date(2027, 1, 1)), cal.is_working_day(dt.date(2027, 1, 4))
    (False, True)
    """

    def __init__(
        self, overrides: CalendarOverrides | None = None, *, overrides_file: str = DEFAULT_OVERRIDES_FILE
    ) -> None:
        self._overrides: dict[int, YearOverride] = dict(overrides.years) if overrides else {}
        # Listed days may belong to a neighbouring year's notice (a make-up day in late December).
        self._explicit = overrides.explicit_days() if overrides else {}
        # Only a label for error messages: where an operator adds a missing year.
        self._overrides_file = overrides_file
        self._sorted: dict[int, tuple[dt.date, ...]] = {}
        self._sets: dict[int, frozenset[dt.date]] = {}

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> WorkCalendar:
        """The calendar with the catalog's ``calendar.yaml`` overrides first."""
        return cls(catalog.calendar, overrides_file=str(catalog.root / "calendar.yaml"))

    def knows(self, year: int) -> bool:
        """Whether the overrides or the package carry the year's official arrangement."""
        return year in self._overrides or _get_package().knows(year)

    def is_working_day(self, day: dt.date) -> bool:
        """Whether people go to work that day.

        >>> WorkCalendar().is_working_day(dt.date(2026, 2, 16))   # 春节
        False
        """
        day = _check_date(day)
        return day in self._working_set(day.year)

    def describe(self, day: dt.date) -> DayInfo:
        """Whether a day is a working day, and why.

        >>> WorkCalendar().describe(dt.date(2026, 10, 10)).reason
        '调休上班（国庆节）'
        >>> WorkCalendar().describe(dt.date(2026, 10, 1)).reason
        '法定节假日（国庆节）'
        """
        working = self.is_working_day(day)
        weekend = day.weekday() >= 5
        entry = self._explicit[day][1] if day in self._explicit else day.year
        if entry in self._overrides:
            holiday = None
            note = self._overrides[entry].note
            source = self._overrides_file + (f" ({note})" if note else "")
        else:
            package = _get_package()
            holiday = package.holiday_name(day)
            source = f"chinesecalendar {package.version}"
        if working:
            kind = MAKE_UP_WORKING_DAY if weekend else WORKING_DAY
        elif weekend and holiday is None:
            kind = WEEKEND
        else:
            kind = PUBLIC_HOLIDAY
        # The package names the festival of a make-up day too; a plain weekday needs no name.
        named = holiday if kind != WORKING_DAY else None
        return DayInfo(day, working, kind, named, source)

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The due date ``n`` working days after ``day``.

        Day 0 is ``day`` itself and counting starts the day after: the result is the ``n``-th working
        day strictly after ``day``. ``day`` need not be a working day; for ``n >= 1`` the result always
        is one, and ``working_days_between(day, result) == n``.

        >>> cal = WorkCalendar()
        >>> cal.add_working_days(dt.date(2026, 9, 30), 0)
        datetime.date(2026, 9, 30)
        >>> cal.add_working_days(dt.date(2026, 9, 30), 1)     # 10-01..10-07 are 国庆节
        datetime.date(2026, 10, 8)
        >>> cal.add_working_days(dt.date(2026, 10, 3), 1)     # from inside the break
        datetime.date(2026, 10, 8)
        >>> cal.add_working_days(dt.date(2026, 10, 9), 1)     # Friday -> Saturday 调休上班
        datetime.date(2026, 10, 10)
        """
        day = _check_date(day)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return day
        year = day.year
        days = self._working_days(year)
        index = bisect.bisect_right(days, day)
        while index + n > len(days):
            n -= len(days) - index
            year += 1
            days, index = self._working_days(year), 0
        return days[index + n - 1]

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """The number of working days in ``(start, end]``: after ``start``, up to and including ``end``.

        It is the ``n`` for which ``add_working_days(start, n) == end`` when ``end`` is a working day.
        Equal dates give 0; an ``end`` before ``start`` gives the negative of the reversed count, so
        ``working_days_between(a, b) == -working_days_between(b, a)`` (a deadline already passed by
        that many working days).

        >>> cal = WorkCalendar()
        >>> cal.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 7))   # all 国庆节
        0
        >>> cal.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 8))
        1
        >>> cal.working_days_between(dt.date(2026, 10, 13), dt.date(2026, 9, 30))
        -5
        """
        start, end = _check_date(start), _check_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        if end == start:
            return 0
        count = 0
        for year in range((start + _ONE_DAY).year, end.year + 1):
            days = self._working_days(year)
            count += bisect.bisect_right(days, end) - bisect.bisect_right(days, start)
        return count

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``.

        >>> WorkCalendar().next_working_day(dt.date(2026, 2, 14))   # 调休上班 Saturday -> 春节
        datetime.date(2026, 2, 24)
        """
        return self.add_working_days(day, 1)

    def previous_working_day(self, day: dt.date) -> dt.date:
        """The last working day strictly before ``day``.

        >>> WorkCalendar().previous_working_day(dt.date(2026, 10, 8))
        datetime.date(2026, 9, 30)
        """
        day = _check_date(day)
        year = day.year
        days = self._working_days(year)
        index = bisect.bisect_left(days, day)
        while index == 0:
            year -= 1
            days = self._working_days(year)
            index = len(days)
        return days[index - 1]

    def _working_days(self, year: int) -> tuple[dt.date, ...]:
        """The year's working days in order, computed once."""
        days = self._sorted.get(year)
        if days is None:
            days = self._compute(year)
            self._sorted[year] = days
        return days

    def _working_set(self, year: int) -> frozenset[dt.date]:
        days = self._sets.get(year)
        if days is None:
            days = frozenset(self._working_days(year))
            self._sets[year] = days
        return days

    def _compute(self, year: int) -> tuple[dt.date, ...]:
        if year in self._overrides:
            return _with_explicit_days(_weekday_working_days(year), year, self._explicit)
        package = _get_package()
        if package.knows(year):
            return _with_explicit_days(package.working_days(year), year, self._explicit)
        raise CalendarError(self._unknown_year_message(year, package))

    def _unknown_year_message(self, year: int, package: _Package) -> str:
        return (
            f"no working-day calendar for {year}: chinesecalendar {package.version} knows "
            f"{package.first_year}-{package.last_year} and {self._overrides_file} has no entry for {year}. "
            f"Copy the year's arrangement from the State Council General Office notice "
            f"(国务院办公厅关于{year}年部分节假日安排的通知) into {self._overrides_file} under "
            f"'years: {year}:' (holidays: the Monday-Friday days off; workdays: the weekend make-up "
            f"working days), or upgrade chinesecalendar to a release that carries {year}."
        )
