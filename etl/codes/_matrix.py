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


def first_bad(m: np.ndarray, allowed: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a character outside ``allowed[position]``, and the 1-based first such position."""
    table = np.zeros((len(allowed), 256), dtype=bool)
    for position, chars in enumerate(allowed):
        table[position, np.frombuffer(chars.encode("ascii"), dtype=np.uint8)] = True
    width = len(allowed)
    ok = table[np.arange(width), m[:, :width]]
    bad = ~ok.all(axis=1)
    return bad, (np.argmin(ok, axis=1) + 1).astype(np.int16)
