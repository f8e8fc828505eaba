"""Column helpers: do per-value Python work once per distinct value, not once per row.

Generated columns repeat a lot (subjects, dates, amounts come from small pools), which is what
keeps a million-row delivery fast.

>>> import numpy as np
>>> map_distinct(np.array(["a", "bb", "a"], dtype=object), len, np.int64)
array([1, 2, 1])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def map_distinct(values: np.ndarray, fn: Callable[[Any], Any], dtype: Any = object) -> np.ndarray:
    """``fn`` of each value, computed once per distinct value."""
    import pandas as pd

    if len(values) == 0:
        return np.empty(0, dtype=dtype)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    results = [fn(v) for v in np.asarray(uniques).tolist()]
    if dtype is object:  # a trailing None keeps numpy from splitting sequences into dimensions
        return np.array([*results, None], dtype=object)[:-1][codes]
    return np.array(results, dtype=dtype)[codes]


def mask_distinct(values: np.ndarray, predicate: Callable[[Any], bool]) -> np.ndarray:
    """``predicate`` of each value as a boolean array, computed once per distinct value."""
    return map_distinct(values, lambda v: bool(predicate(v)), dtype=bool)
