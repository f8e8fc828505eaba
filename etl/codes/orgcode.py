"""Organisation code (组织机构代码, GB 11714-1997).

Nine characters: an eight-character body of digits and upper-case letters, and a check character.
Each body character counts as a base-36 digit (``A`` = 10 … ``Z`` = 35); with the weights
3 7 9 10 5 8 4 2 the check is ``11 - (sum mod 11)``, written ``X`` for 10 and ``0`` for 11. It is
often written with a hyphen before the check character (``12345678-9``). Since 2015 it lives on as
positions 9-17 of the unified social credit code (``etl.codes.uscc``).

>>> validate('60003734-1')
'600037341'
>>> validate('600037342')
Traceback (most recent call last):
    ...
InvalidChecksum: 组织机构代码校验码错误，应为 1（…）
>>> validate('6000373')
Traceback (most recent call last):
    ...
InvalidLength: 组织机构代码应为9位…
>>> calc_check_char('MA2PBMEM')
'2'
>>> format_code('600037341')
'60003734-1'
"""

from __future__ import annotations

import string

import numpy as np

from etl.codes import reasons
from etl.codes._matrix import Findings, allowed_mask, char_table, first_false, pair_columns, value_table
from etl.codes.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from etl.codes.normalise import first_bad_char, normalise, reject_damage
from etl.codes.weighted import pair_sums, pair_tables, remainder_table, weighted_sum

LENGTH = 9
BODY_ALPHABET = string.digits + string.ascii_uppercase
CHECK_CHARS = "0123456789X"
WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ALLOWED = (BODY_ALPHABET,) * 8 + (CHECK_CHARS,)

# Remainder of the weighted sum → check character: 11 - r, with 10 written X and 11 written 0.
_CHECK_OF_REMAINDER = "".join(CHECK_CHARS[(11 - r) % 11] for r in range(11))
# For the vectorised check (also packed into etl.codes.uscc's tables): the weighted residues of
# the body's byte pairs, and the check byte for each possible sum of them.
CHECK_PAIR_TABLES = pair_tables(value_table(BODY_ALPHABET), WEIGHTS, 11)
CHECK_BY_SUM = remainder_table(CHECK_PAIR_TABLES, 11, char_table(_CHECK_OF_REMAINDER))


def compact(value: str) -> str:
    """Normalise ``value`` (full-width, case, blanks, the hyphen); no check is made."""
    return normalise(value)


def calc_check_char(body: str) -> str:
    """The check character of the eight-character body (digits and upper-case letters)."""
    if len(body) != 8:
        raise ValueError(f"an organisation code body has 8 characters, not {len(body)}")
    return _CHECK_OF_REMAINDER[weighted_sum((BODY_ALPHABET.index(c) for c in body), WEIGHTS, 11)]


def validate(value: str) -> str:
    """Check the length, the characters and the check character; return the compact code."""
    code = compact(value)
    with reject_damage(code):
        if len(code) != LENGTH:
            raise InvalidLength(reasons.ORGCODE_BAD_LENGTH, length=len(code))
        bad = first_bad_char(code, ALLOWED)
        if bad is not None:
            raise InvalidFormat(reasons.ORGCODE_BAD_CHAR, pos=bad + 1, char=code[bad])
        expected = calc_check_char(code[:8])
        if code[8] != expected:
            raise InvalidChecksum(reasons.ORGCODE_BAD_CHECK, expected=expected)
    return code


def is_valid(value: str) -> bool:
    """Tell whether ``value`` is a valid organisation code; never raises."""
    try:
        return bool(validate(value))
    except ValueError:
        return False


def format_code(value: str) -> str:
    """The code in its printed form, with the hyphen before the check character."""
    code = compact(value)
    return f"{code[:8]}-{code[8:]}"


def calc_check_bytes(body: np.ndarray) -> np.ndarray:
    """``calc_check_char`` over the 4×n ``pair_columns`` of bodies, as bytes (garbage for bad bodies)."""
    # A byte outside the alphabet makes its row's sum INVALID and the result garbage; such a row
    # fails the character check first, so the garbage is never reported.
    return CHECK_BY_SUM[pair_sums(body, CHECK_PAIR_TABLES)]


def validate_matrix(m: np.ndarray, length: np.ndarray) -> Findings:
    """``validate`` over a byte matrix of normalised codes (see etl.codes._matrix)."""
    findings = Findings.empty(len(length))
    findings.fail(length != LENGTH, reasons.ORGCODE_BAD_LENGTH)
    bad, pos = first_false(allowed_mask(m, ALLOWED))
    findings.fail(bad, reasons.ORGCODE_BAD_CHAR, pos=pos)
    expected = calc_check_bytes(pair_columns(m[:, :8]))
    findings.fail(m[:, 8] != expected, reasons.ORGCODE_BAD_CHECK, expected=expected)
    return findings
