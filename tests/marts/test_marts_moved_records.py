"""A record moved to another subject by a correction the refresh did not take in (on PostgreSQL a
load may commit while a refresh runs): the refresh still rebuilds the subject that held it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from backends import BACKENDS, initialised_warehouse
from credit_fixture import NAMES, D, E, penalty_rows, write_json
from mart_helpers import Loader

from etl.catalog import Catalog
from etl.marts.build import refresh_marts

PENALTY = "admin_penalty__scjg__landing"
MARTS = ("mart_subject_facts", "mart_subject_profiles", "mart_subject_domains", "mart_key_targets")
AS_OF = dt.date(2026, 9, 15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_subject_holding_a_moved_record_is_rebuilt(
    backend: str, tmp_path: Path, shipped_catalog: Catalog
) -> None:
    with initialised_warehouse(backend, tmp_path, shipped_catalog) as (_, warehouse):
        loader = Loader(shipped_catalog, warehouse, tmp_path / "storage")
        rows = penalty_rows()
        assert loader.deliver(write_json(tmp_path / "first.json", rows), PENALTY).ledger.status == "loaded"
        refresh_marts(warehouse, shipped_catalog, as_of=AS_OF)
        moved = {**rows[3], "uscc": E}  # D's 警告 corrected to E's code (same 文书号 and name: same record)
        correction = loader.deliver(write_json(tmp_path / "moved.json", [moved]), PENALTY).ledger
        # As if a refresh had taken the correction in before its rows were visible.
        with warehouse._session("test") as session, session.transaction():
            session.execute(
                "INSERT INTO mart_refreshed_deliveries (ledger_id, refreshed_at) VALUES ($id, now())",
                {"id": correction.ledger_id},
            )
        later = {**rows[4], "decision_no": "柳市监罚〔2026〕99号", "decision_date": "2026-09-10"}
        assert loader.deliver(write_json(tmp_path / "later.json", [later]), PENALTY).ledger.status == "loaded"
        report = refresh_marts(warehouse, shipped_catalog, as_of=AS_OF)
        assert (report.mode, report.deliveries, report.subjects) == ("incremental", 1, 2)  # E, and D
        incremental = {name: warehouse.table_snapshot(name) for name in MARTS}
        refresh_marts(warehouse, shipped_catalog, as_of=AS_OF, full=True)
        for name in MARTS:
            assert incremental[name].equals(warehouse.table_snapshot(name)), name
        profiles = {p["subject_key"]: p for p in incremental["mart_subject_profiles"].to_pylist()}
        assert (profiles[D]["penalties"], profiles[E]["penalties"]) == (3, 5)
        assert NAMES[D] in profiles[E]["former_names"]
