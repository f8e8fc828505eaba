"""The Chinese working-day calendar (etl/calendar.py) and ``credit-etl calendar``."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import chinese_calendar
import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.calendar import WorkCalendar
from etl.catalog import DEFAULT_CATALOG_DIR, CalendarOverrides, load_catalog
from etl.cli import main
from etl.errors import CalendarError

D = dt.date
CAL = WorkCalendar()

# The weekend make-up working days (调休上班) of the State Council notices for 2024, 2025 and 2026.
MAKE_UP_DAYS = {
    2024: {D(2024, 2, 4), D(2024, 2, 18), D(2024, 4, 7), D(2024, 4, 28), D(2024, 5, 11),
           D(2024, 9, 14), D(2024, 9, 29), D(2024, 10, 12)},
    2025: {D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)},
    2026: {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20),
           D(2026, 10, 10)},
}  # fmt: skip


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def naive_add(cal: WorkCalendar, day: dt.date, n: int) -> dt.date:
    """Steps one day at a time: the obviously correct reference for the bisect implementation."""
    while n > 0:
        day += dt.timedelta(days=1)
        n -= cal.is_working_day(day)
    return day


def naive_between(cal: WorkCalendar, start: dt.date, end: dt.date) -> int:
    if end < start:
        return -naive_between(cal, end, start)
    return sum(cal.is_working_day(d) for d in days_between(start + dt.timedelta(days=1), end))


# --- agreement with an independent source -------------------------------------------------------


def test_every_day_of_2024_to_2026_agrees_with_the_holidays_package() -> None:
    """Cross-checks each day of 2024-2026 against ``holidays.China``, make-up days included.

    ``holidays`` exposes make-up working days as ``weekend_workdays`` (filled from the State Council
    substitutions) and ``is_working_day`` consults them, so its verdict is a full, independent
    working-day answer: a weekday that is not a holiday, or a listed weekend workday.
    """
    reference = holidays.China(years=range(2024, 2027))
    days = days_between(D(2024, 1, 1), D(2026, 12, 31))

    disagreements = [d for d in days if CAL.is_working_day(d) != reference.is_working_day(d)]

    assert disagreements == []
    # The comparison exercised the hard days, not only ordinary weeks.
    weekend_working = {d for d in days if d.weekday() >= 5 and CAL.is_working_day(d)}
    assert weekend_working == {d for d in reference.weekend_workdays if 2024 <= d.year <= 2026}
    assert weekend_working == set().union(*MAKE_UP_DAYS.values())
    # Every statutory day off (11 a year in 2024, 13 since the 2024 revision) is taken on a weekday,
    # plus one weekday swapped for each make-up day.
    weekday_days_off = [d for d in days if d.weekday() < 5 and not CAL.is_working_day(d)]
    assert len(weekday_days_off) == 11 + 13 + 13 + len(weekend_working)


@pytest.mark.parametrize("year", sorted(MAKE_UP_DAYS))
def test_make_up_days_are_working_days_named_after_their_festival(year: int) -> None:
    for day in MAKE_UP_DAYS[year]:
        info = CAL.describe(day)
        assert day.weekday() >= 5
        assert info.is_working_day
        assert info.kind == "调休上班"
        assert info.holiday in {"元旦", "春节", "清明", "劳动节", "端午", "中秋", "国庆节"}


# --- due dates across long holidays -----------------------------------------------------------


def test_national_day_2026_due_date() -> None:
    # 10-01..10-07 off; 10-10 (Saturday) is worked: 10-08, 10-09, 10-10, 10-12, 10-13.
    assert chinese_calendar.is_workday(D(2026, 10, 10))
    assert D(2026, 10, 10).weekday() == 5
    assert CAL.is_working_day(D(2026, 10, 10))
    assert CAL.describe(D(2026, 10, 10)).reason == "调休上班（国庆节）"
    assert [CAL.add_working_days(D(2026, 9, 30), n) for n in range(6)] == [
        D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 12), D(2026, 10, 13),
    ]  # fmt: skip
    assert CAL.working_days_between(D(2026, 9, 30), D(2026, 10, 13)) == 5
    assert CAL.working_days_between(D(2026, 9, 30), D(2026, 10, 7)) == 0
    assert CAL.next_working_day(D(2026, 9, 30)) == D(2026, 10, 8)
    assert CAL.previous_working_day(D(2026, 10, 8)) == D(2026, 9, 30)


def test_spring_festival_2026_due_date() -> None:
    # 02-15..02-23 off; Saturdays 02-14 and 02-28 are worked.
    assert CAL.add_working_days(D(2026, 2, 12), 5) == D(2026, 2, 26)  # 13, 14 (Sat), 24, 25, 26
    assert CAL.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert CAL.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert CAL.add_working_days(D(2026, 2, 18), 0) == D(2026, 2, 18)  # day 0 is the date, even a holiday
    assert CAL.add_working_days(D(2026, 2, 27), 1) == D(2026, 2, 28)
    assert CAL.describe(D(2026, 2, 17)).reason == "法定节假日（春节）"
    assert CAL.working_days_between(D(2026, 2, 14), D(2026, 2, 23)) == 0
    assert CAL.working_days_between(D(2026, 2, 26), D(2026, 2, 12)) == -5


def test_describe_tells_ordinary_days_apart() -> None:
    assert CAL.describe(D(2026, 10, 16)).reason == "工作日"  # Friday
    assert CAL.describe(D(2026, 10, 17)).reason == "周末"  # Saturday
    assert CAL.describe(D(2026, 10, 3)).reason == "法定节假日（国庆节）"  # Saturday inside the break
    assert CAL.describe(D(2026, 10, 16)).source == f"chinesecalendar {chinese_calendar.__version__}"


def test_a_span_crossing_a_year_end() -> None:
    # 2025-12-31 (Wed) -> 2026-01-01..03 off, 01-04 (Sunday) worked.
    assert CAL.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert CAL.previous_working_day(D(2026, 1, 4)) == D(2025, 12, 31)
    assert CAL.working_days_between(D(2025, 12, 30), D(2026, 1, 5)) == 3


def test_long_spans_use_the_precomputed_years() -> None:
    total = CAL.working_days_between(D(2004, 1, 1), D(2026, 12, 31))
    assert total == naive_between(CAL, D(2004, 1, 1), D(2026, 12, 31))
    assert CAL.add_working_days(D(2004, 1, 1), total) == D(2026, 12, 31)
    assert CAL.add_working_days(D(2004, 1, 1), total - 1) == CAL.previous_working_day(D(2026, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=D(2004, 1, 1), max_value=D(2025, 6, 30)),
    n=st.integers(min_value=0, max_value=250),
    other=st.dates(min_value=D(2004, 1, 5), max_value=D(2026, 12, 31)),  # 2004-01-02 is worked
)
def test_stepping_and_counting_agree_with_a_day_by_day_walk(day: dt.date, n: int, other: dt.date) -> None:
    due = CAL.add_working_days(day, n)
    assert due == naive_add(CAL, day, n)
    assert CAL.working_days_between(day, due) == n
    assert n == 0 or CAL.is_working_day(due)
    assert CAL.working_days_between(day, other) == naive_between(CAL, day, other)
    assert CAL.working_days_between(other, day) == -CAL.working_days_between(day, other)
    previous = CAL.previous_working_day(other)
    assert previous < other and CAL.is_working_day(previous)
    assert CAL.next_working_day(previous) == naive_add(CAL, previous, 1)


# --- years nobody knows -------------------------------------------------------------------------


def test_unknown_year_raises_naming_the_year_and_the_fix() -> None:
    with pytest.raises(NotImplementedError):  # the package does not carry 2027
        chinese_calendar.is_workday(D(2027, 1, 4))

    with pytest.raises(CalendarError) as error:
        CAL.is_working_day(D(2027, 1, 4))

    message = str(error.value)
    assert "2027" in message
    assert "catalog_yaml/calendar.yaml" in message
    assert "国务院办公厅关于2027年部分节假日安排的通知" in message
    assert "2004-2026" in message


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.add_working_days(D(2026, 12, 28), 5),  # runs into 2027
        lambda: CAL.next_working_day(D(2026, 12, 31)),
        lambda: CAL.working_days_between(D(2026, 12, 1), D(2027, 1, 1)),
        lambda: CAL.previous_working_day(D(2004, 1, 2)),  # 2004-01-01 is a holiday: needs 2003
        lambda: CAL.describe(D(2003, 6, 2)),
    ],
)
def test_spans_that_need_an_unknown_year_raise(call) -> None:
    with pytest.raises(CalendarError):
        call()


def test_only_the_days_a_question_involves_need_to_be_known() -> None:
    # (2003-12-31, 2004-01-05] holds no 2003 day; 2004-01-01 is 元旦, 01-02 and 01-05 are worked.
    assert CAL.working_days_between(D(2003, 12, 31), D(2004, 1, 5)) == 2
    assert CAL.add_working_days(D(2026, 12, 28), 0) == D(2026, 12, 28)
    assert CAL.add_working_days(D(2026, 12, 28), 3) == D(2026, 12, 31)


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(ValueError, match=r"n must be >= 0"):
        CAL.add_working_days(D(2026, 9, 30), -1)
    with pytest.raises(TypeError, match=r"datetime\.date"):
        CAL.is_working_day(dt.datetime(2026, 9, 30, 12, 0))  # type: ignore[arg-type]


# --- operator overrides ---------------------------------------------------------------------------

# A made-up arrangement for 2027 (the real notice is not in the package): 元旦 Friday 2027-01-01 off,
# Saturday 2027-01-09 worked.
OVERRIDES_2027 = {
    "note": "test arrangement",
    "holidays": [D(2027, 1, 1)],
    "workdays": [D(2027, 1, 9)],
}


def test_an_override_year_is_taken_as_complete() -> None:
    cal = WorkCalendar(CalendarOverrides(years={2027: OVERRIDES_2027}))

    assert not cal.is_working_day(D(2027, 1, 1))
    assert cal.is_working_day(D(2027, 1, 9))
    assert not cal.is_working_day(D(2027, 1, 10))  # an ordinary Sunday
    assert cal.is_working_day(D(2027, 10, 1))  # not listed, so an ordinary Friday
    # 2027 has 261 weekdays (it starts on a Friday); one is off and one Saturday is worked.
    assert cal.working_days_between(D(2026, 12, 31), D(2027, 12, 31)) == 261
    assert cal.add_working_days(D(2026, 12, 30), 2) == D(2027, 1, 4)  # 12-31, (01-01 off), 01-04
    assert cal.add_working_days(D(2027, 1, 8), 1) == D(2027, 1, 9)
    info = cal.describe(D(2027, 1, 1))
    assert (info.reason, info.source) == ("法定节假日", "catalog_yaml/calendar.yaml (test arrangement)")
    assert cal.describe(D(2027, 1, 9)).reason == "调休上班"
    with pytest.raises(CalendarError, match="2028"):
        cal.add_working_days(D(2027, 12, 30), 2)


def test_an_override_year_takes_precedence_over_the_package() -> None:
    # Pretend the 2026 国庆 break was extended to 10-08 and 10-10 stayed a rest day.
    holidays_2026 = [d for d in days_between(D(2026, 1, 1), D(2026, 12, 31))
                     if d.weekday() < 5 and not CAL.is_working_day(d)] + [D(2026, 10, 8)]  # fmt: skip
    workdays_2026 = sorted(MAKE_UP_DAYS[2026] - {D(2026, 10, 10)})
    cal = WorkCalendar(
        CalendarOverrides(years={2026: {"holidays": holidays_2026, "workdays": workdays_2026}})
    )

    assert CAL.is_working_day(D(2026, 10, 8)) and not cal.is_working_day(D(2026, 10, 8))
    assert not cal.is_working_day(D(2026, 10, 10))
    assert cal.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 15)  # 9, 12, 13, 14, 15
    assert cal.is_working_day(D(2025, 10, 11))  # other years still come from the package
    # Everywhere else the override reproduces the package, so it changes exactly those two days.
    changed = [d for d in days_between(D(2026, 1, 1), D(2026, 12, 31))
               if cal.is_working_day(d) != CAL.is_working_day(d)]  # fmt: skip
    assert changed == [D(2026, 10, 8), D(2026, 10, 10)]


def test_a_notice_may_list_days_of_the_neighbouring_year() -> None:
    # As the 2018 notice gave Saturday 2018-12-29 as a make-up day for 2019's 元旦: here 2028's notice
    # makes Friday 2027-12-31 a day off and Sunday 2027-12-26 a working day.
    notice_2028 = {"note": "2028 notice", "holidays": [D(2027, 12, 31), D(2028, 1, 3)],
                   "workdays": [D(2027, 12, 26)]}  # fmt: skip
    cal = WorkCalendar(CalendarOverrides(years={2027: OVERRIDES_2027, 2028: notice_2028}))

    assert not cal.is_working_day(D(2027, 12, 31)) and cal.is_working_day(D(2027, 12, 26))
    assert not cal.is_working_day(D(2028, 1, 3)) and cal.is_working_day(D(2028, 1, 4))
    assert cal.add_working_days(D(2027, 12, 30), 1) == D(2028, 1, 4)
    assert cal.describe(D(2027, 12, 31)).source == "catalog_yaml/calendar.yaml (2028 notice)"
    assert cal.describe(D(2027, 12, 30)).source == "catalog_yaml/calendar.yaml (test arrangement)"
    # Listed under 2028 but without 2027 known, 2027's other days stay undecidable.
    with pytest.raises(CalendarError, match="2027"):
        WorkCalendar(CalendarOverrides(years={2028: notice_2028})).is_working_day(D(2027, 12, 30))


@pytest.mark.parametrize(
    ("years", "message"),
    [
        ({2027: {"holidays": [D(2027, 1, 4)], "workdays": [D(2027, 1, 4)]}}, "2027-01-04 is a Monday"),
        ({2027: {"holidays": [D(2027, 1, 9)]}}, "2027-01-09 is a Saturday: 'holidays' lists Monday-Friday"),
        ({2027: {"workdays": [D(2027, 1, 8)]}}, "2027-01-08 is a Friday: 'workdays' lists weekend"),
        ({2027: {"workdays": [D(2027, 12, 26)]}, 2028: {"holidays": [D(2027, 12, 27)]}}, None),
        ({2027: {"holidays": [D(2027, 12, 31)]}, 2028: {"workdays": [D(2027, 12, 31)]}},
         "2027-12-31 is in holidays of 2027 and in workdays of 2028"),
        ({2027: {"holidays": [D(2029, 1, 1)]}}, "2029-01-01 is listed under year 2027"),
    ],
)
def test_contradictory_or_misplaced_override_days_are_refused(years: dict, message: str | None) -> None:
    if message is None:  # consistent entries of two notices are accepted
        assert not WorkCalendar(CalendarOverrides(years=years)).is_working_day(D(2027, 12, 27))
        return
    with pytest.raises(ValueError, match=message):
        CalendarOverrides(years=years)


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """The real departments and reference dataset, with a calendar.yaml carrying the 2027 arrangement."""
    root = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR / "fieldsets", root / "fieldsets")
    (root / "datasets").mkdir()
    shutil.copy(DEFAULT_CATALOG_DIR / "datasets" / "admin_penalty.yaml", root / "datasets")
    shutil.copy(DEFAULT_CATALOG_DIR / "departments.yaml", root)
    (root / "calendar.yaml").write_text(
        "years:\n"
        "  2027:\n"
        "    note: test arrangement\n"
        "    holidays: [2027-01-01]\n"
        "    workdays: [2027-01-09]\n",
        encoding="utf-8",
    )
    return root


def test_from_catalog_uses_its_calendar_yaml(catalog_dir: Path) -> None:
    cal = WorkCalendar.from_catalog(load_catalog(catalog_dir))

    assert cal.knows(2027) and not cal.knows(2028) and cal.knows(2004) and not cal.knows(2003)
    assert cal.add_working_days(D(2026, 12, 30), 2) == D(2027, 1, 4)
    with pytest.raises(CalendarError) as error:
        cal.is_working_day(D(2028, 3, 1))
    assert str(catalog_dir / "calendar.yaml") in str(error.value)


def test_the_shipped_catalog_adds_no_year() -> None:
    cal = WorkCalendar.from_catalog(load_catalog(DEFAULT_CATALOG_DIR))
    assert cal.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 13)


# --- credit-etl calendar --------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["calendar", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_add(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "add", "2026-09-30", "5") == (0, "2026-10-13\n", "")
    assert run(capsys, "add", "2026-02-12", "5") == (0, "2026-02-26\n", "")
    assert run(capsys, "add", "2026-10-01", "0") == (0, "2026-10-01\n", "")


def test_cli_between(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "between", "2026-09-30", "2026-10-13") == (0, "5\n", "")
    assert run(capsys, "between", "2026-10-13", "2026-09-30") == (0, "-5\n", "")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-10-10", "2026-10-10 Sat: yes, 调休上班（国庆节）"),
        ("2026-10-01", "2026-10-01 Thu: no, 法定节假日（国庆节）"),
        ("2026-10-17", "2026-10-17 Sat: no, 周末"),
        ("2026-10-16", "2026-10-16 Fri: yes, 工作日"),
    ],
)
def test_cli_is_working(capsys: pytest.CaptureFixture[str], day: str, expected: str) -> None:
    code, out, err = run(capsys, "is-working", day)
    assert (code, err) == (0, "")
    assert out.startswith(expected + " [chinesecalendar ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("add", "2026-13-01", "5"), "'2026-13-01' is not a valid date"),
        (("add", "30/09/2026", "5"), "write it as YYYY-MM-DD"),
        (("add", "2026-09-30", "five"), "'five' is not a whole number of working days"),
        (("add", "2026-09-30", "-1"), "must be 0 or more, got -1"),
        (("between", "2026-09-30", "tomorrow"), "'tomorrow' is not a valid date"),
        (("is-working", "2026-02-30"), "'2026-02-30' is not a valid date"),
    ],
)
def test_cli_bad_input_is_a_usage_error(capsys: pytest.CaptureFixture[str], argv, message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert out == ""
    assert err.startswith("credit-etl calendar: ")
    assert message in err
    assert "Traceback" not in err


def test_cli_unknown_year(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "is-working", "2027-01-04")
    assert code != 0
    assert out == ""
    assert "no working-day calendar for 2027" in err
    assert str(DEFAULT_CATALOG_DIR / "calendar.yaml") in err
    assert "Traceback" not in err


def test_cli_catalog_option(capsys: pytest.CaptureFixture[str], catalog_dir: Path) -> None:
    assert run(capsys, "add", "--catalog", str(catalog_dir), "2026-12-30", "2") == (0, "2027-01-04\n", "")
    code, out, _ = run(capsys, "is-working", "--catalog", str(catalog_dir), "2027-01-09")
    assert (code, out) == (
        0,
        f"2027-01-09 Sat: yes, 调休上班 [{catalog_dir / 'calendar.yaml'} (test arrangement)]\n",
    )
    code, _, err = run(capsys, "add", "--catalog", str(catalog_dir / "missing"), "2026-09-30", "5")
    assert code != 0 and "catalog directory does not exist" in err
