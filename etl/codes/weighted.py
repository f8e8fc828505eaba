"""Weighted sums modulo a number: the checksum scheme shared by GB 32100, GB 11714 and GB 11643.

Each of those standards multiplies the values of the characters by fixed weights and reduces the
sum modulo 31 (USCC) or 11 (organisation code, identity number); only the weights, the modulus and
the way the remainder becomes a character differ, and those stay in the code-specific modules.

>>> weighted_sum([9, 1, 1], (1, 3, 9), 31)
21
>>> weighted_sums(np.array([[9, 1, 1], [0, 0, 1]], dtype=np.uint8), (1, 3, 9), 31).tolist()
[21, 9]
>>> from etl.codes._matrix import pair_columns, value_table
>>> digits = value_table("0123456789")
>>> codes = np.frombuffer(b"9110" b"91X0", dtype=np.uint8).reshape(2, 4)
>>> pair_sums(pair_columns(codes), pair_tables(digits, (1, 3, 9), 31)).tolist()
[21, 1036]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from etl.codes._matrix import NOT_IN_ALPHABET, PAIR_FIRST, PAIR_SECOND, lookup

# The entry of a pair holding a byte without a value: above any sum of valid entries, so that a
# total ≥ INVALID flags a bad character, and small enough for 16-bit totals and short tables.
INVALID = 1 << 10


def weighted_sum(values: Iterable[int], weights: Sequence[int], modulus: int) -> int:
    """Sum of ``values`` times ``weights``, modulo ``modulus``."""
    return sum(v * w for v, w in zip(values, weights, strict=True)) % modulus


def weighted_sums(values: np.ndarray, weights: Sequence[int], modulus: int) -> np.ndarray:
    """Row-wise ``weighted_sum`` over a matrix of character values (one code per row)."""
    # einsum multiplies and sums without materialising a widened n×k copy; several times faster
    # than an integer matmul (which numpy does not hand to BLAS) or a loop over the columns.
    return np.einsum("ij,j->i", values, np.asarray(weights, dtype=np.int32)) % modulus


def pair_tables(values: np.ndarray, weights: Sequence[int], modulus: int) -> np.ndarray:
    """Tables for ``pair_sums``: the weighted values of every byte pair, for each pair of positions.

    ``values`` maps a byte to its value (NOT_IN_ALPHABET for bytes outside the alphabet); entry
    a + 256·b of table j is ``(weights[2j]·value(a) + weights[2j+1]·value(b)) mod modulus``, or
    INVALID when a or b has no value. An odd number of weights is padded with a 0, so the byte after
    the last weighted position is still required to be in the alphabet (it suits a trailing check
    character). Entries are reduced modulo ``modulus`` so that totals fit in 16 bits.
    """
    padded = (*weights, 0) if len(weights) % 2 else tuple(weights)
    if len(padded) // 2 * (modulus - 1) >= INVALID:
        raise ValueError("too many positions or too large a modulus for 16-bit pair sums")
    first = values[PAIR_FIRST].astype(np.int32)
    second = values[PAIR_SECOND].astype(np.int32)
    invalid = (first == NOT_IN_ALPHABET) | (second == NOT_IN_ALPHABET)
    weight_pairs = zip(padded[::2], padded[1::2], strict=True)
    tables = [np.where(invalid, INVALID, (w1 * first + w2 * second) % modulus) for w1, w2 in weight_pairs]
    return np.stack(tables).astype(np.uint16)


def remainder_table(tables: np.ndarray, modulus: int, char_of_remainder: np.ndarray) -> np.ndarray:
    """Every total ``pair_sums`` can return over ``tables`` → ``char_of_remainder[total % modulus]``.

    A lookup by total replaces an integer modulo, which numpy computes by a slow division.
    """
    return char_of_remainder[np.arange(len(tables) * INVALID + 1) % modulus]


def pair_sums(pairs: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """Per code, the sum of its pairs' table entries over its ``pair_columns`` (reduce it with
    ``remainder_table``); ≥ INVALID where a byte has no value."""
    if len(tables) == 1:
        return lookup(tables[0], pairs[0]).copy()
    # The first addition makes the (writable) array the others are added to.
    total = lookup(tables[0], pairs[0]) + lookup(tables[1], pairs[1])
    for j in range(2, len(tables)):
        total += lookup(tables[j], pairs[j])
    return total
