"""GX audit of an archived delivery: Great Expectations itself on a sample, beside the Arrow engine.

``process_drop`` validates with the Arrow engine only; GX's import and fixed cost (about 4–5 s per
process, 0.5 s per sample) stay out of the delivery's critical path. This step runs afterwards —
the source DAGs' ``audit`` task after ``process``, ``credit-etl ingest --gx-audit`` — and reads the
archived file again: the first ``rows`` rows of the first non-empty batch are conformed and
validated by GX with the committed suite (the identifier checks run as the custom GX expectations
of ``etl.validate.gx_expectations``) and by the Arrow engine (``etl.validate.gx_sample.audit``).

GX's result in brief (suite, statistics, each failed expectation with its unexpected count, never
cell values) and the differences between the engines are written as JSON to the storage root under
``audit_key(drop)``, once per delivery's bytes, dataset and department. A difference is a bug in the
Arrow engine: it is logged as an error, and the delivery can be run again with GX judging
(``etl.validate`` engine ``gx``) once the bug is understood.
"""

from __future__ import annotations

import logging
from contextlib import closing
from typing import Any

from etl.catalog import Catalog
from etl.drop import Drop, now
from etl.errors import DeliveryRejected
from etl.storage import Storage

log = logging.getLogger(__name__)


def audit_key(drop: Drop) -> str:
    """Where the audit of ``drop`` is kept in the storage root."""
    return f"gx_audit/{drop.department}/{drop.dataset}/{drop.sha256}.json"


def audit_drop(
    drop: Drop, *, catalog: Catalog, storage: Storage, rows: int | None = None
) -> dict[str, Any] | None:
    """Audits the sample of ``drop`` and stores the result; returns it (plain JSON values), or None for a
    delivery with no row to audit (rejected whole, or empty). A stored audit is returned as it is."""
    from etl.conform import conform_batch, map_headers
    from etl.pipeline import local_copy
    from etl.read import open_delivery
    from etl.validate import gx_sample

    key = audit_key(drop)
    if storage.exists(key):
        return storage.read_json(key)
    dataset = catalog.dataset(drop.dataset)
    rows = rows or gx_sample.SAMPLE_ROWS
    try:
        with local_copy(storage, drop) as path:
            delivery = open_delivery(path, dataset, batch_rows=rows)
            mapping = map_headers(delivery.headers, dataset)
            with closing(delivery.batches()) as batches:
                first = next((b for b in batches if b.num_rows), None)
    except DeliveryRejected as exc:
        log.info("%s: rejected whole (%s); nothing to audit", drop.delivery_id, exc.reason)
        return None
    if first is None:
        return None
    sample = gx_sample.audit(conform_batch(first, mapping, dataset), dataset, rows=rows)
    result = {
        "delivery_id": drop.delivery_id, "dataset": drop.dataset, "department": drop.department,
        "file_name": drop.file_name, "sha256": drop.sha256, "audited_at": now().isoformat(),
        **sample.as_dict(),
    }  # fmt: skip
    if not sample.agrees:
        log.error("%s: the Arrow engine disagrees with GX on the sample:\n%s", drop.delivery_id,
                  "\n".join(sample.differences))  # fmt: skip
    storage.put_json(key, result)
    return result
