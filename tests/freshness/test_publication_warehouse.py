"""双公示 timeliness on records loaded through the pipeline into DuckDB and PostgreSQL.

The warehouse stamps ``_loaded_at`` with its own clock; the test moves the stamps to fixed days
after each load (``penalty_deliveries``), so the hand-computed answer below does not depend on the
day the test runs. Deadlines are 7 working days after the decision (国庆 10-01..10-07 off,
Sunday 09-20 and Saturday 10-10 make-up working days, 中秋 09-25..09-27 off):

======  ==========  =========  ===============  ==========  ==========================
record  department  decided    due              published   late (working days)
======  ==========  =========  ===============  ==========  ==========================
101     scjg        09-28 Mon  10-13            10-13       on time (the deadline day)
102     scjg        09-25 中秋  10-12            10-13       1
103     scjg        09-18 Fri  09-29            10-13       6 (its 10-20 correction does not count)
104     scjg        10-09 Fri  10-19            10-20       1
201     jt          10-08 Thu  10-16            10-16       on time
202     jt          2003-06-16 before 2004       10-16       undecided (no calendar for 2003)
======  ==========  =========  ===============  ==========  ==========================

scjg: 1 of 4 on time (25 %); jt: 1 of 1 judged on time, 1 undecided.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from penalty_deliveries import deliver, number, penalty, stamp

from etl.calendar import WorkCalendar
from etl.catalog import Catalog, load_catalog
from etl.freshness import assess_publication, at
from etl.freshness_queries import publication_tables, read_deliveries, read_publication_records
from etl.warehouse import open_warehouse

D = dt.date


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    full = load_catalog()
    return dataclasses.replace(full, datasets={"admin_penalty": full.datasets["admin_penalty"]})


def test_publication_lateness_per_record_and_on_time_rates_per_department(
    warehouse_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    first = deliver(tmp_path, warehouse, catalog, "scjg", "a.csv",
                    [penalty(101, "2026-09-28"), penalty(102, "2026-09-25"), penalty(103, "2026-09-18")],
                    at(2026, 10, 13, 9))  # fmt: skip
    stamp(warehouse, [101, 102, 103], at(2026, 10, 13, 9, 30))
    jt_rows = [penalty(201, "2026-10-08"), penalty(202, "2003-06-16")]
    deliver(tmp_path, warehouse, catalog, "jt", "b.csv", jt_rows, at(2026, 10, 16, 9))
    stamp(warehouse, [201, 202], at(2026, 10, 16, 9, 30))
    # A correction of 103 (new facts) and a new record 104, in one later delivery.
    corrections = [penalty(103, "2026-09-18", "经复查，当事人销售不合格产品。"), penalty(104, "2026-10-09")]
    second = deliver(tmp_path, warehouse, catalog, "scjg", "c.csv", corrections, at(2026, 10, 20, 9))
    stamp(warehouse, [103, 104], at(2026, 10, 20, 9, 30))
    assert warehouse.table_snapshot("admin_penalty_history").num_rows == 1

    records = read_publication_records(warehouse, publication_tables(catalog))
    by_number = {number(r): r for r in records}
    assert sorted(by_number) == ["101", "102", "103", "104", "201", "202"]
    corrected = by_number["103"]
    assert corrected.first_loaded_on == D(2026, 10, 13)  # not the 10-20 of its current version
    assert (corrected.delivery_id, corrected.department) == (second, "scjg")
    assert corrected.source == "admin_penalty__scjg__landing" and corrected.source_row == 2
    assert by_number["101"].delivery_id == first and by_number["202"].department == "jt"

    report = assess_publication(records, {"admin_penalty": 7}, WorkCalendar())
    late = [(number(x.record), x.deadline, x.working_days_late) for x in report.late]
    assert late[0] == ("103", D(2026, 9, 29), 6)  # most late first
    assert sorted(late[1:]) == [("102", D(2026, 10, 12), 1), ("104", D(2026, 10, 19), 1)]
    rates = {r.department: (r.on_time, r.late, r.undecided, r.rate) for r in report.department_rates}
    assert rates == {"jt": (1, 0, 1, 1.0), "scjg": (1, 3, 0, 0.25)}
    assert [(r.department, r.dataset) for r in report.rates] == [
        ("jt", "admin_penalty"), ("scjg", "admin_penalty"),
    ]  # fmt: skip
    assert list(report.undecided.values()) == [1]
    assert "no working-day calendar for 2003" in next(iter(report.undecided))

    # As of 10-19, record 104 (first loaded 10-20) is not published yet.
    earlier = read_publication_records(warehouse, publication_tables(catalog), loaded_until=D(2026, 10, 19))
    assert sorted(number(r) for r in earlier) == ["101", "102", "103", "201", "202"]


def test_ledger_rows_are_read_up_to_a_day_in_shanghai(
    warehouse_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    late_evening, after_midnight = at(2026, 10, 13, 23, 59), at(2026, 10, 14, 0, 1)
    deliver(tmp_path, warehouse, catalog, "scjg", "a.csv", [penalty(101, "2026-09-28")], late_evening)
    deliver(tmp_path, warehouse, catalog, "jt", "b.csv", [penalty(201, "2026-10-08")], after_midnight)
    until_13th = read_deliveries(warehouse, until=D(2026, 10, 13))
    assert [d.source for d in until_13th] == ["admin_penalty__scjg__landing"]
    every = read_deliveries(warehouse)
    assert [(d.received_on, d.status) for d in every] == [
        (D(2026, 10, 13), "loaded"), (D(2026, 10, 14), "loaded"),
    ]  # fmt: skip
    assert all(d.loaded_at is not None and d.loaded_at.tzinfo is not None for d in every)


def test_identity_numbers_in_a_key_are_masked(catalog: Catalog) -> None:
    from etl.freshness_queries import PublicationTable, _record

    keys = ("decision_no", "id_no")
    table = PublicationTable("x", "x", "x_history", "decision_date", keys, frozenset({"id_no"}))
    row = (D(2026, 10, 8), at(2026, 10, 9), "scjg", "x__scjg__landing", "x:scjg:0123", 2, "文号1",
           "360426199101010071")  # fmt: skip
    assert dict(_record(table, row).key) == {"decision_no": "文号1", "id_no": "3604**********0071"}
