"""The typed batch by catalog field, as the checks read it: every field, one contiguous Arrow array.

A field the delivery did not have is a column of nulls of the field's type, so a suite sees every
column it names whatever the file held (GX sees the same through ``gx_runner.gx_frame``).

>>> import pyarrow as pa
>>> from etl.catalog import load_catalog
>>> batch = pa.table({"uscc": ["91110000600037341L", None]})
>>> columns = Columns.of_batch(batch, load_catalog().datasets["admin_penalty"])
>>> columns["uscc"].null_count, columns["decision_date"].type, len(columns.where([False, True]))
(1, DataType(date32[day]), 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from etl.catalog import Dataset
from etl.validate.rules import as_array


def typed_column(typed: pa.Table, dataset: Dataset, name: str) -> pa.ChunkedArray | pa.Array:
    """Field ``name`` of the typed batch, or nulls of its type when the batch lacks it."""
    if name in typed.column_names:
        return typed[name]
    from etl.conform import ARROW_TYPES

    return pa.nulls(len(typed), ARROW_TYPES[dataset.field(name).type])


class Columns:
    """Columns by field name, each read once (made contiguous) and kept; ``where`` selects rows."""

    def __init__(self, length: int, read: Callable[[str], pa.Array]) -> None:
        self._length = length
        self._read = read
        self._cache: dict[str, pa.Array] = {}

    @classmethod
    def of_batch(cls, typed: pa.Table, dataset: Dataset) -> Columns:
        return cls(len(typed), lambda name: as_array(typed_column(typed, dataset, name)))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, name: str) -> pa.Array:
        if name not in self._cache:
            self._cache[name] = self._read(name)
        return self._cache[name]

    def where(self, mask: np.ndarray | Sequence[bool]) -> Columns:
        """The rows where ``mask`` is true; a column is filtered when it is first read."""
        keep = pa.array(mask, pa.bool_())
        return Columns(int(np.count_nonzero(mask)), lambda name: self[name].filter(keep))
