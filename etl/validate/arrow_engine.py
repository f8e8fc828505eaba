"""The verdicts of a committed GX suite without GX: each expectation evaluated over Arrow columns.

``compile_suite`` reads a suite (the dict of ``expectations/<dataset>.json``) once into checks;
``outcomes`` runs them over a typed batch and returns, per expectation and in suite order, the
rows it finds unexpected: the same ``ExpectationOutcome`` list that ``gx_runner.outcomes`` makes of
a GX result, so both engines feed the same reasons (``etl.validate.verdicts``).

What an expectation decides is written once, in ``etl.validate.rules``: the custom expectations call
the same functions inside GX, and GX's five core expectations have Arrow twins there. Around them
this module applies GX's rules for which rows an expectation looks at (pandas engine, GX 1.x):

- ``row_condition`` (a comparison, ``==`` or ``IN``): only the rows where it holds; a null
  holds no condition (GX selects them with ``DataFrame.query``);
- a column expectation other than not-null skips nulls (each rule lets a null pass);
- the pair expectation, with ``ignore_row_if="either_value_is_missing"``, skips rows with a null;
- a multicolumn expectation, ``ignore_row_if="never"``, sees every row;
- ``mostly`` decides GX's success, not which rows are unexpected: it changes no verdict.

A suite this module cannot read exactly — an expectation type or argument it does not know,
another form of row condition, a length or pattern check on a column that is not text — raises
``UnsupportedExpectation`` when compiled. It never lets rows through unchecked.

>>> from etl.catalog import load_catalog
>>> from etl.validate import current_suite
>>> from etl.validate.columns import Columns
>>> dataset = load_catalog().datasets["admin_penalty"]
>>> checks = compile_suite(current_suite(dataset), dataset)
>>> batch = pa.table({"subject_category": ["自然人", "法人"], "id_type": ["身份证", None]})
>>> [(o.type, o.rows.tolist()) for o in outcomes(Columns.of_batch(batch, dataset), checks)][2:4]
[('expect_column_values_to_not_be_null', []), ('expect_column_values_to_be_in_set', [1])]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from etl.catalog import Dataset
from etl.codes import KINDS
from etl.validate import rules
from etl.validate.columns import Columns
from etl.validate.gx_runner import SuiteExecutionError
from etl.validate.verdicts import ExpectationOutcome

Kwargs = Mapping[str, Any]
Evaluate = Callable[[Columns, Kwargs], np.ndarray]

# Every expectation may carry these: row_condition narrows its rows, mostly changes no verdict.
COMMON_KWARGS = frozenset({"row_condition", "mostly"})


class UnsupportedExpectation(SuiteExecutionError):
    """A suite holds an expectation the Arrow engine cannot evaluate exactly as GX would (a bug:
    suites are generated from the catalog, and the generator must only write what both engines read)."""


@dataclass(frozen=True)
class ExpectationType:
    """How the engine evaluates one expectation type: its arguments and its rule."""

    required: frozenset[str]
    optional: frozenset[str]
    columns: Callable[[Kwargs], list[str]]
    evaluate: Evaluate
    text_columns: bool = False  # the rule reads text: refuse other column types


@dataclass(frozen=True)
class RowCondition:
    column: str
    operator: str
    parameter: Any


@dataclass(frozen=True)
class Check:
    """One expectation of a suite, ready to run."""

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    row_condition: RowCondition | None
    evaluate: Evaluate


def _column(kwargs: Kwargs) -> list[str]:
    return [kwargs["column"]]


def _pair(kwargs: Kwargs) -> list[str]:
    return [kwargs["column_A"], kwargs["column_B"]]


def _column_list(kwargs: Kwargs) -> list[str]:
    return list(kwargs["column_list"])


def _condition(columns: Columns, when: Kwargs | None) -> np.ndarray | None:
    if when is None:
        return None
    return rules.condition_holds(columns[when["field"]], when, separator=when.get("separator"))


def _code_type(kind: str) -> ExpectationType:
    optional = frozenset({"accept_placeholder"}) if kind == "uscc" else frozenset()
    return ExpectationType(
        frozenset({"column"}),
        optional,
        _column,
        lambda c, k: rules.code_validity(
            c[k["column"]], kind, accept_placeholder=k.get("accept_placeholder", False)
        ),
    )


TYPES: dict[str, ExpectationType] = {
    "expect_column_values_to_not_be_null": ExpectationType(
        frozenset({"column"}), frozenset(), _column, lambda c, k: rules.filled(c[k["column"]])
    ),
    "expect_column_value_lengths_to_be_between": ExpectationType(
        frozenset({"column"}),
        frozenset({"min_value", "max_value", "strict_min", "strict_max"}),
        _column,
        lambda c, k: rules.lengths_within(
            c[k["column"]],
            k.get("min_value"),
            k.get("max_value"),
            strict_min=bool(k.get("strict_min")),
            strict_max=bool(k.get("strict_max")),
        ),
        text_columns=True,
    ),
    "expect_column_values_to_be_in_set": ExpectationType(
        frozenset({"column", "value_set"}),
        frozenset(),
        _column,
        lambda c, k: rules.in_value_set(c[k["column"]], k["value_set"]),
    ),
    "expect_column_values_to_match_regex": ExpectationType(
        frozenset({"column", "regex"}),
        frozenset(),
        _column,
        lambda c, k: rules.matches_regex(c[k["column"]], k["regex"]),
        text_columns=True,
    ),
    "expect_column_pair_values_a_to_be_greater_than_b": ExpectationType(
        frozenset({"column_A", "column_B", "ignore_row_if"}),
        frozenset({"or_equal"}),
        _pair,
        lambda c, k: rules.greater_than(c[k["column_A"]], c[k["column_B"]], or_equal=bool(k.get("or_equal"))),
    ),
    **{f"expect_column_values_to_be_valid_{kind}": _code_type(kind) for kind in KINDS},
    "expect_column_values_to_not_be_in_the_future": ExpectationType(
        frozenset({"column"}), frozenset(), _column, lambda c, k: rules.not_in_future(c[k["column"]])
    ),
    "expect_any_of_columns_to_be_filled": ExpectationType(
        frozenset({"column_list", "fields"}),
        frozenset({"when", "ignore_row_if"}),
        _column_list,
        lambda c, k: rules.one_filled([c[name] for name in k["fields"]], _condition(c, k.get("when"))),
    ),
    "expect_columns_to_be_filled_when": ExpectationType(
        frozenset({"column_list", "when", "required"}),
        frozenset({"ignore_row_if"}),
        _column_list,
        lambda c, k: rules.required_when(_condition(c, k["when"]), [c[name] for name in k["required"]]),
    ),
}

# The only ignore_row_if each type is evaluated with (the value GX's defaults and our suites use).
IGNORE_ROW_IF = {
    "expect_column_pair_values_a_to_be_greater_than_b": "either_value_is_missing",
    "expect_any_of_columns_to_be_filled": "never",
    "expect_columns_to_be_filled_when": "never",
}


def compile_suite(suite: Mapping[str, Any], dataset: Dataset) -> list[Check]:
    """The checks of ``suite``, in its order; ``UnsupportedExpectation`` for anything not exact."""
    from etl.conform import ARROW_TYPES

    types = {f.name: ARROW_TYPES[f.type] for f in dataset.fields}
    return [_compile(expectation, suite["name"], types) for expectation in suite["expectations"]]


def outcomes(columns: Columns, checks: Sequence[Check]) -> list[ExpectationOutcome]:
    """The unexpected rows (0-based positions) of each check, in suite order."""
    return [ExpectationOutcome(c.type, c.kwargs, c.meta, unexpected_rows(c, columns)) for c in checks]


def unexpected_rows(check: Check, columns: Columns) -> np.ndarray:
    if check.row_condition is None:
        return np.flatnonzero(~check.evaluate(columns, check.kwargs))
    condition = check.row_condition
    holds = rules.comparison_holds(columns[condition.column], condition.operator, condition.parameter)
    rows = np.flatnonzero(holds)
    if not rows.size:
        return rows
    return rows[~check.evaluate(columns.where(holds), check.kwargs)]


def _compile(expectation: Mapping[str, Any], suite_name: str, types: Mapping[str, pa.DataType]) -> Check:
    kind, kwargs = expectation["type"], dict(expectation["kwargs"])
    where = f"suite '{suite_name}': {kind} {kwargs}"
    spec = TYPES.get(kind)
    if spec is None:
        raise UnsupportedExpectation(f"{where}: the Arrow engine does not know this expectation type")
    missing = spec.required - kwargs.keys()
    unknown = kwargs.keys() - spec.required - spec.optional - COMMON_KWARGS
    if missing or unknown:
        problem = (
            f"lacks {sorted(missing)}" if missing else f"has arguments it does not know: {sorted(unknown)}"
        )
        raise UnsupportedExpectation(f"{where}: {problem}")
    expected_ignore = IGNORE_ROW_IF.get(kind)
    if expected_ignore is not None and kwargs.get("ignore_row_if", expected_ignore) != expected_ignore:
        raise UnsupportedExpectation(f"{where}: only ignore_row_if={expected_ignore!r} is supported")
    if kind == "expect_column_value_lengths_to_be_between" and {"min_value", "max_value"}.isdisjoint(kwargs):
        raise UnsupportedExpectation(f"{where}: needs min_value or max_value")
    condition = _row_condition(kwargs.get("row_condition"), where)
    named = spec.columns(kwargs) + ([condition.column] if condition else [])
    for name in named:
        if name not in types:
            raise UnsupportedExpectation(f"{where}: no field '{name}' in the dataset")
    if spec.text_columns and not pa.types.is_string(types[named[0]]):
        raise UnsupportedExpectation(f"{where}: checks text, but '{named[0]}' is {types[named[0]]}")
    if condition and not pa.types.is_string(types[condition.column]):
        raise UnsupportedExpectation(f"{where}: row conditions are supported on text fields only")
    return Check(kind, kwargs, dict(expectation.get("meta") or {}), condition, spec.evaluate)


def _row_condition(condition: Any, where: str) -> RowCondition | None:
    if condition is None:
        return None
    if (
        isinstance(condition, Mapping)
        and condition.get("type") == "comparison"
        and condition.get("operator") in ("==", "IN")
        and isinstance(condition.get("column"), Mapping)
    ):
        return RowCondition(condition["column"]["name"], condition["operator"], condition["parameter"])
    raise UnsupportedExpectation(f"{where}: only '==' and 'IN' comparisons are supported as row_condition")
