"""Quarantine records as staged (``REJECTED_SCHEMA``): each rejected row as delivered, and why.

``raw_json`` is the row as a JSON object (keys: the canonical field names in the order of conform's
``raw`` table, values the cell strings or null); ``reasons_json`` the JSON list of the row's
``{field, rule, value, message}`` in the order the reasons were given. DuckDB writes both
(``to_json`` over the Arrow tables, on the thread's scratch connection), not ``json.dumps`` per
row: the 40,000 rejected rows of the 1M-row benchmark took 0.7-0.9 s holding the GIL that way, and
take 0.15 s in one call or 0.3 s in their twenty 50,000-row batches, mostly outside it. Its JSON is
compact and parses to what ``json.dumps(..., ensure_ascii=False)`` wrote: quotes, backslashes and
control characters escaped, every other character kept as UTF-8 (conform has already written a NUL
as the text ``\\x00``, which PostgreSQL needs); ``tests/warehouse/test_quarantine_rows.py`` keeps
the old writer as its oracle.

>>> raw = pa.table({"subject_name": ['柳州市"某某"公司'], "uscc": pa.nulls(1, pa.string())})
>>> reasons = pa.table({"row": [7], "field": ["uscc"], "rule": ["required"], "value": [None],
...                     "message": ["统一社会信用代码为必填项，请补充"]})
>>> staged = rejected_table("d1", raw, pa.array([7]), reasons)
>>> print(staged.column("raw_json")[0])
{"subject_name":"柳州市\\"某某\\"公司","uscc":null}
>>> print(staged.column("reasons_json")[0])
[{"field":"uscc","rule":"required","value":null,"message":"统一社会信用代码为必填项，请补充"}]
>>> print(unreadable_table("d1", [(9, "第 9 行有 3 列")]).column("reasons_json")[0])
[{"field":null,"rule":"RAGGED_ROW","value":null,"message":"第 9 行有 3 列"}]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from etl.errors import WarehouseError
from etl.warehouse.scratch_duckdb import registered
from etl.warehouse.staging import REJECTED_SCHEMA

# The table alias holds a space, so no canonical field name (a plain SQL identifier) can shadow it.
_RAW_JSON_SQL = 'SELECT to_json("delivered row") FROM _quarantine_raw AS "delivered row"'
# Each reason's object is written on its own and the row's joined with commas: a third faster than
# to_json over a list of structs.
_REASONS_JSON_SQL = """
SELECT '[' || coalesce(grouped.reasons, '') || ']'
FROM _quarantine_rows AS numbers
LEFT JOIN (
    SELECT "row",
           string_agg(to_json({'field': "field", 'rule': "rule", 'value': "value", 'message': "message"}),
                      ',' ORDER BY "position") AS reasons
    FROM _quarantine_reasons
    GROUP BY "row"
) AS grouped USING ("row")
ORDER BY numbers."position"
"""
_UNREADABLE_JSON_SQL = """
SELECT to_json([{'field': NULL::VARCHAR, 'rule': 'RAGGED_ROW', 'value': NULL::VARCHAR, 'message': message}])
FROM _unreadable_rows
"""


def rejected_table(
    delivery_id: str, raw: pa.Table, rows: pa.Array | pa.ChunkedArray | Sequence[int], reasons: pa.Table
) -> pa.Table:
    """The quarantine records of the rejected rows ``raw`` (source rows ``rows``, aligned with it).

    ``reasons`` has columns row, field, rule, value, message (``etl.validate`` ``REASON_SCHEMA``); a
    row gets every reason naming its source row, and ``[]`` if none does.
    """
    numbers = _int64(rows)
    if len(numbers) != raw.num_rows:
        raise WarehouseError(f"{len(numbers)} source rows for {raw.num_rows} rejected rows")
    if not raw.num_rows:
        return REJECTED_SCHEMA.empty_table()
    return _staged(delivery_id, numbers, _raw_json(raw), _reasons_json(numbers, reasons))


def unreadable_table(delivery_id: str, bad_rows: Sequence[tuple[int, str]]) -> pa.Table:
    """The quarantine records of rows the reader could not split into cells: (source row, message)."""
    if not bad_rows:
        return REJECTED_SCHEMA.empty_table()
    numbers = pa.array([row for row, _ in bad_rows], pa.int64())
    messages = pa.table({"message": pa.array([message for _, message in bad_rows], pa.string())})
    with registered(_unreadable_rows=messages) as connection:
        reasons = connection.sql(_UNREADABLE_JSON_SQL).to_arrow_table().column(0)
    return _staged(delivery_id, numbers, pa.array(["{}"] * len(bad_rows), pa.string()), reasons)


def _raw_json(raw: pa.Table) -> pa.ChunkedArray:
    # Without ORDER BY, DuckDB keeps a plain projection in the scanned table's order
    # (preserve_insertion_order, on by default).
    with registered(_quarantine_raw=raw) as connection:
        return connection.sql(_RAW_JSON_SQL).to_arrow_table().column(0)


def _reasons_json(numbers: pa.Array, reasons: pa.Table) -> pa.ChunkedArray:
    positions = pa.table({"position": np.arange(len(numbers)), "row": numbers})
    given = reasons.select(["row", "field", "rule", "value", "message"])
    given = given.append_column("position", pa.array(np.arange(given.num_rows)))
    with registered(_quarantine_rows=positions, _quarantine_reasons=given) as connection:
        return connection.sql(_REASONS_JSON_SQL).to_arrow_table().column(0)


def _int64(rows: pa.Array | pa.ChunkedArray | Sequence[int]) -> pa.Array:
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    return rows.cast(pa.int64()) if isinstance(rows, pa.Array) else pa.array(rows, pa.int64())


def _staged(
    delivery_id: str, numbers: pa.Array, raw_json: pa.ChunkedArray | pa.Array, reasons_json: pa.ChunkedArray
) -> pa.Table:
    count = len(numbers)
    return pa.Table.from_arrays(
        [
            pa.repeat(pa.scalar(delivery_id, pa.string()), count),
            numbers,
            raw_json.cast(pa.string()),
            reasons_json.cast(pa.string()),
        ],
        schema=REJECTED_SCHEMA,
    )
