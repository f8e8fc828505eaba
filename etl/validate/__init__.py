"""validate: the verdict on every row of a conformed batch — loaded, or rejected with every reason.

``validate_batch`` runs the dataset's GX suite (``expectations/<dataset>.json``, generated from the
catalog by ``etl.validate.suites``) over the typed batch in one GX call: the field rules, the
identifier checks (custom expectations backed by ``etl.codes``) and the rules across fields. It then
finds duplicates of the deduplication key in the delivery — across batches, through ``state`` — and
adds conform's cell errors. A row with any reason is rejected.

    from etl.validate import DeliveryState, validate_batch

    state = DeliveryState()                      # one per delivery
    for batch in batches:
        verdicts = validate_batch(conform_batch(batch, mapping, dataset), dataset, state)
        verdicts.rejected                        # pa.BooleanArray, aligned with the batch's rows
        verdicts.reasons                         # pa.Table: row, field, rule, value, message

GX is imported on the first call (seconds), not when this package is imported.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from etl.catalog import Dataset
from etl.errors import CatalogError
from etl.validate import rules, suites
from etl.validate.verdicts import REASON_SCHEMA, Verdicts

if TYPE_CHECKING:
    import pandas as pd

    from etl.conform import ConformedBatch

__all__ = ["REASON_SCHEMA", "DeliveryState", "Verdicts", "build_data_docs", "validate_batch"]


@dataclass
class DeliveryState:
    """What validation remembers across the batches of one delivery: the keys seen so far."""

    keys: rules.DuplicateFinder = field(default_factory=rules.DuplicateFinder)
    rows_seen: int = 0


def validate_batch(
    conformed: ConformedBatch,
    dataset: Dataset,
    state: DeliveryState,
    *,
    suites_dir: Path = suites.DEFAULT_SUITES_DIR,
) -> Verdicts:
    """The verdict on each row of ``conformed`` (see the module docstring)."""
    from etl.validate import gx_runner, verdicts

    suite = current_suite(dataset, suites_dir)
    view = verdicts.BatchView(conformed.rows, conformed.raw, conformed.typed, dataset)
    found = []
    if len(conformed.typed):
        result = gx_runner.run_suite(gx_frame(conformed.typed, dataset), suite)
        found = [verdicts.outcome_reasons(o, view) for o in gx_runner.outcomes(result)]
    dedup = suite["meta"]["credit_etl"]["dedup"]
    hashes, complete = rules.key_hashes([_column(conformed.typed, dataset, name) for name in dedup["fields"]])
    earlier = state.keys.earlier_rows(hashes, view.rows, complete)
    found.append(verdicts.duplicate_reasons(earlier, view, dedup))
    state.rows_seen += len(conformed.typed)
    reasons = verdicts.merge(verdicts.conform_reasons(conformed.issues, dataset), found)
    return Verdicts(rejected=verdicts.rejected_mask(view.rows, reasons), reasons=reasons)


def current_suite(dataset: Dataset, suites_dir: Path = suites.DEFAULT_SUITES_DIR) -> dict[str, Any]:
    """The committed suite of ``dataset``; refuses one that no longer matches the catalog."""
    return _current_suite(dataset, Path(suites_dir))


@functools.lru_cache(maxsize=64)
def _current_suite(dataset: Dataset, suites_dir: Path) -> dict[str, Any]:
    committed = suites.load_suite(dataset.id, suites_dir)
    if committed != suites.build_suite(dataset):
        raise CatalogError(
            [
                f"{suites.suite_path(dataset.id, suites_dir)} is out of date with the catalog's dataset "
                f"'{dataset.id}'; run `credit-etl expectations build` and commit the result"
            ]
        )
    return committed


def gx_frame(typed: pa.Table, dataset: Dataset) -> pd.DataFrame:
    """The typed batch as pandas for GX: every catalog field, Arrow-backed (no copy of the data)."""
    import pandas as pd

    columns = {name: _column(typed, dataset, name) for name in dataset.field_names}
    return pa.table(columns).to_pandas(types_mapper=pd.ArrowDtype)


def _column(typed: pa.Table, dataset: Dataset, name: str) -> pa.ChunkedArray | pa.Array:
    if name in typed.column_names:
        return typed[name]
    from etl.conform import ARROW_TYPES

    return pa.nulls(len(typed), ARROW_TYPES[dataset.field(name).type])


def build_data_docs(out_dir: Path, **kwargs: Any) -> Path:
    """Render the suites as static HTML with GX's site builder; see ``etl.validate.docs``."""
    from etl.validate.docs import build_data_docs as build

    return build(out_dir, **kwargs)
