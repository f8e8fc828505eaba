"""Typing cells the way departments write them: dates, amounts, integers, strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from etl.conform.values import (
    DECIMAL_ROUNDED,
    DECIMAL_TYPE,
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_AN_INTEGER,
    NUMBER_OUT_OF_RANGE,
    clean_strings,
    parse_dates,
    parse_decimals,
    parse_integers,
)

OCT_8 = dt.date(2026, 10, 8)


def one_date(text: str) -> tuple[dt.date | None, str | None]:
    dates, reasons = parse_dates(pa.array([text]))
    return dates[0].as_py(), reasons[0].as_py()


@pytest.mark.parametrize(
    "text",
    [
        "2026-10-08",
        "2026-10-8",
        "2026/10/8",
        "2026/10/08",
        "2026.10.8",
        "2026年10月8日",
        "2026年10月08日",
        "2026 年 10 月 8 日",
        "20261008",
        "2026-10-08 00:00:00",
        "2026-10-08 09:30:00",
        "2026/10/8 9:30",
        "2026-10-08T09:30:00",
        "2026-10-08 09:30:00.000",
        "２０２６－１０－０８",
        "２０２６年１０月８日",
        "二〇二六年十月八日",
        "46303",
        "46303.0",
        "46303.375",
    ],
)
def test_every_date_style(text: str):
    assert one_date(text) == (OCT_8, None)


@pytest.mark.parametrize(
    "text",
    [
        "2026年13月1日",
        "2026-02-30",
        "2026-10-32",
        "2026",
        "长期",
        "10/08/2026",
        "2026-10",
        "12345",
        "99999",
        "无",
    ],
)
def test_untypeable_dates(text: str):
    assert one_date(text) == (None, NOT_A_DATE)


def test_excel_serial_dates_within_the_plausible_range():
    assert one_date("18264") == (dt.date(1950, 1, 1), None)
    assert one_date("73050") == (dt.date(2099, 12, 31), None)
    assert one_date("18263")[1] == NOT_A_DATE  # 1949-12-31: a year or a count, not a date here


def test_dates_over_many_rows_keep_their_order_and_nulls():
    texts = ["2026-10-08", None, "2026/10/9", "坏", "2026-10-08"] * 1000
    dates, reasons = parse_dates(pa.array(texts))
    assert dates.type == pa.date32()
    assert dates.to_pylist()[:5] == [OCT_8, None, dt.date(2026, 10, 9), None, OCT_8]
    assert reasons.to_pylist()[:5] == [None, None, None, NOT_A_DATE, None]
    assert reasons.null_count == 4000


@pytest.mark.parametrize(
    ("text", "value", "reason"),
    [
        ("12.5", "12.5", None),
        ("-3", "-3", None),
        ("1,234.5", "1234.5", None),
        ("1,234,567", "1234567", None),
        ("１２．５", "12.5", None),
        ("１，２３４．５", "1234.5", None),
        (".5", "0.5", None),
        ("+0.20", "0.2", None),
        ("0.5万元", "0.5", None),
        ("0.5 万元", "0.5", None),
        ("1.2345678", "1.234568", DECIMAL_ROUNDED),
        ("伍仟元整", None, NOT_A_NUMBER),
        ("5000元", None, NOT_A_NUMBER),
        ("1,23", None, NOT_A_NUMBER),
        ("12.5.1", None, NOT_A_NUMBER),
        ("无", None, NOT_A_NUMBER),
        ("100000000000000", None, NUMBER_OUT_OF_RANGE),
    ],
)
def test_decimal_spellings(text: str, value: str | None, reason: str | None):
    amounts, reasons = parse_decimals(pa.array([text]), unit="万元")
    assert amounts.type == DECIMAL_TYPE
    got = amounts[0].as_py()
    assert (None if got is None else got.normalize()) == (
        None if value is None else Decimal(value).normalize()
    )
    assert reasons[0].as_py() == reason


def test_a_unit_is_only_stripped_when_it_is_the_fields_unit():
    amounts, reasons = parse_decimals(pa.array(["0.5万元", "0.5"]), unit=None)
    assert amounts.to_pylist() == [None, Decimal("0.5")]
    assert reasons.to_pylist() == [NOT_A_NUMBER, None]


@pytest.mark.parametrize(
    ("text", "value", "reason"),
    [
        ("2026", 2026, None),
        ("-7", -7, None),
        ("2,026", 2026, None),
        ("２０２６", 2026, None),
        ("2026.0", 2026, None),
        ("2026.5", None, NOT_AN_INTEGER),
        ("二〇二六", None, NOT_AN_INTEGER),
        ("99999999999999999999", None, NUMBER_OUT_OF_RANGE),
    ],
)
def test_integer_spellings(text: str, value: int | None, reason: str | None):
    numbers, reasons = parse_integers(pa.array([text]))
    assert numbers.type == pa.int64()
    assert (numbers[0].as_py(), reasons[0].as_py()) == (value, reason)


def test_strings_are_stripped_and_blank_is_null():
    cleaned = clean_strings(pa.array(["  柳州  ", "\u3000\u00a0", "", "a b", None, "\t甲\r\n"]))
    assert cleaned.to_pylist() == ["柳州", None, None, "a b", None, "甲"]
    sliced = clean_strings(pa.array(["x", " ", "y", ""]).slice(1, 2))
    assert sliced.to_pylist() == [None, "y"]
