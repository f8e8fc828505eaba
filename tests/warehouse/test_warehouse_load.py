"""Loading deliveries: merge on the dedup key, history, subjects, quarantine, ledger, atomicity."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warehouse_deliveries import PLACEHOLDER, USCC_A, USCC_B, USCC_C, Deliveries, penalty

from etl.errors import WarehouseError
from etl.warehouse import LedgerRow
from etl.warehouse.base import LoadBatch, Warehouse
from etl.warehouse.ledger import SHANGHAI

TABLES = ("admin_penalty", "admin_penalty_history", "subjects", "quarantine", "deliveries")


def snapshots(warehouse: Warehouse, tables: tuple[str, ...] = TABLES) -> dict[str, pa.Table]:
    return {t: warehouse.table_snapshot(t) for t in tables}


def rows_by_key(table: pa.Table) -> dict[str, dict]:
    return {r["decision_no"]: r for r in table.to_pylist()}


class InjectedCrash(RuntimeError):
    pass


def test_load_new_rows(warehouse: Warehouse, penalties: Deliveries) -> None:
    batch = penalties.batch([penalty(1), penalty(2, fine_amount=decimal.Decimal("12.345678"))])
    report = warehouse.load(batch)
    assert (report.inserted, report.updated, report.unchanged) == (2, 0, 0)
    rows = rows_by_key(warehouse.table_snapshot("admin_penalty"))
    second = rows["柳市监处罚〔2026〕2号"]
    assert second["fine_amount"] == decimal.Decimal("12.345678")
    assert second["decision_date"] == dt.date(2026, 9, 1)
    assert second["_delivery_id"] == batch.ledger.delivery_id
    assert second["_sha256"] == batch.ledger.sha256
    assert second["_source_row"] == 3
    assert second["_loaded_at"] == report.loaded_at
    assert len(second["_record_hash"]) == 16
    assert rows["柳市监处罚〔2026〕1号"]["_record_hash"] != second["_record_hash"]
    assert warehouse.table_snapshot("admin_penalty_history").num_rows == 0


def test_loading_the_same_staged_delivery_again_changes_nothing(
    warehouse: Warehouse, penalties: Deliveries
) -> None:
    batch = penalties.batch([penalty(1), penalty(2, uscc=USCC_C)], [{"uscc": "91450200ABC"}])
    first = warehouse.load(batch)
    before = snapshots(warehouse)
    # As the ledger row already written (a reprocess in place): every table stays byte-identical.
    again = warehouse.load(LoadBatch(first.ledger, batch.dataset, batch.accepted_path, batch.rejected_path))
    assert (again.inserted, again.updated, again.unchanged, again.quarantined) == (0, 0, 2, 0)
    assert snapshots(warehouse) == before
    # As a new ledger row: only the ledger grows.
    warehouse.load(batch)
    after = snapshots(warehouse)
    assert {t: after[t] for t in TABLES[:-1]} == {t: before[t] for t in TABLES[:-1]}
    assert after["deliveries"].num_rows == 2


def test_changed_record_updates_current_row_and_keeps_previous_in_history(
    warehouse: Warehouse, penalties: Deliveries
) -> None:
    first = penalties.batch([penalty(1), penalty(2)])
    warehouse.load(first)
    old = rows_by_key(warehouse.table_snapshot("admin_penalty"))["柳市监处罚〔2026〕1号"]
    second = penalties.batch([penalty(1, fine_amount=decimal.Decimal("2")), penalty(2), penalty(3)])
    report = warehouse.load(second)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)

    current = rows_by_key(warehouse.table_snapshot("admin_penalty"))
    assert len(current) == 3
    changed = current["柳市监处罚〔2026〕1号"]
    assert changed["fine_amount"] == decimal.Decimal("2")
    assert changed["_delivery_id"] == second.ledger.delivery_id
    assert changed["_loaded_at"] == report.loaded_at
    # The unchanged record keeps the lineage of the delivery that brought it.
    assert current["柳市监处罚〔2026〕2号"]["_delivery_id"] == first.ledger.delivery_id

    history = warehouse.table_snapshot("admin_penalty_history").to_pylist()
    assert len(history) == 1
    previous = history[0]
    assert previous.pop("_superseded_by") == second.ledger.delivery_id
    assert previous.pop("_superseded_at") == report.loaded_at
    assert previous == old


def test_quarantine_and_ledger_rows_are_written(warehouse: Warehouse, penalties: Deliveries) -> None:
    raw = {"subject_name": "柳州市某某公司", "uscc": "9145020０MA5KB1234", "decision_no": "  "}
    batch = penalties.batch([penalty(1)], [raw, {"subject_name": "李四"}])
    report = warehouse.load(batch)
    assert report.quarantined == 2

    quarantine = warehouse.table_snapshot("quarantine").to_pylist()
    assert [q["source_row"] for q in quarantine] == [3, 4]
    first = quarantine[0]
    assert (first["delivery_id"], first["dataset"], first["department"]) == (
        batch.ledger.delivery_id, "admin_penalty", "scjg",
    )
    assert json.loads(first["raw_json"]) == raw
    assert list(json.loads(first["raw_json"])) == list(raw)  # key order as delivered
    assert json.loads(first["reasons_json"])[0]["rule"] == "USCC_CHECKSUM"
    assert first["created_at"] == report.loaded_at

    written = report.ledger
    assert written.ledger_id is not None
    assert written.replace(ledger_id=None) == batch.ledger
    assert warehouse.ledger() == [written]
    assert warehouse.find_delivery(batch.ledger.sha256, "admin_penalty", "scjg") == written
    assert warehouse.find_delivery(batch.ledger.sha256, "admin_penalty", "sthj") is None


def test_reprocess_replaces_the_quarantine_of_the_delivery(
    warehouse: Warehouse, penalties: Deliveries
) -> None:
    batch = penalties.batch([penalty(1)], [{"uscc": "x"}, {"uscc": "y"}])
    first = warehouse.load(batch)
    created = warehouse.table_snapshot("quarantine").column("created_at").to_pylist()
    # Processed again after a fix: row 3 is now accepted, row 4 still rejected with a new reason.
    rejected = pq.read_table(batch.rejected_path).slice(1)
    rejected = rejected.set_column(3, "reasons_json", pa.array(['[{"rule": "NEW"}]']))
    rejected_path = batch.rejected_path.with_name("rejected-again.parquet")
    pq.write_table(rejected, rejected_path)
    again = LoadBatch(
        first.ledger.replace(rows_loaded=1, rows_rejected=1, rows_read=2), batch.dataset,
        batch.accepted_path, rejected_path,
    )
    warehouse.load(again)
    quarantine = warehouse.table_snapshot("quarantine").to_pylist()
    assert [(q["source_row"], q["reasons_json"]) for q in quarantine] == [(4, '[{"rule": "NEW"}]')]
    assert quarantine[0]["created_at"] == created[1]
    assert [r.rows_read for r in warehouse.ledger()] == [2]


@pytest.mark.parametrize("stage", Warehouse.LOAD_STAGES)
def test_crash_inside_the_load_leaves_nothing_and_a_rerun_completes(
    warehouse: Warehouse, penalties: Deliveries, stage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse.load(penalties.batch([penalty(1), penalty(2)], [{"uscc": "x"}]))
    second = penalties.batch(
        [penalty(1, fine_amount=decimal.Decimal("9")), penalty(3, uscc=USCC_C)], [{"uscc": "y"}]
    )
    before = snapshots(warehouse)

    def crash(reached: str) -> None:
        if reached == stage:
            raise InjectedCrash(stage)

    monkeypatch.setattr(warehouse, "_checkpoint", crash)
    with pytest.raises(InjectedCrash):
        warehouse.load(second)
    assert snapshots(warehouse) == before

    monkeypatch.undo()
    report = warehouse.load(second)
    assert (report.inserted, report.updated, report.unchanged, report.quarantined) == (1, 1, 0, 1)
    after = snapshots(warehouse)
    assert {t: after[t].num_rows for t in TABLES} == {
        "admin_penalty": 3, "admin_penalty_history": 1, "subjects": 2, "quarantine": 2, "deliveries": 2,
    }


def test_subjects_keep_first_sighting_and_advance_the_latest(
    warehouse: Warehouse, penalties: Deliveries
) -> None:
    day = [dt.datetime(2026, 10, d, 10, 0, tzinfo=SHANGHAI) for d in (1, 2, 3)]
    middle = penalties.batch(
        [
            penalty(1, uscc=USCC_A, subject_name="柳州甲公司"),
            penalty(2, uscc=PLACEHOLDER, regno="450200000012340"),
            penalty(3, uscc=None, subject_category="自然人", subject_name="王五"),
            penalty(4, uscc=USCC_C, subject_name="鱼峰区某某商店", subject_category="个体工商户"),
        ],
        received_at=day[1],
    )
    warehouse.load(middle)
    subjects = {s["uscc"]: s for s in warehouse.table_snapshot("subjects").to_pylist()}
    assert set(subjects) == {USCC_A, USCC_C}  # no placeholder, no subject without a code
    shop = subjects[USCC_C]
    assert (shop["name"], shop["subject_type"]) == ("鱼峰区某某商店", "个体工商户")
    assert shop["division"] == "340602"

    later = penalties.batch([penalty(5, uscc=USCC_A, subject_name="柳州甲公司（更名）")], received_at=day[2])
    earlier = penalties.batch([penalty(6, uscc=USCC_A, subject_name="柳州甲公司旧名")], received_at=day[0])
    warehouse.load(later)
    warehouse.load(earlier)  # an old delivery processed late moves only the first sighting
    company = {s["uscc"]: s for s in warehouse.table_snapshot("subjects").to_pylist()}[USCC_A]
    assert company["name"] == "柳州甲公司（更名）"
    assert (company["first_seen"], company["first_delivery_id"]) == (day[0], earlier.ledger.delivery_id)
    assert (company["last_seen"], company["last_delivery_id"]) == (day[2], later.ledger.delivery_id)
    assert company["division"] == "110000"


def test_subject_type_comes_from_the_code_when_the_dataset_has_no_category(
    warehouse: Warehouse, tmp_path, catalog
) -> None:
    accounts = Deliveries(tmp_path / "accounts", catalog.datasets["basic_deposit_account"])
    record = {"subject_name": "某某商店", "basic_account_no": "1234", "bank_name": "柳州银行",
              "opening_date": dt.date(2020, 1, 2), "account_status": "正常"}
    warehouse.load(accounts.batch([{**record, "uscc": USCC_C}, {**record, "uscc": USCC_B}]))
    types = {s["uscc"]: s["subject_type"] for s in warehouse.table_snapshot("subjects").to_pylist()}
    assert types == {USCC_C: "个体工商户", USCC_B: "法人及非法人组织"}


def test_repeated_or_empty_dedup_keys_are_refused(warehouse: Warehouse, penalties: Deliveries) -> None:
    warehouse.load(penalties.batch([penalty(1)]))
    before = snapshots(warehouse)
    with pytest.raises(WarehouseError, match="1 key\\(s\\) occur more than once"):
        warehouse.load(penalties.batch([penalty(2), penalty(2), penalty(3)]))
    # accepted_table stores an empty optional text key field as '', so write the null directly.
    batch = penalties.batch([penalty(4), penalty(5)])
    staged = pq.read_table(batch.accepted_path)
    index = staged.schema.get_field_index("decision_no")
    pq.write_table(staged.set_column(index, "decision_no", pa.array([None, "x"], pa.string())),
                   batch.accepted_path)
    with pytest.raises(WarehouseError, match="1 row\\(s\\) have an empty key field"):
        warehouse.load(batch)
    assert snapshots(warehouse) == before


def test_a_record_with_an_empty_optional_key_field_is_merged_like_any_other(
    warehouse: Warehouse, tmp_path, catalog
) -> None:
    registry = Deliveries(tmp_path / "registry", catalog.datasets["legal_entity_basic"])
    assert set(catalog.datasets["legal_entity_basic"].dedup_key) == {"uscc", "regno"}
    record = {"subject_name": "柳州某某有限公司", "uscc": USCC_A, "regno": None}
    first = warehouse.load(registry.batch([record]))
    assert (first.inserted, first.updated) == (1, 0)
    again = warehouse.load(registry.batch([record]))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    renamed = warehouse.load(registry.batch([{**record, "subject_name": "柳州某某集团有限公司"}]))
    assert (renamed.inserted, renamed.updated) == (0, 1)
    assert warehouse.table_snapshot("legal_entity_basic").column("regno").to_pylist() == [""]


def test_staged_files_must_match_the_ledger_row(warehouse: Warehouse, penalties: Deliveries) -> None:
    batch = penalties.batch([penalty(1), penalty(2)])
    short = LoadBatch(batch.ledger.replace(rows_loaded=1, rows_read=1), batch.dataset, batch.accepted_path)
    with pytest.raises(WarehouseError, match="staged 2 accepted and 0 rejected rows"):
        warehouse.load(short)
    other = penalties.batch([penalty(3), penalty(4)])
    mixed = LoadBatch(other.ledger, batch.dataset, batch.accepted_path)
    with pytest.raises(WarehouseError, match="accepted rows carry _delivery_id"):
        warehouse.load(mixed)
    failed = LoadBatch(batch.ledger.replace(status="failed"), batch.dataset, batch.accepted_path)
    with pytest.raises(WarehouseError, match="not failed"):
        warehouse.load(failed)
    assert warehouse.table_snapshot("deliveries").num_rows == 0


def test_load_into_a_table_init_has_not_created(warehouse_url: str, penalties: Deliveries) -> None:
    from etl.warehouse import open_warehouse

    with pytest.raises(WarehouseError, match="run `credit-etl warehouse init`"):
        open_warehouse(warehouse_url).load(penalties.batch([penalty(1)]))


def test_record_ledger_find_delivery_and_queries(warehouse: Warehouse, penalties: Deliveries) -> None:
    loaded = warehouse.load(penalties.batch([penalty(1)])).ledger
    duplicate = warehouse.record_ledger(
        loaded.replace(
            ledger_id=None, status="duplicate", received_at=loaded.received_at + dt.timedelta(days=9),
            rows_read=0, rows_loaded=0, notes=f"same bytes as ledger row {loaded.ledger_id}",
        )
    )
    failed = warehouse.record_ledger(
        LedgerRow(
            delivery_id="admin_penalty:sthj:" + "f" * 16, dataset="admin_penalty", department="sthj",
            source="admin_penalty__sthj__sftp", file_name="xzcf.csv", sha256="f" * 64, size_bytes=5,
            received_at=dt.datetime(2026, 10, 20, 15, 0, tzinfo=SHANGHAI), status="failed",
            error_reason="MISSING_COLUMNS", error_message="缺少必填列：行政处罚决定书文号",
            change_date=dt.date(2026, 10, 19),
        )
    )
    assert duplicate.ledger_id != loaded.ledger_id
    # The duplicate arrival does not hide the delivery it repeats.
    assert warehouse.find_delivery(loaded.sha256, "admin_penalty", "scjg") == loaded
    assert warehouse.find_delivery("f" * 64, "admin_penalty", "sthj") == failed

    assert warehouse.ledger(status="duplicate") == [duplicate]
    assert warehouse.ledger(status=["loaded", "failed"]) == [loaded, failed]
    assert warehouse.ledger(department="sthj") == [failed]
    assert duplicate.received_at < failed.received_at
    assert warehouse.ledger(received_from=failed.received_at) == [failed]
    assert warehouse.ledger(received_before=loaded.received_at + dt.timedelta(seconds=1)) == [loaded]

    # Processed again in place: the failed row becomes the loaded one.
    fixed = warehouse.record_ledger(failed.replace(status="rejected", error_reason="EMPTY_FILE"))
    assert fixed.ledger_id == failed.ledger_id
    assert warehouse.find_delivery("f" * 64, "admin_penalty", "sthj").status == "rejected"
    with pytest.raises(WarehouseError, match="no ledger row 999"):
        warehouse.record_ledger(failed.replace(ledger_id=999))


def test_staged_files_may_be_storage_uris(warehouse: Warehouse, penalties: Deliveries) -> None:
    # A storage root on object storage hands the load URIs; file:// takes the same code path.
    batch = penalties.batch([penalty(1), penalty(2)], [{"uscc": "x"}])
    as_uris = LoadBatch(batch.ledger, batch.dataset, f"file://{batch.accepted_path}",
                        f"file://{batch.rejected_path}")
    report = warehouse.load(as_uris)
    assert (report.inserted, report.quarantined) == (2, 1)
    changed = penalties.batch([penalty(1, fine_amount=decimal.Decimal(3)), penalty(2)])
    again = warehouse.load(LoadBatch(changed.ledger, changed.dataset, f"file://{changed.accepted_path}"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    assert warehouse.table_snapshot("admin_penalty_history").num_rows == 1


@pytest.mark.parametrize("first_load", [False, True], ids=["into-empty", "into-loaded"])
def test_an_error_while_rows_stream_in_leaves_nothing(
    warehouse: Warehouse, penalties: Deliveries, first_load: bool
) -> None:
    if first_load:
        warehouse.load(penalties.batch([penalty(1)]))
    before = snapshots(warehouse)
    batch = penalties.batch([penalty(2), penalty(3)])
    rows = pq.read_table(batch.accepted_path)
    loading = warehouse.loading(batch.ledger, batch.dataset)
    with pytest.raises(InjectedCrash, match="mid-read"), loading as load:
        load.add_accepted(rows.slice(0, 1))
        raise InjectedCrash("mid-read")  # e.g. the reader meets an undecodable block
    assert snapshots(warehouse) == before
    # The next attempt on the same delivery streams it again and completes.
    with warehouse.loading(batch.ledger, batch.dataset) as load:
        load.add_accepted(rows)
        report = load.finish(batch.ledger)
    assert (report.inserted, report.unchanged) == (2, 0)
    assert warehouse.table_snapshot("admin_penalty").num_rows == 2 + first_load


def test_rows_the_warehouse_refuses_while_streaming_fail_the_load_with_the_reason(
    warehouse: Warehouse, penalties: Deliveries
) -> None:
    batch = penalties.batch([penalty(1), penalty(2)])
    rows = pq.read_table(batch.accepted_path)
    index = rows.schema.get_field_index("decision_date")
    # A value the column's type cannot hold reaches the warehouse's own check (the pipeline never
    # sends one): the load fails with the warehouse's reason, not a later "transaction aborted".
    bad = rows.set_column(index, "decision_date", pa.array(["not a date"] * 2, pa.string()))
    loading = warehouse.loading(batch.ledger, batch.dataset)
    with pytest.raises(WarehouseError, match=r"(?i)date") as raised, loading as load:
        load.add_accepted(bad)
        load.finish(batch.ledger)
    assert "aborted" not in str(raised.value)
    assert warehouse.table_snapshot("admin_penalty").num_rows == 0
    assert warehouse.table_snapshot("deliveries").num_rows == 0


def test_rows_streamed_without_their_record_hash_get_the_staged_one(
    warehouse: Warehouse, penalties: Deliveries
) -> None:
    # DuckDB computes the hash inside its INSERT, PostgreSQL's writer thread with record_hashes: both
    # must give what a staged file carries, or a re-delivery would look changed.
    from etl.warehouse.schema import dataset_table
    from etl.warehouse.staging import accepted_fields

    batch = penalties.batch([penalty(1), penalty(2, uscc=USCC_C, fine_amount=decimal.Decimal("0.5"))])
    staged = pq.read_table(batch.accepted_path)
    table = dataset_table(batch.dataset)
    fields = accepted_fields(staged.select(list(table.field_names)), table,
                             source_rows=staged.column("_source_row").combine_chunks())  # fmt: skip
    assert "_record_hash" not in fields.column_names
    with warehouse.loading(batch.ledger, batch.dataset) as load:
        load.add_accepted(fields)
        load.finish(batch.ledger)
    rows = warehouse.table_snapshot("admin_penalty").to_pylist()
    loaded = {r["_source_row"]: r["_record_hash"] for r in rows}
    staged_rows, staged_hashes = staged.column("_source_row"), staged.column("_record_hash")
    assert loaded == dict(zip(staged_rows.to_pylist(), staged_hashes.to_pylist(), strict=True))
