"""ISO 7064 MOD 11,10: the check digit of the 15-digit business registration number (GS 15-2006).

A hybrid system: the running value starts at 10; for each digit it becomes ``(value + digit) mod 10``
(with 0 read as 10), doubled, modulo 11. The check digit brings the final value to 1.

>>> calc_check_digit('45020000001234')
'0'
>>> is_valid('450200000012340')
True
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def _fold(digits: Iterable[int]) -> int:
    value = 10
    for digit in digits:
        value = ((value + digit) % 10 or 10) * 2 % 11
    return value


def calc_check_digit(body: str) -> str:
    """The check digit to append to the string of digits ``body``."""
    return str((11 - _fold(int(c) for c in body)) % 10)


def is_valid(number: str) -> bool:
    """Tell whether the last digit of ``number`` is the check digit of the ones before it."""
    return number.isdigit() and calc_check_digit(number[:-1]) == number[-1]


def calc_check_digits(digits: np.ndarray) -> np.ndarray:
    """``calc_check_digit`` over each row of a matrix of digit values; returns digit values."""
    value = np.full(digits.shape[0], 10, dtype=np.int16)
    # The recurrence is sequential along a row, so the loop runs over the 14 columns, never the rows.
    for column in range(digits.shape[1]):
        value = (value + digits[:, column]) % 10
        value[value == 0] = 10
        value = value * 2 % 11
    return ((11 - value) % 10).astype(np.uint8)
