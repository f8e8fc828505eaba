"""A landing zone never follows a link out of itself — not even when the link is one of the zone's
own directories, which the department can replace: ``incoming/`` pointing at another department's
folder, ``processing/`` (where claims left by stopped workers are recovered from) or ``outbox/``
(where feedback is written) pointing elsewhere. The zone is refused whole, nothing outside it is
read, moved or written. Links among the delivered files are covered by tests/sources (test_landing:
``test_links_and_what_is_not_a_file_are_rejected_unread_with_a_ledger_row_and_feedback``: the link's
own text is kept and its target neither read nor moved; test_sftp: the same on the server) and by the
corpus (tests/corpus: ``symlink_outside``, ``symlink_dangling``, ``hardlink``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest

from etl.catalog import Catalog
from etl.demo_data import generate
from etl.errors import SourceError
from etl.sources import FetchOptions, run_source
from etl.sources.landing import Zone
from etl.storage import Storage
from etl.warehouse import open_warehouse

SOURCE = "admin_penalty__scjg__landing"
QUICK = FetchOptions(stable_seconds=0.1, wait_seconds=1.0)


@pytest.mark.parametrize("folder", ["incoming", "processing", "outbox"])
def test_a_zone_directory_that_is_a_link_is_refused_and_nothing_outside_is_touched(
    folder, catalog: Catalog, tmp_path
):
    small = dataclasses.replace(catalog, datasets={"admin_penalty": catalog.datasets["admin_penalty"]})
    manifest = generate(tmp_path / "demo", seed=3, rows=20, sources=[SOURCE], catalog=small)
    delivery = tmp_path / "demo" / manifest["deliveries"][0]["path"]
    outside = tmp_path / "another-department"
    outside.mkdir()
    claim = "0123456789ab__" + delivery.name  # what processing/ holds: it would be "recovered"
    shutil.copy(delivery, outside / (claim if folder == "processing" else delivery.name))
    before = sorted(os.listdir(outside))

    ref = small.source(SOURCE)
    zone = Zone.for_source(tmp_path / "landing", ref)
    zone.root.mkdir(parents=True)
    os.symlink(outside, zone.root / folder)
    if folder != "incoming":
        (zone.root / "incoming").mkdir()
        shutil.copy(delivery, zone.incoming / delivery.name)  # a real delivery: still not taken
    storage = Storage(tmp_path / "storage")
    warehouse = open_warehouse(f"duckdb:///{tmp_path}/warehouse.duckdb")
    warehouse.init(small)

    with pytest.raises(SourceError, match=rf"{folder}/ is a link or not a directory"):
        run_source(ref, catalog=small, storage=storage, warehouse=warehouse, options=QUICK,
                   landing_root=tmp_path / "landing")  # fmt: skip
    assert sorted(os.listdir(outside)) == before
    assert storage.list("raw") == [] and warehouse.ledger() == []
