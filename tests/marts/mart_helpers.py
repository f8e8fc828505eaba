"""Helpers of the mart tests: a warehouse on each backend, and loading files through the pipeline."""

from __future__ import annotations

from pathlib import Path

from etl.catalog import Catalog
from etl.drop import receive_file
from etl.pipeline import LoadResult, process_drop
from etl.storage import Storage
from etl.warehouse import Warehouse


class Loader:
    """Delivers files through the real pipeline (receive, read, validate, load)."""

    def __init__(self, catalog: Catalog, warehouse: Warehouse, storage: Path) -> None:
        self.catalog, self.warehouse, self.storage = catalog, warehouse, Storage(storage)

    def deliver(self, path: Path, source_id: str) -> LoadResult:
        ref = self.catalog.source(source_id)
        drop = receive_file(self.storage, path, dataset=ref.dataset.id, department=ref.source.department,
                            source=source_id)  # fmt: skip
        return process_drop(drop, catalog=self.catalog, warehouse=self.warehouse, storage=self.storage,
                            batch_rows=256)  # fmt: skip

