r"""Python's ``re.search`` over an Arrow string column, at the speed of Arrow's RE2 where that is exact.

GX checks ``expect_column_values_to_match_regex`` with pandas' ``str.contains``, whose meaning is
Python's ``re.search`` (pandas hands a pattern to RE2 only where the answer cannot differ), and
catalog patterns are written for Python. ``contains`` gives that meaning:

- ``re2_translation`` rewrites Python's own parse of the pattern in RE2 syntax: every literal as
  a code point (``\x{…}``), ``\s`` as the characters Python counts as whitespace, groups without
  captures. It gives up (None) where RE2 would mean something else or cannot follow: ``\d``,
  ``\w``, ``\b`` (ASCII-only in RE2), look-arounds, back-references, flags, repetition counts
  over RE2's limit of 1000;
- Python's ``$`` also matches just before a final newline, RE2's only at the end: values holding a
  newline are searched with ``re``, one by one (values from spreadsheets seldom hold one);
- without a translation, ``re`` runs once per distinct value of the column.

>>> import pyarrow as pa
>>> values = pa.array(["罚款；\u3000警告", "罚款\n", "罚金", None])
>>> contains(values, r"^\s*罚款(?:\s*[;；]\s*警告)?$").tolist()
[True, True, False, False]
>>> print(re2_translation(r"^[0-9]{4}-"))
^(?:[\x{30}-\x{39}]){4}\x{2d}
>>> re2_translation(r"^\d+$") is None  # \d is Unicode-wide in Python, ASCII-only in RE2
True
"""

from __future__ import annotations

import functools
import re
import sys
from re import _constants as sre  # the parse tree's vocabulary, as pandas reads it too
from re import _parser as sre_parse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RE2_MAX_REPEAT = 1000


class _Untranslatable(Exception):
    """Part of a pattern whose exact meaning RE2 syntax cannot carry."""


def contains(array: pa.Array, pattern: str) -> np.ndarray:
    """Per value: ``re.search(pattern, value)`` finds a match; False for a null.

    Each distinct value is searched once (columns checked against patterns are mostly codes and
    choices, with many repeats). Raises ``re.error`` for a pattern Python cannot compile, as GX would.
    """
    compiled = re.compile(pattern)
    encoded = pc.dictionary_encode(array)
    hit = _search_each(encoded.dictionary, pattern, compiled)
    if not len(hit):
        return np.zeros(len(array), dtype=bool)
    indices = encoded.indices
    found = hit[pc.fill_null(indices, 0).to_numpy(zero_copy_only=False)]
    if indices.null_count:
        found &= indices.is_valid().to_numpy(zero_copy_only=False)
    return found


@functools.lru_cache(maxsize=256)
def re2_translation(pattern: str) -> str | None:
    """``pattern`` in RE2 syntax with the same meaning as in Python (but see ``$``), or None."""
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return None
    if tree.state.flags & ~re.UNICODE:
        return None
    try:
        return _sequence(tree)
    except _Untranslatable:
        return None


def _search_each(values: pa.Array, pattern: str, compiled: re.Pattern[str]) -> np.ndarray:
    """Per value (none null): whether ``compiled`` finds a match, by RE2 where the translation is exact."""
    translated = re2_translation(pattern)
    if translated is not None:
        try:
            found = pc.match_substring_regex(values, translated).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:  # RE2 refused it, e.g. a program beyond its memory budget
            translated = None
    if translated is None:
        return np.array([compiled.search(value) is not None for value in values.to_pylist()], dtype=bool)
    # The translation spells no literal "$", so one in it is an end anchor: see the module docstring.
    if "$" in translated:
        newline = np.flatnonzero(pc.match_substring(values, "\n").to_numpy(zero_copy_only=False))
        if newline.size:
            found[newline] = [
                compiled.search(v) is not None for v in values.take(pa.array(newline)).to_pylist()
            ]
    return found


def _sequence(items: sre_parse.SubPattern | list) -> str:
    return "".join(_item(op, av) for op, av in items)


def _item(op: object, av: object) -> str:
    if op is sre.LITERAL:
        return _char(av)
    if op is sre.NOT_LITERAL:
        return f"[^{_char(av)}]"
    if op is sre.ANY:
        return "."  # without DOTALL (flags are refused) neither matches "\n"
    if op is sre.IN:
        return _class(av)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, high, body = av
        if low > RE2_MAX_REPEAT or (high != sre.MAXREPEAT and high > RE2_MAX_REPEAT):
            raise _Untranslatable
        counts = (
            f"{{{low},}}" if high == sre.MAXREPEAT else f"{{{low}}}" if low == high else f"{{{low},{high}}}"
        )
        return f"(?:{_sequence(body)}){counts}" + ("?" if op is sre.MIN_REPEAT else "")
    if op is sre.SUBPATTERN:
        _, add_flags, del_flags, body = av
        if add_flags or del_flags:
            raise _Untranslatable
        return f"(?:{_sequence(body)})"
    if op is sre.BRANCH:
        return "(?:" + "|".join(_sequence(branch) for branch in av[1]) + ")"
    if op is sre.AT and av in _ANCHORS:
        return _ANCHORS[av]
    raise _Untranslatable


# Python's $ (no MULTILINE) is RE2's end of text except before a final newline; see ``contains``.
_ANCHORS = {sre.AT_BEGINNING: "^", sre.AT_BEGINNING_STRING: r"\A", sre.AT_END: "$", sre.AT_END_STRING: r"\z"}


def _class(items: list) -> str:
    negate = bool(items) and items[0][0] is sre.NEGATE
    members = items[1:] if negate else items
    if len(members) == 1 and members[0] == (sre.CATEGORY, sre.CATEGORY_NOT_SPACE):
        return ("[" if negate else "[^") + _python_spaces() + "]"
    parts = []
    for op, av in members:
        if op is sre.LITERAL:
            parts.append(_char(av))
        elif op is sre.RANGE:
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is sre.CATEGORY and av is sre.CATEGORY_SPACE:
            parts.append(_python_spaces())
        else:
            raise _Untranslatable
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"


@functools.cache
def _python_spaces() -> str:
    """The members of Python's ``\\s`` (str patterns) as the body of an RE2 class."""
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))
    return "".join(_char(ord(c)) for c in re.findall(r"\s", every_character))
