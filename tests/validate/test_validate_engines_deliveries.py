"""The Arrow engine and GX judge the synthetic deliveries alike: every delivery read and conformed
as the pipeline does, each batch validated by both engines, the same reasons with the same messages;
and GX's own run on each delivery's sample agrees with the Arrow engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.catalog import Catalog
from etl.validate import DeliveryState, validate_batch


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from etl.demo_data import generate

    out = tmp_path_factory.mktemp("engines")
    return out, generate(out, seed=23, scale=0.2, defect_rate=0.2)


def test_synthetic_deliveries(deliveries, catalog: Catalog):
    from etl.conform import conform_batch, map_headers
    from etl.read import open_delivery

    out, manifest = deliveries
    rejected = 0
    for delivery in manifest["deliveries"]:
        dataset = catalog.datasets[delivery["dataset"]]
        raw = open_delivery(out / delivery["path"], dataset, batch_rows=100_000)
        mapping = map_headers(raw.headers, dataset)
        gx_state, arrow_state = DeliveryState(), DeliveryState()
        for batch in raw.batches():
            conformed = conform_batch(batch, mapping, dataset)
            by_gx = validate_batch(conformed, dataset, gx_state, engine="gx")
            by_arrow = validate_batch(conformed, dataset, arrow_state, engine="arrow")
            assert by_arrow.reasons.to_pylist() == by_gx.reasons.to_pylist(), delivery["path"]
            assert by_arrow.rejected.equals(by_gx.rejected)
            rejected += by_gx.rejected_count
        # GX's own run on the sample agreed with the Arrow engine on every delivery.
        assert arrow_state.gx_sample is not None and arrow_state.gx_sample.agrees, delivery["path"]
        assert gx_state.gx_sample is None
    assert len(manifest["deliveries"]) == 27 and rejected > 50
