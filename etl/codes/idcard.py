"""Resident identity number (公民身份号码, GB 11643-1999), and the old 15-digit number it replaced.

Eighteen characters: a six-digit address code (the division where it was first issued), the birth
date ``YYYYMMDD``, a three-digit sequence (odd for men) and a check character: the first 17 digits
weighted by 2^(17-i) mod 11, summed, and the remainder looked up in ``1 0 X 9 8 7 6 5 4 3 2``.
The old number (GB 11643-1989) has 15 digits: no check character and a two-digit year, always 19xx;
``from_15`` converts it, and ``validate`` accepts it and returns the 18-digit form.

Checked: length, characters, the address code's syntax (``etl.codes.divisions``), a real birth date
from 1900 to today (China time), and the check character. Identity numbers are personal data: they
may be checked and stored, but ``mask`` must be applied before one is shown in a report or a log,
and no message here ever contains the number.

>>> validate('360426199101010071')
'360426199101010071'
>>> validate('44011320141005001x')
'44011320141005001X'
>>> validate('360426910101007')
'360426199101010071'
>>> validate('360426199101010072')
Traceback (most recent call last):
    ...
InvalidChecksum: 身份证号码校验位错误，应为 1（…）
>>> validate('360426199102300071')
Traceback (most recent call last):
    ...
InvalidComponent: 身份证号码中的出生日期不是有效日期…
>>> mask('360426199101010071')
'3604**********0071'
"""

from __future__ import annotations

import datetime
import re
import string
from typing import Final

import numpy as np

from etl.codes import divisions, reasons
from etl.codes._matrix import Findings, allowed_mask, char_table, digit_values, first_false, pair_columns
from etl.codes.exceptions import (
    InvalidChecksum,
    InvalidCode,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from etl.codes.normalise import first_bad_char, normalise, reject_damage
from etl.codes.weighted import weighted_sum, weighted_sums

LENGTH: Final = 18
OLD_LENGTH: Final = 15
WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
CHECK_OF_REMAINDER: Final = "10X98765432"
# Nobody alive was born earlier; an earlier year is a typo such as 1090 for 1990.
EARLIEST_BIRTH_YEAR: Final = 1900
ALLOWED = (string.digits,) * 17 + (string.digits + "X",)
ALLOWED_OLD = (string.digits,) * OLD_LENGTH
# China has kept UTC+8 without daylight saving since 1991, so a fixed offset needs no tz database.
CHINA = datetime.timezone(datetime.timedelta(hours=8))

_CHECK_BYTES = char_table(CHECK_OF_REMAINDER)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def compact(value: str) -> str:
    """Normalise ``value`` (full-width, case, blanks, hyphens); no check, no conversion."""
    return normalise(value)


def calc_check_char(body: str) -> str:
    """The check character of the first seventeen digits."""
    if len(body) != 17 or not body.isdigit():
        raise ValueError(f"an identity number body has 17 digits, got {len(body)} characters")
    return CHECK_OF_REMAINDER[weighted_sum((int(c) for c in body), WEIGHTS, 11)]


def from_15(value: str) -> str:
    """Convert an old 15-digit number to 18 digits (century 19, plus the check character)."""
    code = compact(value)
    if len(code) != OLD_LENGTH:
        raise InvalidLength(reasons.IDCARD_BAD_LENGTH, length=len(code))
    bad = first_bad_char(code, ALLOWED_OLD)
    if bad is not None:
        raise InvalidFormat(reasons.IDCARD_BAD_CHAR, pos=bad + 1, char=code[bad])
    body = code[:6] + "19" + code[6:]
    return body + calc_check_char(body)


def today_in_china() -> datetime.date:
    return datetime.datetime.now(CHINA).date()


def _birth_date(code: str) -> datetime.date:
    text = "19" + code[6:12] if len(code) == OLD_LENGTH else code[6:14]
    try:
        born = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidComponent(reasons.IDCARD_BAD_BIRTHDATE) from None
    if born.year < EARLIEST_BIRTH_YEAR:
        raise InvalidComponent(reasons.IDCARD_BAD_BIRTHDATE)
    return born


def validate(value: str, *, today: datetime.date | None = None) -> str:
    """Check an identity number; return it compact, an old 15-digit one converted to 18 digits.

    Checks, in order: length, characters, address code, birth date (real, not after ``today``,
    which defaults to today in China), and for 18 digits the check character.
    """
    code = compact(value)
    with reject_damage(code):
        if len(code) not in (LENGTH, OLD_LENGTH):
            raise InvalidLength(reasons.IDCARD_BAD_LENGTH, length=len(code))
        bad = first_bad_char(code, ALLOWED if len(code) == LENGTH else ALLOWED_OLD)
        if bad is not None:
            raise InvalidFormat(reasons.IDCARD_BAD_CHAR, pos=bad + 1, char=code[bad])
        if not divisions.is_plausible(code[:6], divisions.RESIDENCE):
            raise InvalidComponent(reasons.IDCARD_BAD_ADDRESS)
        if _birth_date(code) > (today or today_in_china()):
            raise InvalidComponent(reasons.IDCARD_FUTURE_BIRTHDATE)
        if len(code) == OLD_LENGTH:
            return from_15(code)
        expected = calc_check_char(code[:17])
        if code[17] != expected:
            raise InvalidChecksum(reasons.IDCARD_BAD_CHECK, expected=expected)
    return code


def is_valid(value: str, *, today: datetime.date | None = None) -> bool:
    """Tell whether ``value`` is a valid 18- or 15-digit identity number; never raises."""
    try:
        return bool(validate(value, today=today))
    except InvalidCode:
        return False


def mask(value: str) -> str:
    """Hide all but the first four and last four characters, for reports and logs."""
    code = compact(value)
    if len(code) <= 8:
        return "*" * len(code)
    return code[:4] + "*" * (len(code) - 8) + code[-4:]


# An identity number inside free text: 18 characters (17 digits, then a digit or X) or the old 15
# digits, not part of a longer run of letters and digits (a USCC such as 91450200MA5K000001 is not).
_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")


def mask_in_text(text: str) -> str:
    """``mask`` every identity-number-shaped run in free text: messages, names, lists that may quote
    what a clerk typed into any cell.

    >>> mask_in_text("名称“360426199101010071”，代码 91450200MA5K000001、110101850101001")
    '名称“3604**********0071”，代码 91450200MA5K000001、1101*******1001'
    """
    return _IN_TEXT.sub(lambda m: mask(m.group(1)), text)


def calc_check_bytes(digits: np.ndarray) -> np.ndarray:
    """``calc_check_char`` over an n×17 matrix of digit values, as bytes."""
    return _CHECK_BYTES[weighted_sums(digits, WEIGHTS, 11)]


def upgrade_matrix(m: np.ndarray) -> np.ndarray:
    """``from_15`` over an n×15 byte matrix of old numbers; returns an n×18 byte matrix."""
    body = np.concatenate([m[:, :6], np.full((len(m), 2), [ord("1"), ord("9")], np.uint8), m[:, 6:15]], 1)
    check = calc_check_bytes(np.minimum(digit_values(body), 9))
    return np.concatenate([body, check[:, None]], axis=1)


def _birth_dates(digits: np.ndarray, old: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, whether the birth date is real, and the date as the integer YYYYMMDD."""
    # Only positions 7-14 can hold the date: d[:, i] is the digit at position 7 + i.
    d = np.minimum(digits[:, 6:14], 9).astype(np.int32)
    year = np.where(
        old, 1900 + d[:, 0] * 10 + d[:, 1], d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    )
    month = np.where(old, d[:, 2] * 10 + d[:, 3], d[:, 4] * 10 + d[:, 5])
    day = np.where(old, d[:, 4] * 10 + d[:, 5], d[:, 6] * 10 + d[:, 7])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    last_day = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    real = month_ok & (day >= 1) & (day <= last_day) & (year >= EARLIEST_BIRTH_YEAR)
    return real, year * 10000 + month * 100 + day


def validate_matrix(m: np.ndarray, length: np.ndarray, today: datetime.date | None = None) -> Findings:
    """``validate`` over a byte matrix of normalised codes (see etl.codes._matrix)."""
    findings = Findings.empty(len(length))
    old = length == OLD_LENGTH
    findings.fail((length != LENGTH) & ~old, reasons.IDCARD_BAD_LENGTH)
    bad_new, pos_new = first_false(allowed_mask(m, ALLOWED))
    bad_old, pos_old = first_false(allowed_mask(m, ALLOWED_OLD))
    findings.fail(
        np.where(old, bad_old, bad_new), reasons.IDCARD_BAD_CHAR, pos=np.where(old, pos_old, pos_new)
    )
    digits = digit_values(m[:, :LENGTH])
    address_ok = divisions.plausible_pairs(pair_columns(m[:, :6]), divisions.RESIDENCE)
    findings.fail(~address_ok, reasons.IDCARD_BAD_ADDRESS)
    real, born = _birth_dates(digits, old)
    findings.fail(~real, reasons.IDCARD_BAD_BIRTHDATE)
    limit = today or today_in_china()
    findings.fail(born > limit.year * 10000 + limit.month * 100 + limit.day, reasons.IDCARD_FUTURE_BIRTHDATE)
    findings.accept(old)
    expected = calc_check_bytes(np.minimum(digits[:, :17], 9))
    findings.fail(m[:, 17] != expected, reasons.IDCARD_BAD_CHECK, expected=expected)
    return findings
