"""Runs a dataset's GX suite over a batch and says which rows failed which expectation.

One ephemeral GX context per process, with one pandas data source whose batch definition takes a
whole DataFrame; suites are loaded from ``expectations/`` once per process and reused. A batch is
validated with a single call that runs every expectation of the suite; the result format asks for
the unexpected row positions (``unexpected_index_list``) and skips what costs time without helping
a verdict (the index query string, partial lists).

An expectation that raises inside GX is a bug (a suite that does not fit the data), not bad data:
it raises ``SuiteExecutionError`` instead of letting the rows pass unchecked.
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from etl.catalog import Dataset
from etl.validate.columns import typed_column
from etl.validate.verdicts import ExpectationOutcome

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuiteValidationResult

log = logging.getLogger(__name__)

RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
}

_lock = threading.Lock()
_context: Any = None
_batch_definition: Any = None
_suites: dict[tuple[str, str], Any] = {}


class SuiteExecutionError(RuntimeError):
    """An expectation failed to run (not: found bad rows); the batch cannot be judged."""


def context() -> Any:
    """The process's GX context and batch definition (created on first use; GX imports here)."""
    global _context, _batch_definition
    with _lock:
        if _context is None:
            import great_expectations as gx
            from great_expectations.execution_engine import pandas_execution_engine

            import etl.validate.gx_expectations  # noqa: F401  (registers the custom expectations)

            # GX fingerprints every DataFrame under 1 GB by hashing all its cells, twice per
            # validation: a third of the time of a 50,000-row batch, for a marker nobody reads here.
            pandas_execution_engine.HASH_THRESHOLD = 0

            logging.getLogger("great_expectations").setLevel(logging.WARNING)
            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = {"globally": False, "metric_calculations": False}
            asset = ctx.data_sources.add_pandas("credit_etl").add_dataframe_asset("batch")
            _batch_definition = asset.add_batch_definition_whole_dataframe("whole_batch")
            _context = ctx
        return _context


def batch_definition() -> Any:
    context()
    return _batch_definition


def gx_suite(suite: dict[str, Any]) -> Any:
    """A GX ``ExpectationSuite`` for a suite dict, built once per distinct suite content."""
    key = (suite["name"], json.dumps(suite, sort_keys=True, ensure_ascii=False))
    with _lock:
        cached = _suites.get(key)
    if cached is not None:
        return cached
    context()
    import great_expectations as gx

    built = gx.ExpectationSuite(**json.loads(json.dumps(suite)))
    if len(built.expectations) != len(suite["expectations"]):
        # GX logs and drops an expectation it cannot build; a suite must never lose a check silently.
        raise SuiteExecutionError(f"suite {suite['name']!r}: GX could not build every expectation")
    with _lock:
        _suites[key] = built
    return built


def gx_frame(typed: pa.Table, dataset: Dataset) -> pd.DataFrame:
    """The typed batch as pandas for GX: every catalog field, Arrow-backed (no copy of the data)."""
    import pandas as pd

    columns = {name: typed_column(typed, dataset, name) for name in dataset.field_names}
    return pa.table(columns).to_pandas(types_mapper=pd.ArrowDtype)


def run_suite(frame: pd.DataFrame, suite: dict[str, Any]) -> ExpectationSuiteValidationResult:
    """Validate ``frame`` (default RangeIndex) against ``suite`` in one GX call."""
    batch = batch_definition().get_batch(batch_parameters={"dataframe": frame})
    with warnings.catch_warnings():
        # GX matches regexes with pandas' str.contains, which warns about every catalog pattern
        # that groups alternatives, e.g. "^[0-9]{4}(年|-)"; the match itself is what we want.
        warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
        return batch.validate(gx_suite(suite), result_format=RESULT_FORMAT)


def outcomes(result: ExpectationSuiteValidationResult) -> list[ExpectationOutcome]:
    """The unexpected row positions of each expectation, in suite order."""
    found = []
    for item in result.results:
        config = item.expectation_config
        _raise_on_exception(config.type, config.kwargs, item.exception_info)
        positions = item.result.get("unexpected_index_list")
        if positions is None:
            raise SuiteExecutionError(f"{config.type} {config.kwargs}: GX returned no unexpected_index_list")
        found.append(
            ExpectationOutcome(
                type=config.type,
                # GX adds the batch's id; without it the kwargs are the suite's.
                kwargs={k: v for k, v in config.kwargs.items() if k != "batch_id"},
                meta=dict(config.meta or {}),
                rows=np.asarray(positions, dtype=np.int64),
            )
        )
    return found


def _raise_on_exception(kind: str, kwargs: dict[str, Any], info: dict[str, Any] | None) -> None:
    if not info:
        return
    # GX reports one dict, or one per metric keyed by the metric's id.
    entries = info.values() if "raised_exception" not in info else [info]
    for entry in entries:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            raise SuiteExecutionError(f"{kind} {kwargs}: {entry.get('exception_message')}")
