"""Weighted sums modulo a number: the checksum scheme shared by GB 32100, GB 11714 and GB 11643.

Each of those standards multiplies the values of the characters by fixed weights and reduces the
sum modulo 31 (USCC) or 11 (organisation code, identity number); only the weights, the modulus and
the way the remainder becomes a character differ, and those stay in the code-specific modules.

>>> weighted_sum([9, 1, 1], (1, 3, 9), 31)
21
>>> weighted_sums(np.array([[9, 1, 1], [0, 0, 1]], dtype=np.uint8), (1, 3, 9), 31).tolist()
[21, 9]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def weighted_sum(values: Iterable[int], weights: Sequence[int], modulus: int) -> int:
    """Sum of ``values`` times ``weights``, modulo ``modulus``."""
    return sum(v * w for v, w in zip(values, weights, strict=True)) % modulus


def weighted_sums(values: np.ndarray, weights: Sequence[int], modulus: int) -> np.ndarray:
    """Row-wise ``weighted_sum`` over a matrix of character values (one code per row)."""
    # Column by column keeps the intermediate at n int32s instead of an n×k widened copy; with
    # k ≤ 17 this beats an integer matmul, which numpy does not hand to BLAS.
    total = np.zeros(values.shape[0], dtype=np.int32)
    for column, weight in enumerate(weights):
        total += values[:, column].astype(np.int32) * weight
    return total % modulus
