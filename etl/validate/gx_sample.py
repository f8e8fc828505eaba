"""GX itself, on a sample of every delivery the Arrow engine validates: GX's result, and proof of agreement.

``check_sample`` runs the suite with GX on the first ``SAMPLE_ROWS`` rows of a batch and compares
the rows each expectation finds unexpected with the Arrow engine's on the same rows. Every
expectation decides a row from that row alone, so the two must be equal row for row. GX costs
about half a second per sample of up to some thousands of rows (its fixed cost per expectation).

``GxSample`` keeps GX's result in brief — the suite, rows, GX's success and statistics, and each
expectation that failed with its unexpected count — never cell values (GX's full result holds
identity numbers in clear). ``as_dict()`` is plain JSON for the ledger or a validation store.

A difference is a bug in the Arrow engine or a rule; ``differences`` names each expectation that
disagreed, with source rows. ``etl.validate.validate_batch`` then logs it as an error and lets GX
judge the rest of the delivery, this batch included: slower, but GX is the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from etl.catalog import Dataset
from etl.validate import gx_runner
from etl.validate.verdicts import ExpectationOutcome

if TYPE_CHECKING:
    from etl.conform import ConformedBatch

SAMPLE_ROWS = 5_000  # as etl.validate.GX_SAMPLE_ROWS; etl.gx_audit audits this many rows
SHOWN_ROWS = 10  # source rows named per difference


@dataclass(frozen=True)
class FailedExpectation:
    """An expectation GX found unexpected rows for, in the sample."""

    type: str
    field: str
    rule: str
    unexpected_count: int


@dataclass(frozen=True)
class GxSample:
    """GX's validation of the sample of one delivery, and how the Arrow engine compared."""

    suite: str
    rows: int
    success: bool
    evaluated_expectations: int
    successful_expectations: int
    failed: tuple[FailedExpectation, ...]
    differences: tuple[str, ...]
    gx_version: str

    @property
    def agrees(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        plain = asdict(self)  # nested dataclasses become dicts; tuples stay tuples
        return {
            **plain,
            "failed": list(plain["failed"]),
            "differences": list(self.differences),
            "agrees": self.agrees,
        }


def check_sample(
    typed: pa.Table,
    source_rows: np.ndarray,
    dataset: Dataset,
    suite: dict[str, Any],
    arrow: Sequence[ExpectationOutcome],
    *,
    rows: int = SAMPLE_ROWS,
) -> GxSample:
    """GX on the first ``rows`` rows of ``typed``, compared with the Arrow engine's ``arrow`` outcomes."""
    sample = typed.slice(0, rows)
    result = gx_runner.run_suite(gx_runner.gx_frame(sample, dataset), suite)
    by_gx = gx_runner.outcomes(result)
    statistics = result.statistics
    failed = tuple(
        FailedExpectation(o.type, o.meta.get("field", ""), o.meta.get("rule", ""), len(o.rows))
        for o in by_gx
        if len(o.rows)
    )
    return GxSample(
        suite=suite["name"],
        rows=len(sample),
        success=bool(result.success),
        evaluated_expectations=int(statistics["evaluated_expectations"]),
        successful_expectations=int(statistics["successful_expectations"]),
        failed=failed,
        differences=tuple(differences(by_gx, arrow, len(sample), source_rows)),
        gx_version=version("great_expectations"),
    )


def audit(conformed: ConformedBatch, dataset: Dataset, *, rows: int = SAMPLE_ROWS) -> GxSample:
    """Both engines on the first ``rows`` rows of a conformed batch, outside a delivery's validation
    (``etl.gx_audit``, after the pipeline has loaded the delivery without the sample)."""
    from etl.validate import arrow_engine, current_checks, current_suite
    from etl.validate.columns import Columns

    sample = conformed.typed.slice(0, rows)
    arrow = arrow_engine.outcomes(Columns.of_batch(sample, dataset), current_checks(dataset))
    source_rows = conformed.rows.to_numpy(zero_copy_only=False)
    return check_sample(sample, source_rows, dataset, current_suite(dataset), arrow, rows=rows)


def differences(
    by_gx: Sequence[ExpectationOutcome], arrow: Sequence[ExpectationOutcome], n: int, source_rows: np.ndarray
) -> list[str]:
    """Where the Arrow engine's outcomes, cut to the first ``n`` rows, differ from GX's on those rows."""
    if len(by_gx) != len(arrow):
        return [f"GX reports {len(by_gx)} expectations, the Arrow engine {len(arrow)}"]
    found = []
    for gx_outcome, arrow_outcome in zip(by_gx, arrow, strict=True):
        label = f"{gx_outcome.type} {gx_outcome.kwargs}"
        if (gx_outcome.type, gx_outcome.kwargs) != (arrow_outcome.type, arrow_outcome.kwargs):
            found.append(f"{label}: the Arrow engine has {arrow_outcome.type} {arrow_outcome.kwargs} here")
            continue
        in_sample = arrow_outcome.rows[arrow_outcome.rows < n]
        only_arrow = np.setdiff1d(in_sample, gx_outcome.rows)
        only_gx = np.setdiff1d(gx_outcome.rows, in_sample)
        if only_arrow.size or only_gx.size:
            found.append(
                f"{label}: unexpected for the Arrow engine only in rows {_shown(only_arrow, source_rows)}, "
                f"for GX only in rows {_shown(only_gx, source_rows)}"
            )
    return found


def _shown(positions: np.ndarray, source_rows: np.ndarray) -> str:
    rows = [str(int(r)) for r in source_rows[positions[:SHOWN_ROWS]]]
    more = f" and {positions.size - SHOWN_ROWS} more" if positions.size > SHOWN_ROWS else ""
    return "[" + ", ".join(rows) + "]" + more
