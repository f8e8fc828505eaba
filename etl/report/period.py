"""The period an NDRC report covers: a calendar month, or one half of it (1st-15th, 16th-end).

Days are Asia/Shanghai calendar days; a delivery belongs to the period its ``received_at`` falls in.
The trend shows the period and the five before it, of the same kind.

>>> p = ReportPeriod.parse("2026-10", half=1)
>>> p.key, p.start, p.end, p.label, p.halves
('2026-10-H1', datetime.date(2026, 10, 1), datetime.date(2026, 10, 15), '2026年10月上半月', 1)
>>> [q.key for q in ReportPeriod.parse("2026-02").trend()]
['2025-09', '2025-10', '2025-11', '2025-12', '2026-01', '2026-02']
>>> [q.key for q in p.trend()][:2]
['2026-07-H2', '2026-08-H1']
>>> ReportPeriod.previous_for(dt.date(2026, 11, 1)).key, ReportPeriod.previous_for(dt.date(2026, 11, 16)).key
('2026-10', '2026-11-H1')
>>> ReportPeriod.parse("2026-13")
Traceback (most recent call last):
    ...
etl.errors.UsageError: --period '2026-13' is not a month: write it as YYYY-MM, e.g. 2026-10
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from etl.errors import UsageError
from etl.freshness import SHANGHAI, HalfMonth

TREND_PERIODS = 6
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class ReportPeriod:
    """A month (``half=None``) or a half-month (``half`` 1 or 2)."""

    year: int
    month: int
    half: int | None = None

    @classmethod
    def parse(cls, text: str, half: int | None = None) -> ReportPeriod:
        """``YYYY-MM`` and an optional half; anything else is a ``UsageError``."""
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise UsageError(f"--period {text!r} is not a month: write it as YYYY-MM, e.g. 2026-10")
        if half not in (None, 1, 2):
            raise UsageError(f"--half must be 1 (1st-15th) or 2 (16th-end of month), not {half!r}")
        return cls(int(match.group(1)), int(match.group(2)), half)

    @classmethod
    def previous_for(cls, run_day: dt.date) -> ReportPeriod:
        """What a run on ``run_day`` reports: on the 16th-end the first half of the month, on the
        1st-15th the whole previous month."""
        if run_day.day >= 16:
            return cls(run_day.year, run_day.month, 1)
        last = run_day.replace(day=1) - dt.timedelta(days=1)
        return cls(last.year, last.month)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 16 if self.half == 2 else 1)

    @property
    def end(self) -> dt.date:
        if self.half == 1:
            return dt.date(self.year, self.month, 15)
        return HalfMonth(self.year, self.month, 2).end

    @property
    def halves(self) -> int:
        """Half-months in the period: what a twice-monthly delivery obligation counts in."""
        return 2 if self.half is None else 1

    def half_months(self) -> list[HalfMonth]:
        if self.half is not None:
            return [HalfMonth(self.year, self.month, self.half)]
        return [HalfMonth(self.year, self.month, 1), HalfMonth(self.year, self.month, 2)]

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}" + (f"-H{self.half}" if self.half else "")

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月" + {None: "", 1: "上半月", 2: "下半月"}[self.half]

    @property
    def starts_at(self) -> dt.datetime:
        """The first moment of the period in Shanghai."""
        return dt.datetime.combine(self.start, dt.time(), tzinfo=SHANGHAI)

    @property
    def ends_before(self) -> dt.datetime:
        """The first moment after the period in Shanghai."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> ReportPeriod:
        if self.half == 2:
            return ReportPeriod(self.year, self.month, 1)
        last = self.start - dt.timedelta(days=1)
        return ReportPeriod(last.year, last.month, None if self.half is None else 2)

    def trend(self, count: int = TREND_PERIODS) -> list[ReportPeriod]:
        """The ``count`` periods ending with this one, oldest first."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]
