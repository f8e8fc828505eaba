"""Suites generated from the catalog: deterministic, committed, loadable by GX, faithful to the catalog."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etl.catalog import DEFAULT_CATALOG_DIR, Condition, load_catalog
from etl.cli import COMMAND_MODULES, main
from etl.errors import CatalogError
from etl.validate import suites


def run_cli(*argv: str) -> int:
    return main(["expectations", *argv])


def by_type(suite: dict, kind: str) -> list[dict]:
    return [e for e in suite["expectations"] if e["type"] == kind]


def test_committed_suites_match_the_catalog(capsys):
    assert run_cli("build", "--check") == 0
    assert "suites up to date: 18 datasets" in capsys.readouterr().out
    assert suites.drift(load_catalog()) == []


def test_the_command_is_registered():
    assert "etl.cli.expectations_cmd" in COMMAND_MODULES


def test_generation_is_deterministic(admin_penalty):
    first = suites.render_suite(suites.build_suite(admin_penalty))
    again = suites.render_suite(suites.build_suite(load_catalog().datasets["admin_penalty"]))
    assert first == again
    assert json.loads(first)["id"] is None


def test_check_lists_drift_and_writes_nothing(tmp_path, capsys):
    work = tmp_path / "expectations"
    shutil.copytree(suites.DEFAULT_SUITES_DIR, work)
    (work / "admin_penalty.json").write_text("{}\n", encoding="utf-8")
    (work / "licensed_physician.json").unlink()
    (work / "retired_dataset.json").write_text("{}\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in work.iterdir()}

    assert run_cli("build", "--check", "--suites", str(work)) == 1
    out = capsys.readouterr().out
    assert f"changed: {work / 'admin_penalty.json'}" in out
    assert f"missing: {work / 'licensed_physician.json'}" in out
    assert f"stale: {work / 'retired_dataset.json'}" in out
    assert {p.name: p.read_bytes() for p in work.iterdir()} == before

    assert run_cli("build", "--suites", str(work)) == 0
    assert run_cli("build", "--check", "--suites", str(work)) == 0
    assert not (work / "retired_dataset.json").exists()
    assert (work / "admin_penalty.json").read_bytes() == (
        suites.DEFAULT_SUITES_DIR / "admin_penalty.json"
    ).read_bytes()


def test_a_catalog_edit_shows_up_as_drift(tmp_path):
    catalog_dir = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, catalog_dir)
    path = catalog_dir / "datasets" / "admin_penalty.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("max_length: 128", "max_length: 100"), encoding="utf-8"
    )
    assert suites.drift(load_catalog(catalog_dir)) == [("admin_penalty.json", "changed")]


def test_gx_loads_every_suite_as_written():
    texts = [p.read_text(encoding="utf-8") for p in sorted(suites.DEFAULT_SUITES_DIR.glob("*.json"))]
    suites.check_loadable(texts)  # raises if GX drops or rewrites anything


def test_field_rules_map_to_expectations(admin_penalty):
    suite = suites.build_suite(admin_penalty)
    not_null = {e["kwargs"]["column"] for e in by_type(suite, "expect_column_values_to_not_be_null")}
    assert not_null == {f.name for f in admin_penalty.fields if f.required}
    lengths = {
        e["kwargs"]["column"]: e["kwargs"]["max_value"]
        for e in by_type(suite, "expect_column_value_lengths_to_be_between")
    }
    assert lengths == {f.name: f.max_length for f in admin_penalty.fields if f.max_length}
    (in_set,) = by_type(suite, "expect_column_values_to_be_in_set")
    assert in_set["kwargs"] == {
        "column": "subject_category",
        "value_set": ["法人及非法人组织", "自然人", "个体工商户"],
    }
    regexes = {
        e["kwargs"]["column"]: e["meta"]["rule"]
        for e in by_type(suite, "expect_column_values_to_match_regex")
    }
    assert regexes == {
        "tax_reg_no": "pattern",
        "updated_at": "pattern",
        "legal_rep_id_type": "allowed",
        "id_type": "allowed",
        "penalty_types": "allowed",
    }
    codes = {
        e["kwargs"]["column"]: e["type"].removeprefix("expect_column_values_to_be_valid_")
        for e in suite["expectations"]
        if e["type"].startswith("expect_column_values_to_be_valid_")
    }
    assert codes == {f.name: f.type for f in admin_penalty.fields if f.is_code}
    future = by_type(suite, "expect_column_values_to_not_be_in_the_future")
    assert [e["kwargs"]["column"] for e in future] == ["decision_date"]


def test_every_expectation_says_where_and_what(catalog):
    for dataset in catalog.datasets.values():
        suite = suites.build_suite(dataset)
        for expectation in suite["expectations"]:
            meta = expectation["meta"]
            assert meta["field"] in dataset.field_names
            assert meta["rule"] and meta["message"]
            meta["message"].format_map(
                {k: "x" for k in ("value", "length", "items", "detail", "left", "right")}
            )
        dedup = suite["meta"]["credit_etl"]["dedup"]
        assert dedup["fields"] == list(dataset.dedup_key)
        assert "{first_row}" in dedup["message"]


def test_placeholder_is_left_to_the_rule_only_where_one_exists(admin_penalty):
    suite = suites.build_suite(admin_penalty)
    usccs = {
        e["kwargs"]["column"]: e["kwargs"] for e in by_type(suite, "expect_column_values_to_be_valid_uscc")
    }
    assert usccs["uscc"].get("accept_placeholder") is True
    assert "accept_placeholder" not in usccs["authority_uscc"]
    assert "accept_placeholder" not in usccs["source_unit_uscc"]


def test_type_when_becomes_a_row_condition(admin_penalty):
    suite = suites.build_suite(admin_penalty)
    (id_no,) = [
        e
        for e in by_type(suite, "expect_column_values_to_be_valid_idcard")
        if e["kwargs"]["column"] == "id_no"
    ]
    assert id_no["kwargs"]["row_condition"] == {
        "column": {"name": "id_type"},
        "operator": "==",
        "parameter": "身份证",
        "type": "comparison",
    }


def test_type_when_contains_is_refused(admin_penalty):
    fields = tuple(
        f.model_copy(update={"type_when": Condition(field="penalty_types", contains="罚款")})
        if f.name == "id_no"
        else f
        for f in admin_penalty.fields
    )
    with pytest.raises(CatalogError, match="type_when supports 'equals' and 'in'"):
        suites.build_suite(admin_penalty.model_copy(update={"fields": fields}))


def test_cross_field_rules(catalog):
    penalty = suites.build_suite(catalog.datasets["admin_penalty"])
    require = {e["meta"]["rule"]: e["kwargs"] for e in by_type(penalty, "expect_columns_to_be_filled_when")}
    assert require["fine_needs_amount"] == {
        "column_list": ["penalty_types", "fine_amount"],
        "when": {"field": "penalty_types", "contains": "罚款", "separator": ";"},
        "required": ["fine_amount"],
    }
    (one_of,) = by_type(penalty, "expect_any_of_columns_to_be_filled")
    assert one_of["kwargs"]["when"] == {"field": "subject_category", "in": ["法人及非法人组织", "个体工商户"]}
    assert one_of["kwargs"]["column_list"][-1] == "subject_category"
    (compare,) = by_type(penalty, "expect_column_pair_values_a_to_be_greater_than_b")
    assert compare["kwargs"]["column_A"] == "valid_until" and compare["kwargs"]["or_equal"] is True

    licensing = suites.build_suite(catalog.datasets["admin_licensing"])
    rules = {r.id: r for r in catalog.datasets["admin_licensing"].rules if r.kind == "compare"}
    for expectation in by_type(licensing, "expect_column_pair_values_a_to_be_greater_than_b"):
        rule = rules[expectation["meta"]["rule"]]
        assert rule.op == "<="  # "left <= right" is checked as "right >= left"
        assert (expectation["kwargs"]["column_A"], expectation["kwargs"]["column_B"]) == (
            rule.right,
            rule.left,
        )


def test_catalog_text_cannot_break_a_template(admin_penalty):
    (pattern,) = [
        e
        for e in by_type(suites.build_suite(admin_penalty), "expect_column_values_to_match_regex")
        if e["kwargs"]["column"] == "tax_reg_no"
    ]
    assert (
        pattern["meta"]["message"]
        .format(value="abc")
        .endswith("（格式规则：^[0-9A-Z]{15,20}$），请核对后重新填写")
    )


def test_importing_validate_leaves_gx_unloaded():
    code = "import sys, etl.validate, etl.cli.expectations_cmd; print('great_expectations' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == "False"
