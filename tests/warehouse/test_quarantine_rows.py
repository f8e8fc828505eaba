"""Quarantine records written by DuckDB parse to what json.dumps wrote, on the awkward cells clerks send."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from etl.errors import WarehouseError
from etl.warehouse.quarantine_rows import rejected_table, unreadable_table
from etl.warehouse.staging import REJECTED_SCHEMA

CONTROLS = "".join(chr(c) for c in range(0x20)) + "\x7f"
AWKWARD = [
    'say "hi"',
    "back\\slash \\n \\u0041",
    "line\nbreak\r\nand\ttab",
    CONTROLS,
    "当事人\x1b销售",
    "\\x00 as conform writes a NUL",
    "😀 emoji 👨‍👩‍👧 and 柳州市螺蛳粉",
    "\u2028\u2029\ufeff\u00a0\u200b",
    "e\u0301 combining, Ω",
    "</script>",
    "",
    " ",
    None,
]


def old_rejected(delivery_id: str, raw: pa.Table, rows: pa.Array, reasons: pa.Table) -> pa.Table:
    """The writer ``etl.pipeline`` used before (``_rejected_rows``): the oracle."""
    by_row: dict[int, list[dict[str, Any]]] = {}
    for reason in reasons.to_pylist():
        by_row.setdefault(reason["row"], []).append(
            {k: reason[k] for k in ("field", "rule", "value", "message")}
        )
    numbers = rows.to_pylist()
    return pa.Table.from_pydict(
        {
            "delivery_id": [delivery_id] * len(numbers),
            "source_row": numbers,
            "raw_json": [json.dumps(cells, ensure_ascii=False) for cells in raw.to_pylist()],
            "reasons_json": [json.dumps(by_row.get(n, []), ensure_ascii=False) for n in numbers],
        },
        schema=REJECTED_SCHEMA,
    )


def old_unreadable(delivery_id: str, bad_rows: list[tuple[int, str]]) -> pa.Table:
    """The writer ``etl.pipeline`` used before (``_unreadable_rows``): the oracle."""
    return pa.Table.from_pydict(
        {
            "delivery_id": [delivery_id] * len(bad_rows),
            "source_row": [row for row, _ in bad_rows],
            "raw_json": ["{}"] * len(bad_rows),
            "reasons_json": [
                json.dumps(
                    [{"field": None, "rule": "RAGGED_ROW", "value": None, "message": message}],
                    ensure_ascii=False,
                )
                for _, message in bad_rows
            ],
        },
        schema=REJECTED_SCHEMA,
    )


def parsed(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows with their JSON parsed keeping key order (a dict compares equal in any order)."""
    return [
        (
            row["delivery_id"],
            row["source_row"],
            json.loads(row["raw_json"], object_pairs_hook=list),
            json.loads(row["reasons_json"], object_pairs_hook=list),
        )
        for row in table.to_pylist()
    ]


def reasons_table(reasons: list[tuple[int, str | None, str, str | None, str]]) -> pa.Table:
    names = ("row", "field", "rule", "value", "message")
    types = (pa.int64(), pa.string(), pa.string(), pa.string(), pa.string())
    columns = zip(*reasons, strict=True)
    return pa.table([pa.array(column, t) for column, t in zip(columns, types, strict=True)], names=names)


def awkward_batch() -> tuple[pa.Table, pa.Array, pa.Table]:
    # Field names out of alphabetical order: the keys must keep the raw table's column order.
    count = len(AWKWARD)
    raw = pa.table(
        {
            "subject_name": AWKWARD,
            "uscc": list(reversed(AWKWARD)),
            "absent": pa.nulls(count, pa.string()),
            "decision_no": [f"柳市监罚〔2026〕{i}号" for i in range(count)],
        }
    )
    rows = pa.array([40 + 3 * i if i % 2 else 900 - i for i in range(count)], pa.int64())
    numbers = rows.to_pylist()
    given = [
        (numbers[i], "subject_name", "NOT_ALLOWED", AWKWARD[i], f"「{AWKWARD[i]}」不在允许值内")
        for i in range(count)
    ]
    # Several reasons for one row, given out of row order; one row with none; one reason for a row
    # that is not in the batch (ignored).
    given += [
        (numbers[0], "uscc", "USCC_BAD_CHECK", CONTROLS, '校验码错误 "\\"'),
        (numbers[0], None, "DUPLICATE", None, "与第 3 行重复"),
        (12345, "uscc", "required", None, "不在本批"),
    ]
    given = [reason for reason in given if reason[0] != numbers[1]]
    return raw, rows, reasons_table(list(reversed(given[:4])) + given[4:])


def test_rejected_rows_parse_as_the_old_writers() -> None:
    raw, rows, reasons = awkward_batch()
    new = rejected_table("admin_penalty:scjg:ab12", raw, rows, reasons)
    assert new.schema == REJECTED_SCHEMA
    assert parsed(new) == parsed(old_rejected("admin_penalty:scjg:ab12", raw, rows, reasons))
    pairs = zip(new["source_row"].to_pylist(), new["reasons_json"].to_pylist(), strict=True)
    reasons_of = {row: json.loads(text) for row, text in pairs}
    assert reasons_of[rows[1].as_py()] == []
    assert [r["rule"] for r in reasons_of[rows[0].as_py()]] == ["NOT_ALLOWED", "USCC_BAD_CHECK", "DUPLICATE"]


def test_non_ascii_is_kept_as_utf8_and_controls_escaped() -> None:
    raw, rows, reasons = awkward_batch()
    text = "".join(rejected_table("d", raw, rows, reasons)["raw_json"].to_pylist())
    assert "柳州市螺蛳粉" in text and "😀" in text and "\\u" not in text.replace("\\u00", "")
    assert not any(chr(c) in text for c in range(0x20))


def test_many_chunks_keep_their_order() -> None:
    count = 60_000
    starts = range(0, count, 1000)
    chunks = [pa.table({"n": [str(i) for i in range(s, s + 1000)], "v": ['"'] * 1000}) for s in starts]
    raw = pa.concat_tables(chunks)
    rows = pa.chunked_array(
        [pa.array(range(start, start + 1000), pa.int64()) for start in range(0, count, 1000)]
    )
    reasons = reasons_table([(i, "n", "r", str(i), "m") for i in range(count - 1, -1, -7)])
    new = rejected_table("d", raw, rows, reasons)
    assert parsed(new) == parsed(old_rejected("d", raw, rows.combine_chunks(), reasons))


def test_no_rejected_rows() -> None:
    raw, _, reasons = awkward_batch()
    empty = rejected_table("d", raw.slice(0, 0), pa.array([], pa.int64()), reasons)
    assert empty.schema == REJECTED_SCHEMA and empty.num_rows == 0


def test_rows_must_match_the_raw_rows() -> None:
    raw, rows, reasons = awkward_batch()
    with pytest.raises(WarehouseError):
        rejected_table("d", raw, rows[:-1], reasons)


def test_unreadable_rows_parse_as_the_old_writers() -> None:
    bad_rows = [(7 + i, f"第 {7 + i} 行无法分列：{value or ''}") for i, value in enumerate(AWKWARD)]
    new = unreadable_table("d", bad_rows)
    assert new.schema == REJECTED_SCHEMA
    assert parsed(new) == parsed(old_unreadable("d", bad_rows))
    assert unreadable_table("d", []).num_rows == 0
