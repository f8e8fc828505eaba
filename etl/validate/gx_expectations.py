"""Custom Great Expectations expectations for credit data, backed by ``etl.validate.rules``.

Importing this module registers them with GX (it imports GX, which takes seconds: import it only
where a suite runs). Each is a map expectation, so GX reports the unexpected rows of each like those
of a core expectation, and Data Docs list them beside the core ones:

- ``ExpectColumnValuesToBeValidUscc`` / ``…Orgcode`` / ``…Regno`` / ``…Idcard``: the code checks of
  ``etl.codes`` (``accept_placeholder`` lets the USCC placeholder through where a rule of the
  dataset judges it);
- ``ExpectColumnValuesToNotBeInTheFuture``: a date no later than today in China;
- ``ExpectAnyOfColumnsToBeFilled``: at least one of ``fields`` is filled (where ``when`` holds);
- ``ExpectColumnsToBeFilledWhen``: every field of ``required`` is filled where ``when`` holds.

The pandas functions receive columns whose dtype is ``pd.ArrowDtype``; ``pa.array`` takes their
Arrow data without copying it, and the rules work on Arrow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    MulticolumnMapExpectation,
    _style_row_condition,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)
from great_expectations.render import LegacyRendererType, RenderedStringTemplateContent
from great_expectations.render.renderer.renderer import renderer
from great_expectations.render.util import parse_row_condition_string, substitute_none_for_missing

from etl.validate import rules


def _arrow(column: pd.Series) -> pa.Array:
    return rules.as_array(
        pa.array(column.array) if isinstance(column.dtype, pd.ArrowDtype) else pa.array(column)
    )


def _aligned(ok: np.ndarray, like: pd.Series | pd.DataFrame) -> pd.Series:
    return pd.Series(ok, index=like.index, dtype=bool)


def _condition(frame: pd.DataFrame, when: dict[str, Any] | None) -> np.ndarray | None:
    if when is None:
        return None
    return rules.condition_holds(_arrow(frame[when["field"]]), when, separator=when.get("separator"))


def describe_condition(when: dict[str, Any]) -> str:
    """A catalog condition as Data Docs show it.

    >>> describe_condition({"field": "penalty_types", "contains": "罚款", "separator": ";"})
    'penalty_types contains 罚款'
    """
    if "equals" in when:
        return f"{when['field']} == {when['equals']}"
    if "in" in when:
        return f"{when['field']} in ({', '.join(when['in'])})"
    return f"{when['field']} contains {when['contains']}"


def _prescriptive(template: str, keys: list[str]):
    """A legacy prescriptive renderer (the text Data Docs show) for ``template`` over ``keys``."""

    def render(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
        runtime_configuration = runtime_configuration or {}
        styling = runtime_configuration.get("styling")
        params = dict(substitute_none_for_missing(configuration.kwargs, [*keys, "row_condition"]))
        template_str = template
        if params.get("when") is not None:
            params["when"] = describe_condition(params["when"])
        else:
            template_str = template_str.replace(" if $when", "")
        for key in ("fields", "required"):
            if isinstance(params.get(key), list):
                params[key] = ", ".join(params[key])
        if params["row_condition"] is not None:
            conditional = parse_row_condition_string(params["row_condition"])
            template_str, styling = _style_row_condition(conditional, template_str, params, styling)
        return [
            RenderedStringTemplateContent(
                content_block_type="string_template",
                string_template={"template": template_str, "params": params, "styling": styling},
            )
        ]

    return classmethod(renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)(render))


# --------------------------------------------------------------------------------------------------
# Code checks


class ColumnValuesValidUscc(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_uscc"
    condition_value_keys = ("accept_placeholder",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, accept_placeholder=False, **kwargs):
        return _aligned(
            rules.code_validity(_arrow(column), "uscc", accept_placeholder=accept_placeholder), column
        )


class ColumnValuesValidOrgcode(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_orgcode"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _aligned(rules.code_validity(_arrow(column), "orgcode"), column)


class ColumnValuesValidRegno(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_regno"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _aligned(rules.code_validity(_arrow(column), "regno"), column)


class ColumnValuesValidIdcard(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_idcard"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _aligned(rules.code_validity(_arrow(column), "idcard"), column)


class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
    """Expect each value to be a valid unified social credit code (GB 32100-2015)."""

    accept_placeholder: bool = False

    map_metric = "column_values.valid_uscc"
    success_keys = ("accept_placeholder", "mostly")
    args_keys = ("column",)
    _prescriptive_renderer = _prescriptive(
        "$column values must be valid unified social credit codes (统一社会信用代码, GB 32100).",
        ["column", "accept_placeholder"],
    )


class ExpectColumnValuesToBeValidOrgcode(ColumnMapExpectation):
    """Expect each value to be a valid organisation code (GB 11714)."""

    map_metric = "column_values.valid_orgcode"
    args_keys = ("column",)
    _prescriptive_renderer = _prescriptive(
        "$column values must be valid organisation codes (组织机构代码, GB 11714).", ["column"]
    )


class ExpectColumnValuesToBeValidRegno(ColumnMapExpectation):
    """Expect each value to be a valid 15-digit business registration number."""

    map_metric = "column_values.valid_regno"
    args_keys = ("column",)
    _prescriptive_renderer = _prescriptive(
        "$column values must be valid business registration numbers (工商注册号).", ["column"]
    )


class ExpectColumnValuesToBeValidIdcard(ColumnMapExpectation):
    """Expect each value to be a valid resident identity number (GB 11643)."""

    map_metric = "column_values.valid_idcard"
    args_keys = ("column",)
    _prescriptive_renderer = _prescriptive(
        "$column values must be valid resident identity numbers (居民身份证号码, GB 11643).", ["column"]
    )


# --------------------------------------------------------------------------------------------------
# Dates


class ColumnValuesNotInTheFuture(ColumnMapMetricProvider):
    condition_metric_name = "column_values.not_in_the_future"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _aligned(rules.not_in_future(_arrow(column)), column)


class ExpectColumnValuesToNotBeInTheFuture(ColumnMapExpectation):
    """Expect each date to be no later than today in China (UTC+8), the day the check runs."""

    map_metric = "column_values.not_in_the_future"
    args_keys = ("column",)
    _prescriptive_renderer = _prescriptive(
        "$column values must not be later than the day of validation (China time).", ["column"]
    )


# --------------------------------------------------------------------------------------------------
# Rules across fields


class MulticolumnValuesAnyFilled(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.any_filled"
    condition_value_keys = ("fields", "when")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, fields, when=None, **kwargs):
        arrays = [_arrow(column_list[name]) for name in fields]
        return _aligned(rules.one_filled(arrays, _condition(column_list, when)), column_list)


class ExpectAnyOfColumnsToBeFilled(MulticolumnMapExpectation):
    """Expect at least one of ``fields`` to be filled in each row (only where ``when`` holds).

    ``when`` is a catalog condition: ``{"field": F, "equals": V}``, ``{"field": F, "in": [...]}`` or
    ``{"field": F, "contains": V, "separator": S}``; ``column_list`` holds ``fields`` and ``F``.
    """

    fields: list[str]
    when: dict[str, Any] | None = None
    ignore_row_if: str = "never"

    map_metric = "multicolumn_values.any_filled"
    success_keys = ("fields", "when", "mostly")
    args_keys = ("column_list",)
    _prescriptive_renderer = _prescriptive(
        "At least one of $fields must be filled if $when.", ["fields", "when"]
    )


class MulticolumnValuesFilledWhen(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.filled_when"
    condition_value_keys = ("when", "required")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, when, required, **kwargs):
        arrays = [_arrow(column_list[name]) for name in required]
        return _aligned(rules.required_when(_condition(column_list, when), arrays), column_list)


class ExpectColumnsToBeFilledWhen(MulticolumnMapExpectation):
    """Expect every field of ``required`` to be filled in the rows where ``when`` holds."""

    when: dict[str, Any]
    required: list[str]
    ignore_row_if: str = "never"

    map_metric = "multicolumn_values.filled_when"
    success_keys = ("when", "required", "mostly")
    args_keys = ("column_list",)
    _prescriptive_renderer = _prescriptive("$required must be filled if $when.", ["required", "when"])


CUSTOM_EXPECTATIONS = (
    ExpectColumnValuesToBeValidUscc,
    ExpectColumnValuesToBeValidOrgcode,
    ExpectColumnValuesToBeValidRegno,
    ExpectColumnValuesToBeValidIdcard,
    ExpectColumnValuesToNotBeInTheFuture,
    ExpectAnyOfColumnsToBeFilled,
    ExpectColumnsToBeFilledWhen,
)
