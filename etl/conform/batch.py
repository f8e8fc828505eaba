"""One raw batch -> canonical columns, typed, with the issues typing found.

``conform_batch`` keeps two views of the same rows: ``raw`` (the cells exactly as delivered, named by
catalog field, for quarantine and feedback files; only a NUL is written out as ``\\x00``) and
``typed`` (every catalog field, typed and normalised, for validation and the warehouse). Conform only
types and normalises: whether a value is required, allowed, long enough or a valid code is for
``etl.validate`` to say.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from etl.catalog import CatalogField, Condition, Dataset
from etl.conform import issues as cell_issues
from etl.conform.headers import HeaderMapping
from etl.conform.values import (
    DECIMAL_TYPE,
    clean_strings,
    control_characters,
    parse_dates,
    parse_decimals,
    parse_integers,
)

ROW = "_row"
_DISTINCT_SAMPLE = 2000

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "date": pa.date32(),
    "decimal": DECIMAL_TYPE,
    "integer": pa.int64(),
    "uscc": pa.string(),
    "orgcode": pa.string(),
    "regno": pa.string(),
    "idcard": pa.string(),
}


@dataclass(frozen=True)
class ConformedBatch:
    """``rows`` are the clerk's row numbers; ``raw`` and ``typed`` have one column per catalog field.

    ``issues`` has columns row, field, value, rule, message, severity ("error" | "normalised").
    """

    rows: pa.Int64Array
    raw: pa.Table
    typed: pa.Table
    issues: pa.Table


def typed_schema(dataset: Dataset) -> pa.Schema:
    """The schema of ``ConformedBatch.typed`` for ``dataset``."""
    return pa.schema([(f.name, ARROW_TYPES[f.type]) for f in dataset.fields])


def raw_schema(dataset: Dataset) -> pa.Schema:
    """The schema of ``ConformedBatch.raw`` for ``dataset``: every field as delivered text."""
    return pa.schema([(f.name, pa.string()) for f in dataset.fields])


def conform_batch(batch: pa.RecordBatch, mapping: HeaderMapping, dataset: Dataset) -> ConformedBatch:
    """Name, normalise and type one raw batch (``c0, c1, …, _row``) of a delivery of ``dataset``.

    >>> from etl.catalog import load_catalog
    >>> from etl.conform.headers import map_headers
    >>> dataset = load_catalog().datasets["admin_penalty"]
    >>> headers = [f.title for f in dataset.fields]
    >>> cells = {f"c{i}": pa.array([None], pa.string()) for i in range(len(headers))}
    >>> cells[f"c{headers.index('处罚决定日期')}"] = pa.array(["2026年13月1日"])
    >>> batch = pa.RecordBatch.from_pydict({**cells, "_row": pa.array([2], pa.int64())})
    >>> result = conform_batch(batch, map_headers(headers, dataset), dataset)
    >>> result.issues.column("message").to_pylist()
    ['处罚决定日期「2026年13月1日」不是有效日期，请按 2026-10-08 格式填写']
    """
    rows = batch.column(ROW)
    count = batch.num_rows
    raw: dict[str, pa.Array] = {}
    cleaned: dict[str, pa.Array] = {}
    for catalog_field in dataset.fields:
        position = mapping.positions.get(catalog_field.name)
        if position is None:
            raw[catalog_field.name] = pa.nulls(count, pa.string())
        else:
            raw[catalog_field.name] = batch.column(f"c{position}")
            cleaned[catalog_field.name] = clean_strings(raw[catalog_field.name])

    typed: dict[str, pa.Array] = {}
    found: list[pa.Table] = []
    for catalog_field in dataset.fields:
        name = catalog_field.name
        if name not in cleaned:
            typed[name] = pa.nulls(count, ARROW_TYPES[catalog_field.type])
            continue
        typed[name], issues = _type_column(catalog_field, raw[name], cleaned, rows)
        if issues.num_rows:
            found.append(issues)
        if (controls := control_characters(raw[name])) is not None:
            found.append(cell_issues.control_character_issues(rows, catalog_field, raw[name], controls))
            # PostgreSQL text cannot hold NUL, nor can its JSON operators read a \u0000 escape: the
            # quarantined copy of the cell shows it as \x00 (the delivered bytes are archived as they are).
            raw[name] = pc.replace_substring(raw[name], "\x00", "\\x00")

    issues_table = pa.concat_tables(found) if found else cell_issues.empty_issues()
    return ConformedBatch(
        rows=rows,
        raw=pa.table(raw, schema=raw_schema(dataset)),
        typed=pa.table(typed, schema=typed_schema(dataset)),
        issues=issues_table,
    )


def _type_column(
    catalog_field: CatalogField, raw: pa.Array, cleaned: dict[str, pa.Array], rows: pa.Array
) -> tuple[pa.Array, pa.Table]:
    values = cleaned[catalog_field.name]
    if catalog_field.type == "date":
        typed, reasons = parse_dates(values)
    elif catalog_field.type == "decimal":
        typed, reasons = parse_decimals(values, catalog_field.unit)
    elif catalog_field.type == "integer":
        typed, reasons = parse_integers(values)
    elif catalog_field.is_code:
        return _type_code(catalog_field, raw, cleaned, rows)
    else:
        return values, cell_issues.empty_issues()
    return typed, cell_issues.typing_issues(rows, catalog_field, raw, reasons)


def _type_code(
    catalog_field: CatalogField, raw: pa.Array, cleaned: dict[str, pa.Array], rows: pa.Array
) -> tuple[pa.Array, pa.Table]:
    """Normalise a code column with etl.codes; with ``type_when``, only where the condition holds."""
    values = cleaned[catalog_field.name]
    applies = None
    if catalog_field.type_when is not None:
        applies = _condition_holds(catalog_field.type_when, cleaned, len(values))
        values = pc.if_else(applies, values, pa.scalar(None, pa.string()))
    if values.null_count == len(values):
        return cleaned[catalog_field.name], cell_issues.empty_issues()
    normalised, changed = normalise_codes(values, catalog_field.type)
    typed = normalised if applies is None else pc.if_else(applies, normalised, cleaned[catalog_field.name])
    return typed, cell_issues.normalised_code_issues(rows, catalog_field, raw, normalised, changed)


def normalise_codes(values: pa.Array, kind: str) -> tuple[pa.Array, pa.Array]:
    """``etl.codes.check(values, kind)``'s normalised codes and whether normalisation changed them.

    Columns that repeat a few codes (the authority's own code on every row) are checked once per
    distinct value; a sample of the column decides whether that pays for the dictionary encoding.
    """
    from etl.codes import check

    sample = values.slice(0, _DISTINCT_SAMPLE)
    if pc.count_distinct(sample).as_py() * 2 > len(sample):
        verdicts = check(values, kind)
        return verdicts.normalised, verdicts.normalised_changed
    encoded = pc.dictionary_encode(values)
    verdicts = check(encoded.dictionary, kind)
    indices = encoded.indices
    return pc.take(verdicts.normalised, indices), pc.take(verdicts.normalised_changed, indices)


def _condition_holds(condition: Condition, cleaned: dict[str, pa.Array], count: int) -> pa.Array:
    """Where ``condition`` holds (false where its field is empty or not delivered)."""
    values = cleaned.get(condition.field)
    if values is None:
        return pa.array([False] * count, pa.bool_())
    if condition.equals is not None:
        holds = pc.equal(values, condition.equals)
    elif condition.in_ is not None:
        holds = pc.is_in(values, value_set=pa.array(condition.in_, pa.string()))
    else:
        holds = pc.match_substring(values, condition.contains)
    return pc.fill_null(holds, False)
