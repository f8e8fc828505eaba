"""Sources failing mid-transfer: the MariaDB connection cut during a pull, the SFTP connection
dropped during a download on every attempt. The run fails clearly and takes nothing; once the link
is back, a rerun loads the delivery and the warehouse equals, table by table, that of a run which
never saw the fault.

The cuts are real: ``tcp_proxy.CuttingProxy`` (tests/support) closes both sockets after so many
bytes from the server. The source tables, uploads and sshd are those of the source tests (tests/support).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from database_source import SOURCE as TAX
from database_source import SourceTable, at, pull, source_ref, tax_rows
from sftp_upload import PBC, QUICK, upload
from source_deliveries import DATASETS
from sshd_server import SshdServer, sshd_server
from tcp_proxy import CuttingProxy
from warehouse_compare import assert_same_warehouse, dump

from etl.catalog import Catalog
from etl.demo_data import generate
from etl.errors import SourceError
from etl.sources import run_source
from etl.storage import Storage
from etl.warehouse import open_warehouse
from etl.warehouse.base import Warehouse

BOOKKEEPING = ("dataset_tables", "schema_migrations")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, seed=5, rows=60, datasets=DATASETS, defect_rate=0.0, catalog=catalog)


def fresh(tmp_path: Path, name: str, catalog: Catalog) -> tuple[Warehouse, Storage]:
    warehouse = open_warehouse(f"duckdb:///{tmp_path}/{name}.duckdb")
    warehouse.init(catalog)
    return warehouse, Storage(tmp_path / f"{name}-storage")


@pytest.mark.mariadb
def test_a_mariadb_pull_cut_midway_takes_nothing_and_the_rerun_equals_a_clean_pull(
    demo, catalog, small_catalog, tmp_path, monkeypatch
):
    source = SourceTable("mariadb", catalog.source(TAX))
    source.create()
    try:
        rows = tax_rows(demo)
        source.insert(rows)
        ref = source_ref(catalog, source)

        clean, clean_storage = fresh(tmp_path, "clean", small_catalog)
        monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", source.uri)
        (loaded,) = pull(ref, small_catalog, clean_storage, clean, at(1), at(21)).results
        assert loaded.ledger.rows_loaded == len(rows)

        warehouse, storage = fresh(tmp_path, "cut", small_catalog)
        proxy = CuttingProxy(("127.0.0.1", 3306), cut_after=9_000, cut={0})
        with proxy.running():
            monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", source.uri.replace(":3306/", f":{proxy.port}/"))
            with pytest.raises(SourceError, match=r"failed: .*the same window is pulled again"):
                pull(ref, small_catalog, storage, warehouse, at(1), at(21))
            assert proxy.cuts == 1
            assert warehouse.ledger() == [] and storage.list("raw") == []
            assert [t for t, r in dump(warehouse).items() if r and t not in BOOKKEEPING] == []

            (retried,) = pull(ref, small_catalog, storage, warehouse, at(1), at(21)).results
        assert retried.ledger.status == "loaded"
        assert_same_warehouse(warehouse, clean)
    finally:
        source.drop()


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdServer]:
    with sshd_server() as server:
        yield server


def test_an_sftp_download_dropped_on_every_attempt_takes_nothing_and_the_rerun_equals_a_clean_run(
    sshd, catalog, small_catalog, tmp_path_factory, tmp_path, monkeypatch
):
    out = tmp_path_factory.mktemp("big")
    manifest = generate(out, seed=9, rows=2500, sources=[PBC], defect_rate=0.0, catalog=catalog)
    source_file = out / manifest["deliveries"][0]["path"]
    ref = catalog.source(PBC)
    sshd.clear()
    try:
        upload(sshd, source_file, "/credit/jbzh")
        sshd.make_dirs("/credit/jbzh/done", writable=True)
        monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", sshd.connection())
        clean, clean_storage = fresh(tmp_path, "clean", small_catalog)
        (loaded,) = run_source(ref, catalog=small_catalog, storage=clean_storage, warehouse=clean,
                               options=QUICK).results  # fmt: skip
        assert loaded.ledger.status == "loaded"

        sshd.clear()
        uploaded = upload(sshd, source_file, "/credit/jbzh")
        sshd.make_dirs("/credit/jbzh/done", writable=True)
        warehouse, storage = fresh(tmp_path, "dropped", small_catalog)
        proxy = CuttingProxy(("127.0.0.1", sshd.port), cut_after=source_file.stat().st_size // 3, cut={0, 1})
        with proxy.running():
            monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", sshd.connection(port=proxy.port))
            twice = dataclasses.replace(QUICK, download_attempts=2)
            with pytest.raises(SourceError, match=r"download of /credit/jbzh/\S+ from .* failed 2 times"):
                run_source(ref, catalog=small_catalog, storage=storage, warehouse=warehouse, options=twice)
            assert proxy.cuts == 2
            assert storage.list("raw") == [] and warehouse.ledger() == []
            assert uploaded.exists()  # left on the server for the next poll

            (retried,) = run_source(ref, catalog=small_catalog, storage=storage, warehouse=warehouse,
                                    options=twice).results  # fmt: skip
        assert retried.ledger.status == "loaded" and not uploaded.exists()
        assert_same_warehouse(warehouse, clean)
    finally:
        sshd.clear()
