"""The marts on the synthetic deliveries (``etl.demo_data``) loaded through the real pipeline, in
rounds with corrections, on DuckDB and PostgreSQL:

- the profiles count exactly the records loaded for each subject, by category and key domain —
  computed here in Python from the dataset tables and the ledger, not by the marts' SQL;
- an incremental refresh after each round leaves every mart table exactly as a full rebuild does;
- an incremental refresh rebuilds only the subjects the new deliveries touched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import BACKENDS, initialised_warehouse
from credit_fixture import write_json
from csv_files import write_csv
from mart_helpers import Loader

from etl.catalog import Catalog, Dataset
from etl.codes.uscc import PLACEHOLDER
from etl.demo_data import generate
from etl.marts.build import refresh_marts
from etl.marts.export import cell_text
from etl.warehouse import Warehouse

DATASETS = [
    "admin_licensing", "admin_penalty", "contract_honouring_enterprise", "dishonest_judgment_debtor",
    "legal_entity_basic", "major_tax_violation", "safety_production_dishonest", "tax_credit_grade_a",
    "wage_arrears_dishonest",
]  # fmt: skip
AS_OF = dt.date(2026, 11, 28)
MARTS = ("mart_subject_facts", "mart_subject_profiles", "mart_subject_domains", "mart_list_entries",
         "mart_key_targets")  # fmt: skip
COUNTED = ("licensing", "penalty", "red_list", "black_list")
PROFILE_COUNTS = {"licensing": "licences", "penalty": "penalties", "red_list": "red_list_entries",
                  "black_list": "black_list_entries"}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, seed=11, rows=40, datasets=DATASETS)


@pytest.fixture(scope="module", params=BACKENDS)
def rounds(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, shipped_catalog: Catalog,
           demo: tuple[Path, dict[str, Any]]) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Three rounds of deliveries, each followed by a refresh: half the demo deliveries, the other
    half, then corrections (penalties moved to another subject or re-dated, list exits added).
    Yields the marts after the last incremental refresh and after a full rebuild."""
    out, manifest = demo
    tmp = tmp_path_factory.mktemp(f"rounds_{request.param}")
    with initialised_warehouse(request.param, tmp, shipped_catalog) as (_, warehouse):
        loader = Loader(shipped_catalog, warehouse, tmp / "storage")
        deliveries = manifest["deliveries"]
        half = len(deliveries) // 2
        reports = []
        for part in (deliveries[:half], deliveries[half:]):
            for delivery in part:
                assert loader.deliver(out / delivery["path"], delivery["source_id"]).ok
            reports.append(refresh_marts(warehouse, shipped_catalog, as_of=AS_OF))
        corrections, touched = _corrections(warehouse, tmp / "corrections")
        for path, source in corrections:
            result = loader.deliver(path, source)
            assert result.ledger.status == "loaded", result.ledger.error_message
        reports.append(refresh_marts(warehouse, shipped_catalog, as_of=AS_OF))
        # The corrections replaced versions (now in history) rather than adding records.
        assert warehouse.table_snapshot("admin_penalty_history").num_rows == 6
        assert warehouse.table_snapshot("safety_production_dishonest_history").num_rows == 3
        incremental = {name: warehouse.table_snapshot(name) for name in MARTS}
        full = refresh_marts(warehouse, shipped_catalog, as_of=AS_OF, full=True)
        rebuilt = {name: warehouse.table_snapshot(name) for name in MARTS}
        yield {"warehouse": warehouse, "reports": [*reports, full], "incremental": incremental,
               "rebuilt": rebuilt, "touched": touched}  # fmt: skip


def _delivered(row: dict[str, Any], dataset: Dataset) -> dict[str, str]:
    return {f.name: cell_text(row[f.name]) for f in dataset.fields}


def _corrections(warehouse: Warehouse, folder: Path) -> tuple[list[tuple[Path, str]], set[str]]:
    """Corrected versions of current records, and the subjects they name before and after."""
    from etl.catalog import load_catalog

    catalog = load_catalog()
    folder.mkdir()
    penalty = catalog.datasets["admin_penalty"]
    rows = sorted(warehouse.table_snapshot("admin_penalty").to_pylist(), key=lambda r: r["decision_no"])
    movable = [r for r in rows if r["subject_category"] == "法人及非法人组织" and not r["regno"]
               and not r["orgcode"] and r["uscc"]]  # fmt: skip
    other = next(r["uscc"] for r in reversed(movable) if r["uscc"] != movable[0]["uscc"])
    touched: set[str] = {other}
    corrected = []
    for i, row in enumerate(movable[:6]):
        record = _delivered(row, penalty)
        touched.add(_subject_key(row))
        if i < 3:
            record["uscc"] = other  # the department corrects the subject's code
        else:
            record["penalty_types"] = "吊销许可证件"  # a heavier penalty, re-dated
            record["decision_date"] = cell_text(row["decision_date"] - dt.timedelta(days=1))
        corrected.append(record)
    safety = catalog.datasets["safety_production_dishonest"]
    listed = sorted(warehouse.table_snapshot("safety_production_dishonest").to_pylist(),
                    key=lambda r: (r["subject_name"], r["entry_date"]))  # fmt: skip
    exits = []
    month = dt.timedelta(days=30)
    for row in [r for r in listed if r["exit_date"] is None and r["entry_date"] < AS_OF - 2 * month][:3]:
        record = _delivered(row, safety)
        record["exit_date"] = cell_text(row["entry_date"] + month)
        exits.append(record)
        touched.add(_subject_key(row))
    return [
        (write_json(folder / "xzcf_corrections.json", corrected), "admin_penalty__scjg__landing"),
        (write_csv(folder / "aqsc_exits.csv", exits), "safety_production_dishonest__yjgl__landing"),
    ], touched


def test_incremental_refreshes_give_what_a_full_rebuild_gives(rounds: dict[str, Any]) -> None:
    modes = [r.mode for r in rounds["reports"]]
    assert modes == ["full", "incremental", "incremental", "full"]
    for name in MARTS:
        assert rounds["incremental"][name].num_rows > 0, name
        assert rounds["incremental"][name].equals(rounds["rebuilt"][name]), name


def test_an_incremental_refresh_rebuilds_only_the_touched_subjects(rounds: dict[str, Any]) -> None:
    first, second, corrections, full = rounds["reports"]
    loaded = rounds["warehouse"].ledger(status=["loaded", "loaded_with_rejections"])
    assert first.deliveries + second.deliveries == len(loaded) - 2
    assert corrections.deliveries == 2
    assert corrections.subjects == len(rounds["touched"])
    assert corrections.subjects < full.profiles and second.subjects < full.profiles
    assert full.deliveries == 0


def _subject_key(row: dict[str, Any]) -> str:
    """The subject-key rules of etl.marts.subjects, written again in Python."""
    code = row.get("uscc")
    if code and code != PLACEHOLDER:
        return code
    if row.get("id_no"):
        return row["id_no"]
    tax = row.get("tax_reg_no")
    if tax and len(tax) == 18:
        return tax
    for name in ("regno", "orgcode", "tax_reg_no", "institution_cert_no", "social_org_reg_no"):
        if row.get(name):
            return row[name]
    return "name:" + (row.get("subject_name") or row.get("person_name") or "")


def _fact_date(dataset: Dataset) -> str:
    if dataset.list_spec is not None:
        return dataset.list_spec.entry_date_field
    assert dataset.sla.publication is not None
    return dataset.sla.publication.from_field


def test_profiles_count_exactly_the_records_loaded_for_each_subject(
    rounds: dict[str, Any], shipped_catalog: Catalog
) -> None:
    warehouse = rounds["warehouse"]
    source_of = {r.delivery_id: r.source for r in warehouse.ledger() if r.status != "duplicate"}
    domain_of = {ref.id: shipped_catalog.domain_of(ref) for ref in shipped_catalog.sources()}
    expected: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, None])
    keys = {r["uscc"] for r in warehouse.table_snapshot("subjects").to_pylist()}
    for dataset_id in DATASETS:
        dataset = shipped_catalog.datasets[dataset_id]
        for row in warehouse.table_snapshot(dataset.table).to_pylist():
            key = _subject_key(row)
            keys.add(key)
            if dataset.category not in COUNTED:
                continue
            cell = expected[(key, domain_of[source_of[row["_delivery_id"]]], dataset.category)]
            cell[0] += 1
            day = row[_fact_date(dataset)]
            cell[1] = day if cell[1] is None or (day is not None and day > cell[1]) else cell[1]
    found = {(r["subject_key"], r["domain"], r["category"]): [r["records"], r["latest"]]
             for r in warehouse.table_snapshot("mart_subject_domains").to_pylist()}  # fmt: skip
    assert found == dict(expected)
    profiles = {p["subject_key"]: p for p in warehouse.table_snapshot("mart_subject_profiles").to_pylist()}
    assert set(profiles) == keys
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for (key, _, category), (records, _) in expected.items():
        totals[key][category] += records
    for key, profile in profiles.items():
        assert {c: profile[PROFILE_COUNTS[c]] for c in COUNTED} == {c: totals[key][c] for c in COUNTED}, key
    assert sum(sum(c.values()) for c in totals.values()) > 300


def test_profiles_take_names_and_types_of_usccs_from_the_subjects_table(rounds: dict[str, Any]) -> None:
    warehouse = rounds["warehouse"]
    profiles = {p["subject_key"]: p for p in warehouse.table_snapshot("mart_subject_profiles").to_pylist()}
    subjects = warehouse.table_snapshot("subjects").to_pylist()
    assert subjects
    for subject in subjects:
        profile = profiles[subject["uscc"]]
        assert (profile["name"], profile["subject_type"], profile["division"]) == (
            subject["name"], subject["subject_type"], subject["division"]
        )  # fmt: skip
    facts = warehouse.table_snapshot("mart_subject_facts").to_pylist()
    names: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        if fact["subject_name"]:
            names[fact["subject_key"]].add(fact["subject_name"])
    for key, profile in profiles.items():
        former = set(profile["former_names"].split("；")) if profile["former_names"] else set()
        assert former == names[key] - {profile["name"]}, key
    print(json.dumps({"profiles": len(profiles), "with former names": sum(bool(p["former_names"])
                                                                         for p in profiles.values())}))
