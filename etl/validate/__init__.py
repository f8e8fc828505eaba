"""validate: the verdict on every row of a conformed batch — loaded, or rejected with every reason.

The checks are the dataset's GX suite (``expectations/<dataset>.json``, generated from the catalog
by ``etl.validate.suites``): the field rules, the identifier checks (custom expectations backed by
``etl.codes``) and the rules across fields. ``validate_batch`` then finds duplicates of the
deduplication key in the delivery — across batches, through ``state`` — and adds conform's cell
errors. A row with any reason is rejected.

    from etl.validate import DeliveryState, validate_batch

    state = DeliveryState()                      # one per delivery
    for batch in batches:
        verdicts = validate_batch(conform_batch(batch, mapping, dataset), dataset, state)
        verdicts.rejected                        # pa.BooleanArray, aligned with the batch's rows
        verdicts.reasons                         # pa.Table: row, field, rule, value, message
    state.gx_sample                              # GX's own result on the delivery's sample

Two engines evaluate the same committed suite and give the same verdicts and messages:

- ``engine="arrow"`` (the default, for the pipeline): ``etl.validate.arrow_engine`` interprets the
  suite JSON over Arrow columns, about ten times faster than GX. Every rule is written once in
  ``etl.validate.rules``: the custom expectations call those functions inside GX too, and GX's five
  core expectations have Arrow twins there that follow GX's semantics (row conditions, nulls,
  Python regular expressions — ``etl.validate.pyregex``). An expectation it cannot evaluate exactly
  raises ``UnsupportedExpectation`` rather than pass rows.
- ``engine="gx"``: Great Expectations runs the suite on each whole batch (``etl.validate.gx_runner``).

GX stays the suite's format, the source of Data Docs (``build_data_docs``) and the reference: with
the Arrow engine, GX runs for real on the first ``gx_sample_rows`` rows (default 5,000) of each
delivery's first non-empty batch (``etl.validate.gx_sample``). Its result in brief — counts, no
cell values — is ``state.gx_sample`` (and ``gx_sample`` on that batch's verdicts) for the ledger or
a validation store; ``as_dict()`` is JSON. GX's unexpected rows on the sample are compared with the
Arrow engine's; if they differ (a bug), the difference is logged as an error and GX validates the
rest of the delivery, that batch included. ``gx_sample_rows=0`` skips the sample.

Cost: the sample costs GX's fixed price, about 0.5–0.7 s per delivery whatever its size, and GX's
import about 3–4 s once per process (``python -m bench.validate`` measures the engines). The
pipeline does not pay them in the delivery's run: ``process_drop`` passes ``gx_sample_rows=0`` and
``etl.gx_audit`` runs ``gx_sample.audit`` afterwards (the DAGs' ``audit`` task, ``ingest --gx-audit``).
GX is imported on first use (seconds), never when this package is imported.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from etl.catalog import Dataset
from etl.errors import CatalogError
from etl.validate import rules, suites
from etl.validate.columns import Columns, typed_column
from etl.validate.verdicts import REASON_SCHEMA, ExpectationOutcome, Verdicts

if TYPE_CHECKING:
    import pandas as pd

    from etl.conform import ConformedBatch
    from etl.validate.arrow_engine import Check
    from etl.validate.gx_sample import GxSample

__all__ = ["ENGINES", "REASON_SCHEMA", "DeliveryState", "Verdicts", "build_data_docs", "validate_batch"]

log = logging.getLogger(__name__)

Engine = Literal["arrow", "gx"]
ENGINES: tuple[Engine, ...] = ("arrow", "gx")
GX_SAMPLE_ROWS = 5_000  # rows of each delivery that GX itself validates beside the Arrow engine


@dataclass
class DeliveryState:
    """What validation remembers across the batches of one delivery.

    ``keys``: the deduplication keys seen so far; ``gx_sample``: GX's result on the delivery's
    sample (Arrow engine), once the first non-empty batch has been validated.
    """

    keys: rules.DuplicateFinder = field(default_factory=rules.DuplicateFinder)
    rows_seen: int = 0
    gx_sample: GxSample | None = None


def validate_batch(
    conformed: ConformedBatch,
    dataset: Dataset,
    state: DeliveryState,
    *,
    suites_dir: Path = suites.DEFAULT_SUITES_DIR,
    engine: Engine = "arrow",
    gx_sample_rows: int = GX_SAMPLE_ROWS,
) -> Verdicts:
    """The verdict on each row of ``conformed`` (see the module docstring)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    from etl.validate import verdicts

    suite = current_suite(dataset, suites_dir)
    view = verdicts.BatchView(conformed.rows, conformed.raw, conformed.typed, dataset)
    found, sample = [], None
    if len(conformed.typed):
        outcomes, sample = _outcomes(conformed, dataset, state, suite, suites_dir, engine, gx_sample_rows)
        found = [verdicts.outcome_reasons(o, view) for o in outcomes]
    dedup = suite["meta"]["credit_etl"]["dedup"]
    hashes, complete = rules.key_hashes(
        [typed_column(conformed.typed, dataset, name) for name in dedup["fields"]]
    )
    earlier = state.keys.earlier_rows(hashes, view.rows, complete)
    found.append(verdicts.duplicate_reasons(earlier, view, dedup))
    state.rows_seen += len(conformed.typed)
    reasons = verdicts.merge(verdicts.conform_reasons(conformed.issues, dataset), found)
    return Verdicts(rejected=verdicts.rejected_mask(view.rows, reasons), reasons=reasons, gx_sample=sample)


def _outcomes(
    conformed: ConformedBatch,
    dataset: Dataset,
    state: DeliveryState,
    suite: dict[str, Any],
    suites_dir: Path,
    engine: Engine,
    gx_sample_rows: int,
) -> tuple[list[ExpectationOutcome], GxSample | None]:
    """Each expectation's unexpected rows, by ``engine``; with Arrow, GX's sample on the first batch."""
    from etl.validate import arrow_engine, gx_runner

    if engine == "gx" or (state.gx_sample is not None and not state.gx_sample.agrees):
        frame = gx_runner.gx_frame(conformed.typed, dataset)
        return gx_runner.outcomes(gx_runner.run_suite(frame, suite)), None
    columns = Columns.of_batch(conformed.typed, dataset)
    outcomes = arrow_engine.outcomes(columns, current_checks(dataset, suites_dir))
    if state.gx_sample is not None or gx_sample_rows <= 0:
        return outcomes, None
    from etl.validate import gx_sample

    rows = conformed.rows.to_numpy(zero_copy_only=False)
    sample = gx_sample.check_sample(conformed.typed, rows, dataset, suite, outcomes, rows=gx_sample_rows)
    state.gx_sample = sample
    if sample.agrees:
        return outcomes, sample
    log.error(
        "%s: the Arrow engine disagrees with GX on the sample; GX validates the rest of the delivery:\n%s",
        dataset.id,
        "\n".join(sample.differences),
    )
    frame = gx_runner.gx_frame(conformed.typed, dataset)
    return gx_runner.outcomes(gx_runner.run_suite(frame, suite)), sample


def current_suite(dataset: Dataset, suites_dir: Path = suites.DEFAULT_SUITES_DIR) -> dict[str, Any]:
    """The committed suite of ``dataset``; refuses one that no longer matches the catalog."""
    return _current_suite(dataset, Path(suites_dir))


def current_checks(dataset: Dataset, suites_dir: Path = suites.DEFAULT_SUITES_DIR) -> list[Check]:
    """The committed suite of ``dataset`` compiled for the Arrow engine (once per process)."""
    return _current_checks(dataset, Path(suites_dir))


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


@functools.lru_cache(maxsize=64)
def _current_checks(dataset: Dataset, suites_dir: Path) -> list[Check]:
    from etl.validate import arrow_engine

    return arrow_engine.compile_suite(_current_suite(dataset, suites_dir), dataset)


def gx_frame(typed: pa.Table, dataset: Dataset) -> pd.DataFrame:
    """The typed batch as pandas for GX (see ``gx_runner.gx_frame``)."""
    from etl.validate import gx_runner

    return gx_runner.gx_frame(typed, dataset)


def build_data_docs(out_dir: Path, **kwargs: Any) -> Path:
    """Render the suites as static HTML with GX's site builder; see ``etl.validate.docs``."""
    from etl.validate.docs import build_data_docs as build

    return build(out_dir, **kwargs)
