"""Plausibility of the six-digit administrative division codes (GB/T 2260) inside codes.

Division codes change every year (a county becomes a district: Liuzhou's 450221 柳江县 became 450206
柳江区 in 2016), and a code on a certificate keeps the division of the day it was issued. A full
list would therefore reject legitimate old codes unless it carried every historical code, so only
the syntax is checked: six digits whose first two are a real province-level code. That catches
letters, shifted or truncated codes and most typos in the first two digits, and never rejects a
code issued anywhere in the country.

Two lists, because two kinds of issuer use slightly different sets:

- ``REGISTRATION``: where a subject was registered (USCC positions 3-8, the first six digits of a
  registration number). Adds 10, used by central-level registrations (e.g. ``100000``), and 66, used
  by the Xinjiang Production and Construction Corps' own registration authorities.
- ``RESIDENCE``: the address code of an identity number. Adds 83, the code of the residence permits
  of Taiwan residents (GB 11643 numbers issued since 2018 begin 810000, 820000 or 830000).

>>> is_plausible('450202', REGISTRATION)
True
>>> is_plausible('100000', REGISTRATION), is_plausible('100000', RESIDENCE)
(True, False)
>>> is_plausible('990000', REGISTRATION)
False
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np

from etl.codes._matrix import DIGIT_VALUES, NOT_IN_ALPHABET, PAIR_FIRST, PAIR_SECOND, pair_mask

# GB/T 2260 province-level codes: the 31 mainland provinces, Taiwan (71), Hong Kong (81), Macao (82).
PROVINCES: Final = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
REGISTRATION: Final = PROVINCES | {10, 66}
RESIDENCE: Final = PROVINCES | {83}


def is_plausible(code: str, prefixes: frozenset[int]) -> bool:
    """Tell whether ``code`` is six ASCII digits starting with one of ``prefixes``."""
    return len(code) == 6 and code.isascii() and code.isdigit() and int(code[:2]) in prefixes


@functools.cache
def pair_masks(prefixes: frozenset[int]) -> tuple[np.ndarray, np.ndarray]:
    """65536-entry tables over ``pair_columns``: whether a pair is a plausible province (two digits
    in ``prefixes``), and whether it is two digits."""
    is_digit = DIGIT_VALUES != NOT_IN_ALPHABET
    digit_pair = pair_mask(is_digit, is_digit)
    prefix_ok = np.zeros(100, dtype=bool)
    prefix_ok[sorted(prefixes)] = True
    number = np.where(digit_pair, DIGIT_VALUES[PAIR_FIRST] * 10 + DIGIT_VALUES[PAIR_SECOND], 0)
    return digit_pair & prefix_ok[number], digit_pair


def plausible_pairs(pairs: np.ndarray, prefixes: frozenset[int]) -> np.ndarray:
    """``is_plausible`` per code, given the 3×n ``pair_columns`` of the division codes."""
    province, digits = pair_masks(prefixes)
    return province[pairs[0]] & digits[pairs[1]] & digits[pairs[2]]
