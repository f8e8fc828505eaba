"""The warehouse's PostgreSQL server restarts in the middle of a load.

The server is a private one (``private_postgres``: initdb into a temporary directory, its own port),
so restarting it disturbs no other test. The restart (fast shutdown: the open transaction is rolled
back, the client disconnected) happens inside the load transaction after the delivery's rows were
copied into the dataset table. The attempt fails with a clear warehouse error and is recorded as
``failed`` once the server is back; nothing of it is in the warehouse; the rerun redoes the ledger
row in place and the warehouse equals, table by table, one that loaded the delivery cleanly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from private_postgres import PrivatePostgres, private_postgres
from warehouse_compare import assert_same_warehouse, dump

from etl.catalog import Catalog
from etl.drop import receive_file
from etl.errors import WarehouseError
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.warehouse import open_warehouse
from etl.warehouse.base import Warehouse

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    with private_postgres() as started:
        yield started


def fresh(server: PrivatePostgres, schema: str, catalog: Catalog) -> Warehouse:
    warehouse = open_warehouse(f"{server.url}?schema={schema}")
    warehouse.init(catalog)
    return warehouse


def load(penalty_file, catalog, warehouse, storage):
    drop = receive_file(storage, penalty_file, dataset="admin_penalty", department="scjg",
                        source="admin_penalty__scjg__landing")  # fmt: skip
    return process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)


@pytest.mark.parametrize("stage", ["append", "ledger"])
def test_a_server_restart_mid_load_fails_the_attempt_and_a_rerun_equals_a_clean_run(
    stage, server, penalty_file, small_catalog, tmp_path, monkeypatch
):
    clean = fresh(server, f"clean_{stage}", small_catalog)
    load(penalty_file, small_catalog, clean, Storage(tmp_path / "clean-storage"))

    warehouse = fresh(server, f"restarted_{stage}", small_catalog)
    storage = Storage(tmp_path / "storage")
    restarts = []

    def restart_at(self, reached: str) -> None:
        if reached == stage and not restarts:
            restarts.append(reached)
            server.restart()

    with monkeypatch.context() as patch:
        patch.setattr(Warehouse, "_checkpoint", restart_at)
        with pytest.raises(WarehouseError, match=r"load of delivery admin_penalty:scjg:\S+ failed in"):
            load(penalty_file, small_catalog, warehouse, storage)
    assert restarts == [stage]

    after = dump(warehouse)
    (failed,) = warehouse.ledger()
    assert failed.status == "failed" and failed.error_reason == "WarehouseError"
    assert [t for t, rows in after.items() if rows and t not in ("deliveries", "dataset_tables",
                                                                  "schema_migrations")] == []  # fmt: skip
    assert storage.list("staging") == []

    result = load(penalty_file, small_catalog, warehouse, storage)
    assert result.ledger.status == "loaded_with_rejections"
    assert result.ledger.ledger_id == failed.ledger_id  # the failed attempt redone in place
    assert_same_warehouse(warehouse, clean)
