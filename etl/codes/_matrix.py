"""Plumbing of the vectorised checks: codes as a matrix of bytes, and the findings about them.

Every vectorised check receives its codes as an n×width ``uint8`` matrix (one normalised code per
row, zero-padded; a non-ASCII character occupies one byte 0x7F, so byte positions are character
positions) plus the length of each code in characters. It walks the same guard clauses as the
scalar ``validate`` of its module, in the same order; ``Findings.fail`` keeps the first failure of
each row, which is what the scalar function raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from etl.codes import reasons

NOT_IN_ALPHABET = 255


@dataclass
class Findings:
    """Per row: the first failed reason (0 = none, else 1 + index in ``reasons.ALL``) and its fields.

    ``pos`` is the 1-based position of a bad character, ``expected`` the byte of the check
    character the code should have had; both are 0 where they do not apply.
    """

    reason: np.ndarray
    pos: np.ndarray
    expected: np.ndarray
    settled: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Findings:
        return cls(
            reason=np.zeros(n, dtype=np.int16),
            pos=np.zeros(n, dtype=np.int16),
            expected=np.zeros(n, dtype=np.uint8),
            settled=np.zeros(n, dtype=bool),
        )

    def fail(
        self,
        mask: np.ndarray,
        reason: str,
        *,
        pos: np.ndarray | None = None,
        expected: np.ndarray | None = None,
    ) -> None:
        """Record ``reason`` for the rows of ``mask`` that no earlier check has settled."""
        rows = mask & ~self.settled
        self.reason[rows] = reason_id(reason)
        if pos is not None:
            self.pos[rows] = pos[rows]
        if expected is not None:
            self.expected[rows] = expected[rows]
        self.settled |= rows

    def accept(self, mask: np.ndarray) -> None:
        """Declare the unsettled rows of ``mask`` valid; later checks leave them alone."""
        self.settled |= mask

    def put(self, rows: np.ndarray, other: Findings) -> None:
        """Overwrite ``rows`` with the findings ``other`` made about those rows alone."""
        self.reason[rows] = other.reason
        self.pos[rows] = other.pos
        self.expected[rows] = other.expected
        self.settled[rows] = other.settled

    def take(self, rows: np.ndarray) -> Findings:
        return Findings(self.reason[rows], self.pos[rows], self.expected[rows], self.settled[rows])


def reason_id(reason: str) -> int:
    return reasons.ALL.index(reason) + 1


def value_table(alphabet: str) -> np.ndarray:
    """Byte → index of the character in ``alphabet`` (its value), NOT_IN_ALPHABET elsewhere."""
    table = np.full(256, NOT_IN_ALPHABET, dtype=np.uint8)
    table[np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)] = np.arange(len(alphabet))
    return table


def char_table(alphabet: str) -> np.ndarray:
    """Value → byte of the character, the inverse of ``value_table``."""
    return np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8).copy()


DIGIT_VALUES = value_table("0123456789")

# The two bytes of every possible pair, for building tables indexed by ``pair_columns``.
PAIR_FIRST = np.arange(1 << 16) & 0xFF
PAIR_SECOND = np.arange(1 << 16) >> 8


def lookup(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for a 1-D contiguous ``index`` of unsigned integers within the table."""
    # Arrow's take reads 8- and 16-bit indices as they are; numpy's first widens them to intp, which
    # makes it three times slower on the hot path. Imported here, not at the top, because the
    # scalar modules import this one and must not load pyarrow.
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.take(pa.array(table), pa.array(index)).to_numpy()


def pair_columns(m: np.ndarray) -> np.ndarray:
    """An n×2k byte matrix as k×n pairs: row j holds bytes (a, b) of columns 2j, 2j+1 as a + 256·b.

    One lookup in a 65536-entry table then answers a question about two characters at once,
    which halves the number of (comparatively slow) gathers of a per-character lookup; and a
    gather with a contiguous index array runs faster than one with a strided column.
    """
    return np.ascontiguousarray(np.ascontiguousarray(m).view("<u2").T)


def pair_mask(first_ok: np.ndarray, second_ok: np.ndarray) -> np.ndarray:
    """65536-entry table: whether a pair's bytes satisfy ``first_ok`` and ``second_ok`` (256 each)."""
    return first_ok[PAIR_FIRST] & second_ok[PAIR_SECOND]


def row_all(ok: np.ndarray) -> np.ndarray:
    """Per row of a boolean matrix, whether every entry is true."""
    # einsum sums short rows several times faster than ndarray.all(axis=1) reduces them.
    return np.einsum("ij->i", ok.view(np.uint8)) == ok.shape[1]


def lookup_matrix(table: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``table[m]`` for a matrix of bytes (see ``lookup``)."""
    return lookup(table, np.ascontiguousarray(m).reshape(-1)).reshape(m.shape)


def digit_values(m: np.ndarray) -> np.ndarray:
    """The value of each digit of a byte matrix, NOT_IN_ALPHABET for any other byte."""
    return lookup_matrix(DIGIT_VALUES, m)


def allowed_mask(m: np.ndarray, allowed: Sequence[str]) -> np.ndarray:
    """Boolean matrix: whether the byte at each position is in ``allowed[position]``."""
    codes = m[:, : len(allowed)]
    ok = np.empty(codes.shape, dtype=bool)
    # One table lookup per distinct alphabet over all the positions that share it.
    for alphabet in dict.fromkeys(allowed):
        table = np.zeros(256, dtype=np.uint8)
        table[np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)] = 1
        columns = [i for i, a in enumerate(allowed) if a == alphabet]
        picked = codes if len(columns) == len(allowed) else codes[:, columns]
        ok[:, columns] = lookup_matrix(table, picked).view(bool)
    return ok


def bad_positions(m: np.ndarray, bad: np.ndarray, allowed: Sequence[str]) -> np.ndarray:
    """1-based position of the first byte outside ``allowed`` in the ``bad`` rows, 0 elsewhere."""
    pos = np.zeros(len(m), dtype=np.int16)
    rows = np.flatnonzero(bad)
    if rows.size:
        pos[rows] = first_false(allowed_mask(m[rows], allowed))[1]
    return pos


def first_false(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a false entry, and the 1-based position of the first one (0 elsewhere)."""
    bad = ~row_all(ok)
    pos = np.zeros(len(ok), dtype=np.int16)
    rows = np.flatnonzero(bad)
    pos[rows] = np.argmin(ok[rows], axis=1) + 1
    return bad, pos
