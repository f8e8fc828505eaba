"""Business registration number (工商注册号, GS 15-2006), the 15-digit predecessor of the USCC.

Six digits of the registering authority's division code, eight of sequence, and a check digit
computed with ISO 7064 MOD 11,10 (``etl.codes.mod_11_10``). Still found in legacy drops, and required
beside a USCC that is only the placeholder ``00000000000000000X``.

>>> validate('450200 00001234 0')
'450200000012340'
>>> validate('450200000012341')
Traceback (most recent call last):
    ...
InvalidChecksum: 工商注册号校验位错误，应为 0（…）
>>> validate('990200000012340')
Traceback (most recent call last):
    ...
InvalidComponent: 工商注册号前6位不是有效的登记机关行政区划代码…
>>> calc_check_char('45020000001234')
'0'
"""

from __future__ import annotations

import string

import numpy as np

from etl.codes import divisions, mod_11_10, reasons
from etl.codes._matrix import Findings, allowed_mask, char_table, digit_values, first_false, pair_columns
from etl.codes.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from etl.codes.normalise import first_bad_char, normalise, reject_damage

LENGTH = 15
ALLOWED = (string.digits,) * LENGTH

_DIGIT_BYTES = char_table(string.digits)


def compact(value: str) -> str:
    """Normalise ``value`` (full-width, blanks, hyphens); no check is made."""
    return normalise(value)


def calc_check_char(body: str) -> str:
    """The check digit of the first fourteen digits."""
    if len(body) != LENGTH - 1 or not body.isdigit():
        raise ValueError(f"a registration number body has 14 digits, got {body!r}")
    return mod_11_10.calc_check_digit(body)


def validate(value: str) -> str:
    """Check the length, the digits, the authority's division and the check digit."""
    code = compact(value)
    with reject_damage(code):
        if len(code) != LENGTH:
            raise InvalidLength(reasons.REGNO_BAD_LENGTH, length=len(code))
        bad = first_bad_char(code, ALLOWED)
        if bad is not None:
            raise InvalidFormat(reasons.REGNO_BAD_CHAR, pos=bad + 1, char=code[bad])
        if not divisions.is_plausible(code[:6], divisions.REGISTRATION):
            raise InvalidComponent(reasons.REGNO_BAD_DIVISION)
        expected = calc_check_char(code[:-1])
        if code[-1] != expected:
            raise InvalidChecksum(reasons.REGNO_BAD_CHECK, expected=expected)
    return code


def is_valid(value: str) -> bool:
    """Tell whether ``value`` is a valid registration number; never raises."""
    try:
        return bool(validate(value))
    except ValueError:
        return False


def validate_matrix(m: np.ndarray, length: np.ndarray) -> Findings:
    """``validate`` over a byte matrix of normalised codes (see etl.codes._matrix)."""
    findings = Findings.empty(len(length))
    findings.fail(length != LENGTH, reasons.REGNO_BAD_LENGTH)
    bad, pos = first_false(allowed_mask(m, ALLOWED))
    findings.fail(bad, reasons.REGNO_BAD_CHAR, pos=pos)
    digits = digit_values(m[:, :LENGTH])
    division_ok = divisions.plausible_pairs(pair_columns(m[:, :6]), divisions.REGISTRATION)
    findings.fail(~division_ok, reasons.REGNO_BAD_DIVISION)
    expected = _DIGIT_BYTES[mod_11_10.calc_check_digits(np.minimum(digits[:, :-1], 9))]
    findings.fail(m[:, LENGTH - 1] != expected, reasons.REGNO_BAD_CHECK, expected=expected)
    return findings
