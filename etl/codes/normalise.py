"""Undo what spreadsheets and typists do to codes, where it can be undone without guessing.

A code is normalised by, in this order:

1. Unicode NFKC, which turns full-width letters and digits (``９１ＡＢ``) into ASCII and the ideographic
   space into a plain one;
2. upper-casing ASCII letters (codes only use upper-case letters, and no code tells two letters apart
   by case);
3. removing blanks (every kind of space, tab, line break and zero-width character) and hyphens or
   dashes, which people put between groups (``12345678-9``, ``450200 0000 12345``).

Nothing else is changed: a character outside a code's alphabet is left for the check to report,
because "fixing" ``O`` to ``0`` would be a guess. Damage that loses information, like Excel's
scientific notation ``9.14502E+17``, is recognised (``looks_scientific``) so that the check can say
so, instead of complaining about the length.

>>> normalise(' ９１４５０２００ｍａ５ｋ１２３４５Ｘ ')
'91450200MA5K12345X'
>>> normalise('12345678-9')
'123456789'
>>> looks_scientific(normalise('9.14502E+17'))
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from etl.codes import reasons
from etl.codes.exceptions import DamagedCode, InvalidCode

# Characters removed after NFKC. NFKC already turns no-break, en/em and ideographic spaces into
# U+0020 and the full-width hyphen into "-", so they need no entry of their own.
DROPPED = (
    " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u1680\u2028\u2029"  # blanks
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters copied from web pages and Word
    # invisible formatting: the soft hyphen, and direction marks copied from web pages
    "\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphens, dashes and the minus sign
)

# Excel shows a long number as d.ddddE+nn once it has dropped the digits beyond the 15th.
SCIENTIFIC_PATTERN = r"^[0-9](?:\.[0-9]+)?E\+?[0-9]+$"

_TRANSLATION = {ord(c): None for c in DROPPED} | {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
_SCIENTIFIC = re.compile(SCIENTIFIC_PATTERN)


def normalise(value: str) -> str:
    """Return ``value`` in NFKC, with ASCII letters upper-cased and blanks and hyphens removed."""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return value.translate(_TRANSLATION)


def looks_scientific(code: str) -> bool:
    """Tell whether a normalised value is a number in scientific notation, as Excel writes it."""
    return _SCIENTIFIC.match(code) is not None


def first_bad_char(code: str, allowed: Sequence[str]) -> int | None:
    """Index of the first character of ``code`` not in ``allowed[index]``, or None."""
    return next((i for i, (c, ok) in enumerate(zip(code, allowed, strict=False)) if c not in ok), None)


@contextmanager
def reject_damage(code: str) -> Iterator[None]:
    """Report a failed ``code`` that looks like scientific notation as damaged, not as malformed."""
    try:
        yield
    except InvalidCode as exc:
        if looks_scientific(code):
            raise DamagedCode(reasons.SCIENTIFIC_NOTATION) from exc
        raise
