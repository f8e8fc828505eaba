"""The marts on a hand-made set of deliveries (``credit_fixture``) loaded through the real pipeline:
list membership between entry and exit, key supervision targets against a hand-computed table,
serious penalties, lookup (masking, audit) and the exchange export (openness)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import BACKENDS, initialised_warehouse
from credit_fixture import (
    AUTHORITY_USCC,
    EXPECTED_TARGETS,
    EXPECTED_TARGETS_BEFORE_CORRECTION,
    NAMES,
    REGNO_D,
    SERIOUS,
    A,
    B,
    C,
    D,
    E,
    F,
    court_rows,
    penalty_rows,
    safety_rows,
    write_json,
    write_jsonl,
)
from csv_files import write_csv
from mart_helpers import Loader

from etl.catalog import Catalog
from etl.cli import main
from etl.codes import idcard
from etl.errors import UsageError
from etl.marts import read
from etl.marts.build import refresh_marts
from etl.marts.export import export_period
from etl.warehouse import open_warehouse

N = 2
SAFETY = "safety_production_dishonest__yjgl__landing"
COURT = "dishonest_judgment_debtor__court__database"
PENALTY = "admin_penalty__scjg__landing"


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           shipped_catalog: Catalog) -> Iterator[dict[str, Any]]:  # fmt: skip
    """The fixture delivered in two rounds: lists and penalties, then the 安全生产 list corrected."""
    tmp = tmp_path_factory.mktemp(f"fixture_{request.param}")
    with initialised_warehouse(request.param, tmp, shipped_catalog) as (url, warehouse):
        loader = Loader(shipped_catalog, warehouse, tmp / "storage")
        files = tmp / "files"
        files.mkdir()
        for path, source in (
            (write_csv(files / "aqsc_1.csv", safety_rows(with_exit=False)), SAFETY),
            (write_jsonl(files / "sxbzxr.jsonl", court_rows()), COURT),
            (write_json(files / "xzcf.json", penalty_rows()), PENALTY),
        ):
            result = loader.deliver(path, source)
            assert result.ledger.status == "loaded", (source, result.ledger.error_message)
        refresh_marts(warehouse, shipped_catalog, as_of=dt.date(2026, 7, 1), serious_penalties=N)
        with warehouse._session("test") as session:
            before = {day: _targets(session, day) for day in EXPECTED_TARGETS_BEFORE_CORRECTION}
        corrected = loader.deliver(write_csv(files / "aqsc_2.csv", safety_rows(with_exit=True)), SAFETY)
        assert corrected.ledger.status == "loaded"
        report = refresh_marts(warehouse, shipped_catalog, as_of=dt.date(2026, 6, 15), serious_penalties=N)
        yield {"warehouse": warehouse, "url": url, "before": before, "report": report}


def _targets(session: Any, day: dt.date) -> dict[str, str]:
    return {t["subject_key"]: t["reasons"] for t in read.key_targets(session, day, N)}


def test_key_targets_match_the_hand_computed_fixture(loaded: dict[str, Any]) -> None:
    with loaded["warehouse"]._session("test") as session:
        found = {day: _targets(session, day) for day in EXPECTED_TARGETS}
    assert found == EXPECTED_TARGETS
    assert loaded["before"] == EXPECTED_TARGETS_BEFORE_CORRECTION


def test_the_refresh_stores_the_key_targets_of_its_day(loaded: dict[str, Any]) -> None:
    table = loaded["warehouse"].table_snapshot("mart_key_targets").to_pylist()
    assert loaded["report"].mode == "incremental" and loaded["report"].key_targets == len(table)
    assert {r["subject_key"]: r["reasons"] for r in table} == EXPECTED_TARGETS[dt.date(2026, 6, 15)]
    assert {r["as_of"] for r in table} == {dt.date(2026, 6, 15)}
    a = next(r for r in table if r["subject_key"] == A)
    assert (a["black_list_domains"], a["serious_penalties"]) == (2, 0)


@pytest.mark.parametrize(
    ("subject", "dataset", "entered", "exited"),
    [
        (A, "safety_production_dishonest", dt.date(2026, 3, 1), dt.date(2026, 6, 30)),
        (B, "dishonest_judgment_debtor", dt.date(2025, 12, 1), dt.date(2026, 2, 1)),
    ],
)
def test_a_subject_removed_from_a_black_list_is_on_it_only_between_the_dates(
    loaded: dict[str, Any], subject: str, dataset: str, entered: dt.date, exited: dt.date
) -> None:
    one_day = dt.timedelta(days=1)
    days = {entered - one_day: False, entered: True, exited - one_day: True, exited: False,
            exited + dt.timedelta(days=100): False}  # fmt: skip
    with loaded["warehouse"]._session("test") as session:
        on = {day: any(e["dataset"] == dataset for e in read.lists_on(session, day, subject)) for day in days}
        everyone = read.lists_on(session, entered, None)
    assert on == days
    assert any(e["subject_key"] == subject and e["dataset"] == dataset for e in everyone)


def test_list_entries_carry_list_domain_department_and_dates(loaded: dict[str, Any]) -> None:
    view = loaded["warehouse"].table_snapshot("mart_list_entries").to_pylist()
    entries = {(e["subject_key"], e["dataset"]): e for e in view}
    assert len(view) == 5
    a = entries[(A, "safety_production_dishonest")]
    assert (a["list_kind"], a["list_name"], a["domain"], a["department"], a["authority"]) == (
        "black_list", "安全生产失信联合惩戒对象名单", "安全生产", "yjgl", "柳州市应急管理局"
    )  # fmt: skip
    assert (a["entry_date"], a["exit_date"]) == (dt.date(2026, 3, 1), dt.date(2026, 6, 30))
    c = entries[(C, "dishonest_judgment_debtor")]
    assert (c["subject_kind"], c["domain"], c["department"]) == ("idcard", "法院", "court")


def test_serious_penalties_follow_the_rule(loaded: dict[str, Any]) -> None:
    facts = loaded["warehouse"].table_snapshot("mart_subject_facts").to_pylist()
    serious: dict[str, list[str]] = {}
    for fact in facts:
        if fact["category"] == "penalty" and fact["serious"]:
            serious.setdefault(fact["subject_key"], []).append(fact["fact_date"].isoformat())
    assert {k: sorted(v) for k, v in serious.items()} == SERIOUS


def test_profiles_of_the_fixture(loaded: dict[str, Any]) -> None:
    with loaded["warehouse"]._session("test") as session:
        d, c, a = read.profile(session, D), read.profile(session, C), read.profile(session, A)
        f = read.profile(session, F)
        d_domains = read.domains(session, D)
    assert f is not None and f["penalties"] == 2 and f["former_names"] in (NAMES[F], "补|" + NAMES[F])
    assert d is not None and c is not None and a is not None
    assert (d["name"], d["subject_type"], d["division"], d["penalties"], d["latest_penalty"]) == (
        NAMES[D], "法人及非法人组织", "450204", 4, dt.date(2026, 9, 1)
    )  # fmt: skip
    assert d["legacy_codes"] == REGNO_D and d["black_list_entries"] == 0
    assert d_domains == [
        {"domain": "工商", "category": "penalty", "records": 4, "latest": dt.date(2026, 9, 1)}
    ]
    assert (c["subject_kind"], c["subject_type"], c["division"], c["penalties"], c["black_list_entries"]) == (
        "idcard", "自然人", "450202", 1, 1
    )  # fmt: skip
    latest = a["latest_black_list_entry"]
    assert (a["black_list_entries"], latest, a["penalties"]) == (2, dt.date(2026, 5, 1), 0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (D, [D]),
        (REGNO_D, [D]),  # a legacy code the records carry
        (D[8:17], [D]),  # the organisation code inside the USCC
        (D.lower(), [D]),
        (C, [C]),  # an identity number
        (C[:6] + C[8:17], [C]),  # the same number in its old 15-digit form
        (NAMES[E], [E]),
        ("柳州市", sorted([A, B, D, E, F])),  # partial name
        ("无此企业", []),
    ],
)
def test_lookup_finds_subjects_by_any_code_or_name(
    loaded: dict[str, Any], query: str, expected: list[str]
) -> None:
    from etl.marts.lookup import lookup

    day = dt.date(2026, 6, 15)
    result = lookup(loaded["warehouse"], query, as_of=day, serious_penalties=N, user="tester")
    assert sorted(s.profile["subject_key"] for s in result.subjects) == expected


def test_lookup_shows_lists_facts_with_department_and_delivery(loaded: dict[str, Any], capsys) -> None:
    warehouse = loaded["warehouse"]
    code = main(["lookup", A, "--as-of", "2026-06-15", "--json", "--warehouse", loaded["url"]])
    shown = json.loads(capsys.readouterr().out)
    assert code == 0 and shown["matched_by"] == "code"
    subject = shown["subjects"][0]
    assert {(e["list_name"], e["department"]) for e in subject["lists"]} == {
        ("安全生产失信联合惩戒对象名单", "yjgl"), ("失信被执行人名单", "court")
    }  # fmt: skip
    ledger = {r.delivery_id: r.department for r in warehouse.ledger()}
    assert all(ledger[f["delivery_id"]] == f["department"] for f in subject["facts"]) and subject["facts"]
    assert subject["key_target"]["reasons"] == "black_lists"
    code = main(["lookup", A, "--as-of", "2026-07-01", "--json", "--warehouse", loaded["url"]])
    lists = json.loads(capsys.readouterr().out)["subjects"][0]["lists"]
    assert [e["list_name"] for e in lists] == ["失信被执行人名单"]


def test_identity_numbers_are_masked_unless_asked_and_unmasked_use_is_audited(
    loaded: dict[str, Any], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    warehouse, url = loaded["warehouse"], loaded["url"]
    before = warehouse.table_snapshot("lookup_audit").num_rows
    assert main(["lookup", NAMES[C], "--warehouse", url]) == 0
    masked = capsys.readouterr().out
    assert C not in masked and idcard.mask(C) in masked
    assert main(["lookup", C, "--json", "--warehouse", url]) == 0
    masked_json = capsys.readouterr().out
    assert C not in masked_json
    assert json.loads(masked_json)["subjects"][0]["profile"]["subject_key"] == idcard.mask(C)
    with caplog.at_level(logging.WARNING, logger="etl.marts.lookup"):
        assert main(["lookup", C, "--unmasked", "--warehouse", url]) == 0
    assert C in capsys.readouterr().out
    assert any("unmasked lookup" in r.getMessage() and C not in r.getMessage() for r in caplog.records)
    audit = warehouse.table_snapshot("lookup_audit").to_pylist()
    assert len(audit) == before + 3
    mine = sorted((r["looked_up_at"], r["unmasked"], r["subject_keys"]) for r in audit)[-3:]
    assert [(unmasked, keys) for _, unmasked, keys in mine] == [(False, C), (False, C), (True, C)]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_public_export_has_the_months_records_in_national_codes_with_personal_fields_masked(
    loaded: dict[str, Any], shipped_catalog: Catalog, tmp_path: Path
) -> None:
    dataset = shipped_catalog.datasets["admin_penalty"]
    report = export_period(loaded["warehouse"], dataset, "2026-06", tmp_path)
    rows = _read_csv(report.csv_path)
    assert sorted(r["CF_WSH"] for r in rows) == ["柳市监罚〔2026〕7号", "柳市监罚〔2026〕8号"]
    assert list(rows[0]) == [f.code for f in dataset.fields if f.code]
    person = next(r for r in rows if r["CF_XDR_LB"] == "自然人")
    assert person["CF_XDR_ZJHM"] == idcard.mask(C) and C not in report.csv_path.read_text(encoding="utf-8")
    formula = next(r for r in rows if r["CF_WSH"].endswith("7号"))
    assert formula["BZ"].startswith("'=") and formula["CF_JDRQ"] == "2026-06-01"
    assert formula["CF_CFJGDM"] == AUTHORITY_USCC
    manifest = json.loads(report.manifest_path.read_text(encoding="utf-8"))
    assert (manifest["rows"], manifest["openness"], manifest["channel"]) == (2, "公开", "社会公开")
    assert manifest["sha256"] == hashlib.sha256(report.csv_path.read_bytes()).hexdigest()
    treatments = {c["code"]: c["treatment"] for c in manifest["columns"]}
    assert {c for c, t in treatments.items() if t == "masked"} == {"CF_XDR_ZJHM", "CF_FR_ZJHM"}
    assert sum(manifest["deliveries"].values()) == 2


def test_a_conditionally_shared_list_exports_only_for_the_sharing_channel(
    loaded: dict[str, Any], shipped_catalog: Catalog, tmp_path: Path
) -> None:
    dataset = shipped_catalog.datasets["dishonest_judgment_debtor"]
    with pytest.raises(UsageError, match="有条件共享"):
        export_period(loaded["warehouse"], dataset, "2026-04", tmp_path)
    assert not list(tmp_path.iterdir())
    report = export_period(loaded["warehouse"], dataset, "2026-04", tmp_path, shared=True)
    rows = _read_csv(report.csv_path)
    assert [r["case_no"] for r in rows] == ["（2026）桂02执3号"]  # C entered 04-01
    assert rows[0]["id_no"] == idcard.mask(C)
    exited = _read_csv(export_period(loaded["warehouse"], dataset, "2026-02", tmp_path, shared=True).csv_path)
    assert [r["subject_name"] for r in exited] == [NAMES[B]]  # B's exit on 02-01
    manifest = json.loads(report.manifest_path.read_text(encoding="utf-8"))
    assert manifest["channel"] == "政务共享"


def test_a_closed_dataset_is_never_exported(
    loaded: dict[str, Any], shipped_catalog: Catalog, tmp_path: Path
) -> None:
    closed = shipped_catalog.datasets["admin_penalty"].model_copy(update={"openness": "不予公开"})
    for shared in (False, True):
        with pytest.raises(UsageError, match="不予公开"):
            export_period(loaded["warehouse"], closed, "2026-06", tmp_path, shared=shared)
    assert not list(tmp_path.iterdir())
    with pytest.raises(UsageError, match="--period"):
        export_period(loaded["warehouse"], shipped_catalog.datasets["admin_penalty"], "2026-13", tmp_path)
    with pytest.raises(UsageError, match="basic"):
        basic = shipped_catalog.datasets["legal_entity_basic"]
        export_period(loaded["warehouse"], basic, "2026-06", tmp_path)


def test_lookup_before_any_refresh_says_what_to_run(tmp_path: Path, shipped_catalog: Catalog, capsys) -> None:
    url = f"duckdb:///{tmp_path}/empty.duckdb"
    assert main(["lookup", A, "--warehouse", url]) == 2
    assert "credit-etl warehouse init" in capsys.readouterr().err
    open_warehouse(url).init(shipped_catalog)
    assert main(["lookup", A, "--warehouse", url]) == 2
    assert "credit-etl marts refresh" in capsys.readouterr().err
    assert main(["marts", "refresh", "--warehouse", url]) == 0
    assert "marts refreshed (full" in capsys.readouterr().out
    assert main(["lookup", A, "--warehouse", url]) == 1
    assert "no subject matches" in capsys.readouterr().out


def test_the_joint_lists_of_a_day_print_with_identity_numbers_masked(loaded: dict[str, Any], capsys) -> None:
    assert main(["marts", "lists", "--as-of", "2026-06-15", "--warehouse", loaded["url"]]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((e["subject_name"], e["list_name"]) for e in printed) == sorted([
        (NAMES[A], "安全生产失信联合惩戒对象名单"), (NAMES[A], "失信被执行人名单"),
        (NAMES[B], "安全生产失信联合惩戒对象名单"), (NAMES[C], "失信被执行人名单"),
    ])  # fmt: skip
    person = next(e for e in printed if e["subject_name"] == NAMES[C])
    assert person["subject_key"] == idcard.mask(C) and C not in json.dumps(printed, ensure_ascii=False)
    assert main(["marts", "lists", "--as-of", "2026-06-15", "--kind", "red_list", "--warehouse",
                 loaded["url"]]) == 0  # fmt: skip
    assert capsys.readouterr().out == ""


def test_lookup_text_shows_the_latest_facts_first_up_to_a_limit(loaded: dict[str, Any], capsys) -> None:
    assert main(["lookup", D, "--facts", "1", "--as-of", "2026-12-10", "--warehouse", loaded["url"]]) == 0
    text = capsys.readouterr().out
    assert "facts: 4 (3 older not shown; --json has them all)" in text
    assert "柳市监罚〔2026〕4号" in text and "柳市监罚〔2026〕1号" not in text
    assert "KEY SUPERVISION TARGET" not in text  # on 2026-12-10 only two serious penalties are recent
