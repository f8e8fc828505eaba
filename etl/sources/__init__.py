"""Delivery sources: landing zones, SFTP servers and database pulls, each turning what it finds into
deliveries for the core pipeline.

``fetch`` yields the source's pickups one at a time (each a ``Drop`` already archived in the storage
root, see ``etl.sources.base``); ``run_source`` processes each with ``process_drop`` before taking
the next, then lets the source put the original where the outcome says. The same function serves
the Airflow tasks and ``credit-etl fetch``::

    run = run_source(catalog.source("admin_penalty__yjgl__landing"), catalog=catalog,
                     storage=storage, warehouse=warehouse)
    for result in run.results:
        print(result.ledger.status, result.ledger.file_name)

Modules: ``landing`` (directories under the landing root), ``sftp`` (paramiko, pinned host keys),
``database`` (SQLAlchemy, incremental by watermark), ``connections`` (Airflow connections without
importing Airflow), ``names`` and ``stability`` (the decisions: which names are safe, which files are
complete). Nothing here imports Airflow at module level.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from etl.sources.base import FetchOptions, FetchReport, Pickup, Refusal, Window

if TYPE_CHECKING:
    from etl.catalog import Catalog, SourceRef
    from etl.pipeline import LoadResult
    from etl.storage import Storage
    from etl.warehouse import Warehouse

__all__ = ["FetchOptions", "FetchReport", "Pickup", "Refusal", "SourceRun", "Window", "fetch", "run_source"]

log = logging.getLogger(__name__)


@dataclass
class SourceRun:
    """What one run of a source did: a load result (ledger row) per delivery, and the report of what
    it saw but did not take."""

    source: str
    results: list[LoadResult] = field(default_factory=list)
    report: FetchReport = field(default_factory=FetchReport)

    @property
    def ok(self) -> bool:
        """Every delivery processed or a duplicate, and nothing refused."""
        return all(r.ok for r in self.results) and not self.report.refused


def fetch(
    ref: SourceRef,
    *,
    storage: Storage,
    warehouse: Warehouse,
    options: FetchOptions | None = None,
    report: FetchReport | None = None,
    landing_root: Path | None = None,
) -> Iterator[Pickup]:
    """The source's pickups, claimed one at a time as the iterator advances."""
    options = options or FetchOptions()
    report = report if report is not None else FetchReport()
    method = ref.source.method
    if method == "landing":
        from etl import settings
        from etl.sources import landing

        return landing.pickups(ref, landing_root or settings.landing_root(), storage, options, report)
    if method == "sftp":
        from etl.sources import sftp

        return sftp.pickups(ref, storage, warehouse, options, report)
    from etl.sources import database

    return database.pickups(ref, storage, options, report)


def run_source(
    ref: SourceRef,
    *,
    catalog: Catalog,
    storage: Storage,
    warehouse: Warehouse,
    options: FetchOptions | None = None,
    landing_root: Path | None = None,
) -> SourceRun:
    """Fetches from one source and processes every delivery it finds.

    A delivery whose processing raises is recorded as ``failed`` by ``process_drop``, left where a
    later run takes it again (``Pickup.abandon``), and the error is raised so that Airflow retries.
    """
    from etl.pipeline import process_drop

    run = SourceRun(source=ref.id)
    pickups = fetch(ref, storage=storage, warehouse=warehouse, options=options, report=run.report,
                    landing_root=landing_root)  # fmt: skip
    # closing(): a failure stops the iteration and still runs the source's clean-up (connections,
    # locks, temporary files).
    with closing(pickups):  # type: ignore[type-var]
        for pickup in pickups:
            try:
                result = process_drop(pickup.drop, catalog=catalog, warehouse=warehouse, storage=storage)
            except BaseException:
                pickup.abandon()
                raise
            pickup.finish(result)
            run.results.append(result)
    for refusal in run.report.refused:
        log.warning("%s: refused %s (%s)", ref.id, refusal.name, refusal.reason)
    return run
