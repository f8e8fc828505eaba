"""From what the checks found to the reasons a clerk reads: one row per (source row, problem).

Each finding becomes a reason with the catalog ``field`` it is about, a ``rule`` id, the ``value``
as delivered (trimmed; masked for personal fields, so identity numbers never appear in full), and a
Chinese ``message`` filled in from the template in the expectation's ``meta``. Code checks report
the precise reason of ``etl.codes`` (e.g. ``USCC_BAD_CHECK``) as their rule, with its message.

>>> fill("{title}「{value}」", {"title": "处罚类别", "value": "罚金"})
'处罚类别「罚金」'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.catalog import Dataset
from etl.validate import rules

if TYPE_CHECKING:
    from etl.validate.gx_sample import GxSample

REASON_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("field", pa.string()),
        ("rule", pa.string()),
        ("value", pa.string()),
        ("message", pa.string()),
    ]
)
CODE_KINDS = ("uscc", "orgcode", "regno", "idcard")


@dataclass(frozen=True)
class ExpectationOutcome:
    """The rows (0-based positions in the batch) one expectation found unexpected, from either engine."""

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    rows: np.ndarray


@dataclass(frozen=True)
class Verdicts:
    """The verdict on each row of a batch.

    ``rejected`` is aligned with the batch's rows; ``reasons`` holds every reason of every rejected
    row (``REASON_SCHEMA``), ordered by row; a row that is not rejected has no reasons.
    ``gx_sample`` is GX's result on the delivery's sample, on the batch it was taken from.
    """

    rejected: pa.BooleanArray
    reasons: pa.Table
    gx_sample: GxSample | None = None

    @property
    def rejected_count(self) -> int:
        return int(pc.sum(self.rejected).as_py() or 0)


class BatchView:
    """The columns a reason is rendered from: source rows, delivered cells, typed values."""

    def __init__(self, rows: pa.Array, raw: pa.Table, typed: pa.Table, dataset: Dataset) -> None:
        self.rows = rows.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        self.raw = raw
        self.typed = typed
        self.dataset = dataset

    def typed_values(self, field: str, positions: np.ndarray) -> pa.Array:
        if field not in self.typed.column_names:
            return pa.nulls(len(positions), pa.string())
        return rules.as_array(self.typed[field]).take(pa.array(positions, pa.int64()))

    def shown(self, field: str, positions: np.ndarray) -> list[str | None]:
        """The cells as delivered (trimmed), masked where the field is personal."""
        if field in self.raw.column_names:
            values = rules.as_array(self.raw[field]).take(pa.array(positions, pa.int64()))
            values = values.cast(pa.string()) if values.type != pa.string() else values
            values = pc.utf8_trim_whitespace(values)
        else:
            values = self.typed_values(field, positions).cast(pa.string())
        if self.dataset.field(field).is_personal:
            from etl.codes import mask_idcards

            values = mask_idcards(values)
        return values.to_pylist()


def fill(template: str, values: Mapping[str, Any]) -> str:
    """The template with its placeholders filled (a missing value reads as empty)."""
    return template.format_map({k: "" if v is None else v for k, v in values.items()})


def reasons_table(
    rows: Sequence[int],
    fields: Sequence[str],
    rule: Sequence[str] | str,
    values: Sequence[str | None],
    messages: Sequence[str],
) -> pa.Table:
    n = len(rows)
    rules_column = [rule] * n if isinstance(rule, str) else list(rule)
    return pa.Table.from_arrays(
        [
            pa.array(rows, pa.int64()),
            pa.array(fields, pa.string()),
            pa.array(rules_column, pa.string()),
            pa.array(values, pa.string()),
            pa.array(messages, pa.string()),
        ],
        schema=REASON_SCHEMA,
    )


def outcome_reasons(outcome: ExpectationOutcome, view: BatchView) -> pa.Table:
    """The reasons for the rows one expectation found unexpected."""
    positions = outcome.rows
    meta = outcome.meta
    field, rule, template = meta["field"], meta["rule"], meta["message"]
    source_rows = view.rows[positions]
    if not len(positions):
        return REASON_SCHEMA.empty_table()
    if rule in CODE_KINDS:
        return _code_reasons(outcome, view)
    if outcome.type == "expect_columns_to_be_filled_when":
        return _require_reasons(outcome, view)
    shown = view.shown(field, positions)
    per_row: list[dict[str, Any]] = [{"value": value} for value in shown]
    if "{length}" in template:
        lengths = pc.utf8_length(view.typed_values(field, positions).cast(pa.string())).to_pylist()
        for entry, length in zip(per_row, lengths, strict=True):
            entry["length"] = length
    if "{items}" in template:
        allowed = meta["allowed"]
        typed = view.typed_values(field, positions).to_pylist()
        for entry, value in zip(per_row, typed, strict=True):
            bad = rules.disallowed_items(
                value or "", allowed["values"], allowed["prefixes"], allowed["separator"]
            )
            entry["items"] = "、".join(item or "（空项）" for item in bad)
    if "compare" in meta:
        left, right = meta["compare"]["left"], meta["compare"]["right"]
        for entry, lv, rv in zip(
            per_row, view.shown(left, positions), view.shown(right, positions), strict=True
        ):
            entry["left"], entry["right"] = lv, rv
    messages = [fill(template, entry) for entry in per_row]
    return reasons_table(source_rows, [field] * len(positions), rule, shown, messages)


def _code_reasons(outcome: ExpectationOutcome, view: BatchView) -> pa.Table:
    field, kind, template = outcome.meta["field"], outcome.meta["rule"], outcome.meta["message"]
    positions = outcome.rows
    codes, details = rules.code_messages(view.typed_values(field, positions), kind)
    shown = view.shown(field, positions)
    messages = [
        fill(template, {"detail": detail, "value": value})
        for detail, value in zip(details, shown, strict=True)
    ]
    return reasons_table(view.rows[positions], [field] * len(positions), codes, shown, messages)


def _require_reasons(outcome: ExpectationOutcome, view: BatchView) -> pa.Table:
    """One reason per row, on the first required field the row lacks."""
    positions = outcome.rows
    required = outcome.kwargs["required"]
    missing = np.column_stack([~rules.filled(view.typed_values(name, positions)) for name in required])
    fields = [required[i] for i in np.argmax(missing, axis=1)]
    messages = [outcome.meta["message"]] * len(positions)
    return reasons_table(
        view.rows[positions], fields, outcome.meta["rule"], [None] * len(positions), messages
    )


def duplicate_reasons(earlier: np.ndarray, view: BatchView, dedup: Mapping[str, Any]) -> pa.Table:
    """Reasons for rows whose deduplication key appeared in an earlier row (``earlier`` ≥ 0)."""
    positions = np.flatnonzero(earlier >= 0)
    if not len(positions):
        return REASON_SCHEMA.empty_table()
    field = dedup["field"]
    messages = [fill(dedup["message"], {"first_row": int(row)}) for row in earlier[positions]]
    return reasons_table(
        view.rows[positions], [field] * len(positions), dedup["rule"], view.shown(field, positions), messages
    )


def conform_reasons(issues: pa.Table, dataset: Dataset) -> pa.Table:
    """Conform's cell issues of severity ``error`` as reasons (``normalised`` ones reject nothing)."""
    errors = issues.filter(pc.equal(issues["severity"], "error"))
    values = rules.as_array(errors["value"]).cast(pa.string())
    personal = [f.name for f in dataset.fields if f.is_personal]
    if personal and len(errors):
        from etl.codes import mask_idcards

        # Conform masks personal values already; masking is idempotent, and this stage guarantees it.
        is_personal = pc.is_in(rules.as_array(errors["field"]), value_set=pa.array(personal, pa.string()))
        values = pc.if_else(is_personal, mask_idcards(values), values)
    return pa.Table.from_arrays(
        [
            rules.as_array(errors["row"]).cast(pa.int64()),
            rules.as_array(errors["field"]).cast(pa.string()),
            rules.as_array(errors["rule"]).cast(pa.string()),
            values,
            rules.as_array(errors["message"]).cast(pa.string()),
        ],
        schema=REASON_SCHEMA,
    )


def merge(conform: pa.Table, found: Sequence[pa.Table]) -> pa.Table:
    """All reasons ordered by row (conform's first within a row, then in check order).

    A check's reason about a cell conform already rejected is dropped: the cell could not be typed,
    so "required" or a rule about it would only repeat conform's clearer message.
    """
    checks = pa.concat_tables([REASON_SCHEMA.empty_table(), *found])
    if len(conform) and len(checks):
        bad_cells = {
            (r, f) for r, f in zip(conform["row"].to_pylist(), conform["field"].to_pylist(), strict=True)
        }
        keep = [
            (r, f) not in bad_cells
            for r, f in zip(checks["row"].to_pylist(), checks["field"].to_pylist(), strict=True)
        ]
        checks = checks.filter(pa.array(keep, pa.bool_()))
    merged = pa.concat_tables([conform, checks])
    order = np.argsort(merged["row"].to_numpy(), kind="stable")
    return merged.take(pa.array(order, pa.int64()))


def rejected_mask(rows: np.ndarray, reasons: pa.Table) -> pa.BooleanArray:
    """Per batch row: whether any reason names its source row."""
    rejected_rows = np.unique(reasons["row"].to_numpy())
    return pa.array(np.isin(rows, rejected_rows), pa.bool_())
