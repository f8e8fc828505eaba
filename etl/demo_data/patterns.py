"""Strings that match a catalog field's regular expression, for fields no named generator knows.

Walks the parse tree of Python's own regex parser, so what the catalog means by a pattern and what
is generated cannot drift apart; the result is always re-checked with ``re.fullmatch``.

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> value = sample(r"^J[0-9]{13}$", rng)
>>> len(value), value[0]
(14, 'J')
>>> bool(re.fullmatch(r"^[（(][0-9]{4}[）)].+号$", sample(r"^[（(][0-9]{4}[）)].+号$", rng)))
True
"""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np

try:  # Python 3.11 keeps the parser here; the old name still works but warns.
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

# What an unbounded repeat (``+``, ``*``, ``{2,}``) stretches to.
OPEN_REPEAT = 4
# "Any character" and negated classes draw from plain Chinese text and digits.
FILLER = "柳州市中心城区人民服务管理发展建设0123456789"
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: string.digits,
    sre_constants.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_DIGIT: "ABC柳州",
    sre_constants.CATEGORY_NOT_WORD: "-/",
    sre_constants.CATEGORY_NOT_SPACE: "ABC123",
}


class UnsupportedPattern(ValueError):
    """The pattern uses a construct this generator cannot produce a match for."""


def sample(pattern: str, rng: np.random.Generator, tries: int = 20) -> str:
    """One string that fully matches ``pattern``."""
    compiled = re.compile(pattern)
    tree = sre_parse.parse(pattern)
    for _ in range(tries):
        value = "".join(_emit(tree, rng))
        if compiled.fullmatch(value):
            return value
    raise UnsupportedPattern(f"cannot generate a value matching {pattern!r}")


def _emit(items: Any, rng: np.random.Generator) -> list[str]:
    out: list[str] = []
    for op, arg in items:
        out.extend(_emit_one(op, arg, rng))
    return out


def _emit_one(op: Any, arg: Any, rng: np.random.Generator) -> list[str]:
    if op is sre_constants.LITERAL:
        return [chr(arg)]
    if op is sre_constants.NOT_LITERAL:
        return [next(c for c in FILLER if ord(c) != arg)]
    if op is sre_constants.ANY:
        return [FILLER[int(rng.integers(len(FILLER)))]]
    if op is sre_constants.IN:
        return [_pick_in(arg, rng)]
    if op in (
        sre_constants.MAX_REPEAT,
        sre_constants.MIN_REPEAT,
        getattr(sre_constants, "POSSESSIVE_REPEAT", None),
    ):
        low, high, body = arg
        high = low + OPEN_REPEAT if high is sre_constants.MAXREPEAT else high
        count = int(rng.integers(low, high + 1))
        return [c for _ in range(count) for c in _emit(body, rng)]
    if op is sre_constants.SUBPATTERN:
        return _emit(arg[-1], rng)
    if op is sre_constants.BRANCH:
        branches = arg[1]
        return _emit(branches[int(rng.integers(len(branches)))], rng)
    if op is sre_constants.AT:
        return []
    raise UnsupportedPattern(f"regular expression construct {op} is not supported")


def _pick_in(items: Any, rng: np.random.Generator) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    choices: list[str] = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            choices.append(chr(arg))
        elif op is sre_constants.RANGE:
            low, high = arg
            choices.extend(chr(c) for c in range(low, min(high, low + 200) + 1))
        elif op is sre_constants.CATEGORY:
            choices.extend(_CATEGORIES.get(arg, ""))
    if negate:
        excluded = set(choices)
        choices = [c for c in FILLER if c not in excluded]
    if not choices:
        raise UnsupportedPattern("empty character class")
    return choices[int(rng.integers(len(choices)))]
